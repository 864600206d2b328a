/**
 * One profiled inference for the side-by-side scripts (`scripts/*-ab.ts`): every launch's GPU time from one
 * pass with a timestamp pair per launch, then the whole pass's time from a second pass with one pair around it
 * (per-launch timestamps slow the pass down themselves).
 */
import { GpuProfiler } from '../src/gpu/profiler.ts';
import type { CompiledModel } from '../src/runtime/compiled-model.ts';

export async function profilePass(device: GPUDevice, model: CompiledModel): Promise<{ stepsMs: Float64Array; wholeMs: number }> {
  const profiler = new GpuProfiler(device, model.dispatchCount);
  try {
    let encoder = device.createCommandEncoder();
    model.encode(encoder, (s) => profiler.timestampWrites(s));
    profiler.resolve(encoder, model.dispatchCount);
    device.queue.submit([encoder.finish()]);
    const steps = await profiler.read(model.dispatchCount);
    encoder = device.createCommandEncoder();
    profiler.mark(encoder, 0, 'begin');
    model.encode(encoder);
    profiler.mark(encoder, 0, 'end');
    profiler.resolve(encoder, 1);
    device.queue.submit([encoder.finish()]);
    const all = await profiler.read(1);
    return { stepsMs: steps.durationsMs, wholeMs: all.durationsMs[0] };
  } finally {
    profiler.destroy();
  }
}
