/**
 * Model lifecycle on a real WebGPU device (Dawn in Node; SwiftShader without a GPU): queued concurrent runs,
 * inputs read when `run` is called, failed submits that reject, compile's error scopes, constant GPU memory over
 * 1,000 runs, dispose, device loss and recompiling on a new device.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DeviceLostError, DisposedError, GpuError, ShapeError } from '../src/errors.ts';
import { acquireNodeDevice, nodeGpu } from '../src/gpu/node-device.ts';
import { elementCount } from '../src/graph/ir.ts';
import { runGraphReference } from '../src/reference/index.ts';
import { compileModel } from '../src/runtime/compile.ts';
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

/** V8's collector, reachable without starting Node with --expose-gc. */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

describe('memory held for models and devices', () => {
  it('lets disposed models be collected while their device lives on', async () => {
    const gc = collector();
    const refs: WeakRef<CompiledModel>[] = [];
    for (let i = 0; i < 12; i++) {
      const model = await compileModel(device, small.graph);
      refs.push(new WeakRef(model));
      model.dispose();
    }
    // Collect until every model is gone, giving the collector up to 20 chances: a number of collections, not a
    // time. Between them the device finishes its work and the event loop turns (a WeakRef's target is kept
    // alive until the job that read it ends).
    const freed = () => refs.filter((r) => r.deref() === undefined).length;
    for (let round = 0; round < 20 && freed() < refs.length; round++) {
      await device.queue.onSubmittedWorkDone();
      await new Promise((r) => setImmediate(r));
      gc();
    }
    // Each model's graph and weights stayed reachable from `device.lost` until the device went (0 of 12 freed).
    expect(freed()).toBeGreaterThanOrEqual(10);
  });

  it('reuses one Dawn instance per set of options (each holds native memory for the life of the process)', async () => {
    expect(await nodeGpu()).toBe(await nodeGpu());
    expect(await nodeGpu(['enable-dawn-features=allow_unsafe_apis'])).not.toBe(await nodeGpu());
  });
});

