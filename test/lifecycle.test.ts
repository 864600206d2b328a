/**
 * Model lifecycle on a real WebGPU device (Dawn in Node; SwiftShader without a GPU): queued concurrent runs,
 * constant GPU memory over 1,000 runs, dispose, device loss and recompiling on a new device.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceLostError, DisposedError, ShapeError } from '../src/errors.ts';
import { acquireNodeDevice } from '../src/gpu/node-device.ts';
import { elementCount } from '../src/graph/ir.ts';
import { runGraphReference } from '../src/reference/index.ts';
import { CompiledModel } from '../src/runtime/compiled-model.ts';
import { Rng } from '../src/util/random.ts';
import { buildCase, compareOutputs } from './gpu-cases.ts';

const small = buildCase({ kind: 'invertedResidual', n: 1, inC: 8, outC: 8, size: 6, stride: 1, expandRatio: 2 });
const inputLength = elementCount(small.graph.tensors[small.graph.inputs[0]].shape);

let device: GPUDevice;
beforeAll(async () => {
  device = (await acquireNodeDevice()).device;
});
afterAll(() => device?.destroy());

describe('CompiledModel lifecycle', () => {
  it('queues concurrent runs and gives each its own correct result', async () => {
    const model = await CompiledModel.compile(device, small.graph);
    const inputs = Array.from({ length: 8 }, (_, i) => new Rng(100 + i).fill(inputLength, -1, 1));
    const results = await Promise.all(inputs.map((x) => model.run([x])));
    results.forEach((out, i) => {
      const cmp = compareOutputs(out, runGraphReference(small.graph, [inputs[i]]));
      expect(cmp.ok, `run ${i}: max error ${cmp.maxAbsError}`).toBe(true);
    });
    model.dispose();
  });

  it('reports where compile spent its time: every phase finite, non-negative, and together within the total', async () => {
    const t0 = performance.now();
    const model = await CompiledModel.compile(device, small.graph);
    const wall = performance.now() - t0;
    const { totalMs, ...phases } = model.compileTimings;
    expect(Object.keys(phases).sort()).toEqual(['bindGroupsMs', 'buffersMs', 'lowerMs', 'optimizeMs', 'pipelinesMs', 'tuneMs', 'weightsMs']);
    for (const [name, ms] of Object.entries(phases)) expect(ms, name).toBeGreaterThanOrEqual(0);
    const sum = Object.values(phases).reduce((a, b) => a + b, 0);
    expect(sum).toBeLessThanOrEqual(totalMs + 1e-6);
    expect(totalMs).toBeLessThanOrEqual(wall + 1e-6);
    expect(sum).toBeGreaterThan(0.5 * totalMs); // the phases cover the compile, not a sliver of it
    model.dispose();
  });

  it('keeps GPU buffers and bytes constant over 1,000 runs and frees them all on dispose', async () => {
    const model = await CompiledModel.compile(device, small.graph);
    const x = new Rng(1).fill(inputLength, -1, 1);
    await model.run([x]);
    const after1 = model.memory;
    for (let i = 0; i < 999; i++) await model.run([x]);
    expect(model.memory.buffers).toBe(after1.buffers);
    expect(model.memory.bytes).toBe(after1.bytes);
    expect(after1.buffers).toBeGreaterThan(0);
    model.dispose();
    expect(model.memory.buffers).toBe(0);
    expect(model.memory.bytes).toBe(0);
  }, 120_000);

  it('rejects wrong inputs with ShapeError and calls after dispose with DisposedError', async () => {
    const model = await CompiledModel.compile(device, small.graph);
    await expect(model.run([new Float32Array(inputLength - 1)])).rejects.toThrow(ShapeError);
    await expect(model.run([])).rejects.toThrow(/takes 1 input/);
    model.dispose();
    await expect(model.run([new Float32Array(inputLength)])).rejects.toThrow(DisposedError);
  });

  it('rejects with DeviceLostError after the device is lost, and recompiles on a new device', async () => {
    const own = (await acquireNodeDevice()).device;
    const model = await CompiledModel.compile(own, small.graph);
    const x = new Rng(5).fill(inputLength, -1, 1);
    const [before] = await model.run([x]);
    own.destroy();
    await own.lost;
    await expect(model.run([x])).rejects.toThrow(DeviceLostError);
    expect(model.usable).toBe(false);
    const fresh = (await acquireNodeDevice()).device;
    const rebuilt = await model.recompile(fresh);
    const [again] = await rebuilt.run([x]);
    expect(Array.from(again)).toEqual(Array.from(before));
    rebuilt.dispose();
    fresh.destroy();
  });
});
