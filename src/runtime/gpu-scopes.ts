import { GpuError } from '../errors.ts';

/**
 * Runs `work` between an 'out-of-memory' and a 'validation' error scope pushed just before it and popped just
 * after it, with no `await` in between: the scope stack is the device's, so a scope left open across an `await`
 * would catch the errors of whatever else runs on the device meanwhile (another compile, the app's own work).
 * `error` resolves to the first error the work caused, or null.
 */
export function withErrorScopes<T>(device: GPUDevice, work: () => T): { value: T; error: Promise<GPUError | null> } {
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  let error!: Promise<GPUError | null>;
  let value: T;
  try {
    value = work();
  } finally {
    const validation = device.popErrorScope();
    const outOfMemory = device.popErrorScope();
    error = Promise.all([validation, outOfMemory]).then(([v, o]) => v ?? o);
    error.catch(() => undefined); // when `work` threw, nobody awaits it
  }
  return { value, error };
}

/** A device error as webcnn's one-line `GpuError`: what failed, then the first line of the device's message. */
export function gpuFailure(what: string, error: GPUError): GpuError {
  return new GpuError(`${what}: ${error.message.split('\n')[0]}`);
}

/** The first of two error-scope verdicts (either may be absent). */
export async function firstError(a: Promise<GPUError | null>, b: Promise<GPUError | null> | null): Promise<GPUError | null> {
  return (await a) ?? (b ? await b : null);
}
