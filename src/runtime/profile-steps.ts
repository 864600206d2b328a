import { GpuProfiler, observedResolutionMs } from '../gpu/profiler.ts';
import type { StepProfile } from './autotune.ts';
import type { CompiledModel } from './compiled-model.ts';

/** Median GPU time of every launch over `repeats` runs (after one warm-up), one timestamp pair per launch. */
export async function profileSteps(device: GPUDevice, model: CompiledModel, repeats: number): Promise<number[]> {
  return (await profileStepsDetailed(device, model, repeats)).mediansMs;
}

/** `profileSteps` with the timer resolution it observed. Inputs are pseudo-random, not zeros. */
export async function profileStepsDetailed(device: GPUDevice, model: CompiledModel, repeats: number): Promise<StepProfile> {
  const profiler = new GpuProfiler(device, model.dispatchCount);
  try {
    model.writeInputs(model.inputs.map((i) => new Float32Array(i.shape.reduce((a, b) => a * b, 1)).map((_, k) => Math.sin(k * 0.7071) * 0.5)));
    const samples: number[][] = model.steps.map(() => []);
    let resolutionMs = Infinity;
    for (let run = 0; run <= repeats; run++) {
      const encoder = device.createCommandEncoder({ label: 'tuning' });
      model.encode(encoder, (i) => profiler.timestampWrites(i));
      profiler.resolve(encoder, model.dispatchCount);
      device.queue.submit([encoder.finish()]);
      const { durationsMs, timestampsNs } = await profiler.read(model.dispatchCount);
      if (run === 0) continue;
      durationsMs.forEach((ms, i) => samples[i].push(ms));
      resolutionMs = Math.min(resolutionMs, observedResolutionMs(timestampsNs));
    }
    const mediansMs = samples.map((s) => {
      const sorted = [...s].sort((a, b) => a - b);
      return sorted[Math.floor(sorted.length / 2)] ?? Infinity;
    });
    return { mediansMs, resolutionMs };
  } finally {
    profiler.destroy();
  }
}

