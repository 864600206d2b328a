/**
 * Test helper: compiles WGSL programs with Tint (Dawn's WGSL compiler) on Dawn's null backend, which offers
 * `shader-f16` where the software adapters do not, so native f16 WGSL is validated on any machine.
 */
import type { KernelProgram } from '../shaders/common.ts';

/**
 * One line per program that fails (shader-module errors, pipeline creation or a validation error), or null when
 * no null-backend device with `shader-f16` can be had here (the caller skips).
 */
export async function tintFailures(programs: readonly { readonly name: string; readonly make: () => KernelProgram }[]): Promise<string[] | null> {
  let device: GPUDevice;
  try {
    const { nodeGpu } = await import('../src/gpu/node-device.ts');
    const adapter = await (await nodeGpu(['backend=null'])).requestAdapter();
    if (!adapter?.features.has('shader-f16')) throw new Error('the null adapter has no shader-f16');
    device = await adapter.requestDevice({ requiredFeatures: ['shader-f16'] });
  } catch (e) {
    console.warn(`skipping WGSL validation: ${(e as Error).message}`);
    return null;
  }
  try {
    const failures: string[] = [];
    for (const g of programs) {
      const p = g.make();
      device.pushErrorScope('validation');
      const module = device.createShaderModule({ label: p.key, code: p.code });
      const info = await module.getCompilationInfo();
      const pipeline = await device
        .createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main' } })
        .then(() => null, (e: Error) => e.message.split('\n')[0]);
      const scope = await device.popErrorScope();
      const errors = info.messages.filter((m) => m.type === 'error').map((m) => `line ${m.lineNum}: ${m.message}`);
      if (errors.length || pipeline || scope) failures.push(`${g.name}: ${[...errors, pipeline, scope?.message].filter(Boolean).join('; ')}`);
    }
    return failures;
  } finally {
    device.destroy();
  }
}
