/**
 * What the side-by-side scripts (`scripts/*-ab.ts`) share: a device with unquantized timestamps, one profiled
 * inference (every launch's GPU time from one pass with a timestamp pair per launch, then the whole pass's time
 * from a second pass with one pair around it: per-launch timestamps slow the pass down themselves), and the
 * variants' outputs on one seeded input.
 */
import { acquireNodeDevice } from '../src/gpu/node-device.ts';
import { GpuProfiler } from '../src/gpu/profiler.ts';
import type { Graph } from '../src/graph/ir.ts';
import type { CompiledModel } from '../src/runtime/compiled-model.ts';
import { Rng } from '../src/util/random.ts';

/** A Dawn device with `timestamp-query` and Dawn's timestamp quantization off; throws where there is none. */
export async function acquireProfilingDevice(): Promise<Awaited<ReturnType<typeof acquireNodeDevice>>> {
  const acquired = await acquireNodeDevice({ timestamps: true, flags: ['disable-dawn-features=timestamp_quantization'] });
  if (!GpuProfiler.supported(acquired.device)) throw new Error('the adapter has no timestamp-query');
  return acquired;
}

/** Every model's first output on the same seeded input in [-1, 1] of `graph`'s input shape. */
export async function outputsOnSeededInput(graph: Graph, models: readonly CompiledModel[]): Promise<Float32Array[]> {
  const shape = graph.tensors[graph.inputs[0]].shape;
  const x = new Rng(2).fill(shape.reduce((a, b) => a * b, 1), -1, 1);
  const outputs: Float32Array[] = [];
  for (const m of models) outputs.push((await m.run([x]))[0]);
  return outputs;
}

/** max |a - b| over the elements of `a`. */
export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  for (let k = 0; k < a.length; k++) diff = Math.max(diff, Math.abs(a[k] - b[k]));
  return diff;
}

/** Every launch's GPU time from one pass with a timestamp pair per launch, ms. */
export async function profileSteps(device: GPUDevice, model: CompiledModel): Promise<Float64Array> {
  const profiler = new GpuProfiler(device, model.dispatchCount);
  try {
    const encoder = device.createCommandEncoder();
    model.encode(encoder, (s) => profiler.timestampWrites(s));
    profiler.resolve(encoder, model.dispatchCount);
    device.queue.submit([encoder.finish()]);
    return (await profiler.read(model.dispatchCount)).durationsMs;
  } finally {
    profiler.destroy();
  }
}

export async function profilePass(device: GPUDevice, model: CompiledModel): Promise<{ stepsMs: Float64Array; wholeMs: number }> {
  const stepsMs = await profileSteps(device, model);
  const profiler = new GpuProfiler(device, 1);
  try {
    const encoder = device.createCommandEncoder();
    profiler.mark(encoder, 0, 'begin');
    model.encode(encoder);
    profiler.mark(encoder, 0, 'end');
    profiler.resolve(encoder, 1);
    device.queue.submit([encoder.finish()]);
    const all = await profiler.read(1);
    return { stepsMs, wholeMs: all.durationsMs[0] };
  } finally {
    profiler.destroy();
  }
}