describe('CompiledModel lifecycle', () => {
  it('queues concurrent runs and gives each its own correct result', async () => {
    const model = await compileModel(device, small.graph);
    const inputs = Array.from({ length: 8 }, (_, i) => new Rng(100 + i).fill(inputLength, -1, 1));
    const results = await Promise.all(inputs.map((x) => model.run([x])));
    results.forEach((out, i) => {
      const cmp = compareOutputs(out, runGraphReference(small.graph, [inputs[i]]));
      expect(cmp.ok, `run ${i}: max error ${cmp.maxAbsError}`).toBe(true);
    });
    model.dispose();
  });

  it('reports where compile spent its time: every phase finite, non-negative, and together within the total', async () => {
    // A clock that advances 1 ms per reading, so that the figures depend on what compile measures, not on how
    // busy the machine is (a descheduled moment outside the phases could otherwise exceed the phases).
    let fake = 0;
    const clock = vi.spyOn(performance, 'now').mockImplementation(() => ++fake);
    let model: CompiledModel;
    let wall: number;
    try {
      const t0 = performance.now();
      model = await compileModel(device, small.graph);
      wall = performance.now() - t0;
    } finally {
      clock.mockRestore();
    }
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
    const model = await compileModel(device, small.graph);
    const x = new Rng(1).fill(inputLength, -1, 1);
    await model.run([x]);
    // The tiered compile replaces the first kernels' buffers once (test/upgrade.test.ts); constant from there.
    await model.whenUpgraded();
    await model.run([x]); // frees the body the upgrade replaced
    const after1 = model.memory;
    for (let i = 0; i < 999; i++) await model.run([x]);
    expect(model.memory.buffers).toBe(after1.buffers);
    expect(model.memory.bytes).toBe(after1.bytes);
    expect(after1.buffers).toBeGreaterThan(0);
    expect(after1.weightBytes).toBeGreaterThan(0);
    model.dispose();
    // What the model holds is all zero; the memory plan's figures describe the graph and stay.
    expect(model.memory).toEqual({ ...after1, buffers: 0, bytes: 0, weightBytes: 0, scratchBytes: 0 });
  }, 120_000);

  it('rejects wrong inputs with ShapeError and calls after dispose with DisposedError', async () => {
    const model = await compileModel(device, small.graph);
    await expect(model.run([new Float32Array(inputLength - 1)])).rejects.toThrow(ShapeError);
    await expect(model.run([])).rejects.toThrow(/takes 1 input/);
    model.dispose();
    await expect(model.run([new Float32Array(inputLength)])).rejects.toThrow(DisposedError);
  });

  it('reads the inputs when run is called: changing an array afterwards does not change that run', async () => {
    const model = await compileModel(device, small.graph);
    const a = new Rng(11).fill(inputLength, -1, 1);
    const b = new Rng(12).fill(inputLength, -1, 1);
    const [a0, b0] = [a.slice(), b.slice()];
    // The first run finds the queue idle (written at once), the second queues behind it (kept as a copy).
    const first = model.run([a]);
    const second = model.run([b]);
    a.fill(7);
    b.fill(-7);
    const [outA, outB] = await Promise.all([first, second]);
    expect(compareOutputs(outA, runGraphReference(small.graph, [a0])).ok).toBe(true);
    expect(compareOutputs(outB, runGraphReference(small.graph, [b0])).ok).toBe(true);
    model.dispose();
  });

  it('takes inputs in shared memory, which Dawn cannot upload directly', async () => {
    const model = await compileModel(device, small.graph);
    const x = new Rng(13).fill(inputLength, -1, 1);
    const shared = new Float32Array(new SharedArrayBuffer(inputLength * 4));
    shared.set(x);
    const out = await model.run([shared]);
    expect(compareOutputs(out, runGraphReference(small.graph, [x])).ok).toBe(true);
    model.dispose();
  });

  it('rejects a run whose submit fails with GpuError, instead of returning the previous outputs, and runs on after', async () => {
    const model = await compileModel(device, small.graph);
    const x = new Rng(14).fill(inputLength, -1, 1);
    const [good] = await model.run([x]);
    // Copying a buffer onto itself is a validation error: the command buffer, so the whole submit, is invalid.
    const input = model.rawInputBuffer(0);
    await expect(model.runWith((encoder) => encoder.copyBufferToBuffer(input, 0, input, 0, 4))).rejects.toThrow(GpuError);
    await expect(model.runWith((encoder) => encoder.copyBufferToBuffer(input, 0, input, 0, 4))).rejects.toThrow(/the run failed on the GPU/);
    const [again] = await model.run([x]);
    expect(Array.from(again)).toEqual(Array.from(good));
    model.dispose();
  });

  it("does not blame a compile for another caller's GPU error while it waits for its pipelines", async () => {
    const uncaptured: string[] = [];
    const own = (await acquireNodeDevice()).device;
    let reported: () => void;
    const firstReport = new Promise<void>((done) => (reported = done));
    own.onuncapturederror = (e) => {
      uncaptured.push(e.error.message);
      e.preventDefault();
      reported();
    };
    const compiling = compileModel(own, small.graph);
    // An invalid buffer (MAP_READ with MAP_WRITE) made by someone else while the compile awaits its pipelines.
    own.createBuffer({ size: 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.MAP_WRITE });
    const model = await compiling;
    const x = new Rng(15).fill(inputLength, -1, 1);
    const out = await model.run([x]);
    expect(compareOutputs(out, runGraphReference(small.graph, [x])).ok).toBe(true);
    // The error reaches the device's handler (awaited, not timed: were it swallowed, the test would time out).
    await firstReport;
    expect(uncaptured.some((m) => /usage/i.test(m)), uncaptured.join('; ')).toBe(true);
    model.dispose();
    own.destroy();
  });

  it('refuses to encode after dispose, and names a missing input buffer', async () => {
    const model = await compileModel(device, small.graph);
    expect(() => model.rawInputBuffer(1)).toThrow(/input 1 does not exist \(the model has 1\)/);
    model.dispose();
    const encoder = device.createCommandEncoder();
    expect(() => model.encode(encoder)).toThrow(DisposedError);
    expect(() => model.encodeStep(encoder, 0)).toThrow(DisposedError);
    expect(() => model.writeInputs([new Float32Array(inputLength)])).toThrow(DisposedError);
  });

  it('rejects with DeviceLostError after the device is lost, and recompiles on a new device', async () => {
    const own = (await acquireNodeDevice()).device;
    const model = await compileModel(own, small.graph);
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

  it('rejects a compile on a lost device with DeviceLostError and frees what it made, also with its pipelines cached', async () => {
    for (const warm of [false, true]) {
      const own = (await acquireNodeDevice()).device;
      if (warm) (await compileModel(own, small.graph)).dispose();
      // Every buffer the compile makes is recorded, and whether it was destroyed.
      const made: GPUBuffer[] = [];
      const destroyed = new Set<GPUBuffer>();
      const createBuffer = own.createBuffer.bind(own);
      vi.spyOn(own, 'createBuffer').mockImplementation((descriptor) => {
        const buffer = createBuffer(descriptor);
        const destroy = buffer.destroy.bind(buffer);
        buffer.destroy = () => {
          destroyed.add(buffer);
          destroy();
        };
        made.push(buffer);
        return buffer;
      });
      own.destroy();
      const error = await compileModel(own, small.graph).catch((e: unknown) => e);
      expect(error, `warm ${warm}`).toBeInstanceOf(DeviceLostError);
      expect((error as Error).message).toMatch(/^the GPU device was lost \(.*\) while compiling; compile on a new device$/);
      expect(made.length).toBeGreaterThan(0);
      expect(made.filter((b) => !destroyed.has(b))).toEqual([]);
      vi.restoreAllMocks();
    }
  });
});
