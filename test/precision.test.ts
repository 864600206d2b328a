/**
 * The `precision` compile option on real devices: SwiftShader (no `shader-f16`) for what every adapter does, and
 * Dawn's null backend (which has `shader-f16` but computes nothing) to compile whole models at native f16:
 * WGSL, pipelines, bind-group layouts and buffer sizes are validated there as on a GPU with the feature.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnsupportedFeatureError, WebcnnError } from '../src/errors.ts';
import { acquireDevice } from '../src/gpu/device.ts';
import { acquireNodeDevice, nodeGpu } from '../src/gpu/node-device.ts';
import { elementCount } from '../src/graph/ir.ts';
import { mobilenetV2, randomParams, resnet } from '../src/models/index.ts';
import { runGraphReference } from '../src/reference/index.ts';
import { compileModel, resolvePrecision } from '../src/runtime/compile.ts';
import { Rng } from '../src/util/random.ts';
import { buildCase, compareOutputs, f16Tolerance } from './gpu-cases.ts';
import { TILE_CASES } from './tile-cases.ts';

const block = buildCase({ kind: 'invertedResidual', n: 1, inC: 16, outC: 16, size: 8, stride: 1, expandRatio: 6 });

describe('precision on an adapter without shader-f16 (SwiftShader)', () => {
  let device: GPUDevice;
  beforeAll(async () => {
    device = (await acquireNodeDevice()).device;
  });
  afterAll(() => device?.destroy());

  it("'f16' is an UnsupportedFeatureError with a one-line message; 'auto' and the default are f32", async () => {
    expect(device.features.has('shader-f16')).toBe(false);
    const err = await compileModel(device, block.graph, { precision: 'f16' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsupportedFeatureError);
    expect(err).toBeInstanceOf(WebcnnError);
    expect((err as Error).message).toMatch(/shader-f16/);
    expect((err as Error).message).not.toMatch(/\n/);
    expect(resolvePrecision(device, 'auto')).toBe('f32');
    expect(resolvePrecision(device)).toBe('f32');
    expect(resolvePrecision(device, 'f16-packed')).toBe('f16-packed');
    expect(() => resolvePrecision(device, 'bf16' as never)).toThrow(UnsupportedFeatureError);
    const auto = await compileModel(device, block.graph, { precision: 'auto' });
    expect(auto.precision).toBe('f32');
    auto.dispose();
  });

  it("'f16-packed' halves activation and weight memory and stays within the f16 bar; recompile keeps it", async () => {
    const f32 = await compileModel(device, block.graph);
    const packed = await compileModel(device, block.graph, { precision: 'f16-packed' });
    expect(packed.precision).toBe('f16-packed');
    expect(packed.steps.every((s) => s.program.precision === 'f16-packed')).toBe(true);
    expect(packed.memory.activationPeakBytes).toBe(f32.memory.activationPeakBytes / 2);
    // Weights halve; the f32 biases do not.
    expect(packed.memory.weightBytes).toBeLessThan(0.6 * f32.memory.weightBytes);
    expect(packed.memory.weightBytes).toBeGreaterThan(0.5 * f32.memory.weightBytes);
    const x = new Rng(3).fill(elementCount(block.graph.tensors[block.graph.inputs[0]].shape), -1, 1);
    const ref = runGraphReference(block.graph, [x]);
    const cmp = compareOutputs(await packed.run([x]), ref, (m) => f16Tolerance(m, 'kernel'));
    expect(cmp.ok, `max error ${cmp.maxAbsError} (tolerance ${cmp.tolerance})`).toBe(true);
    // Same inputs and outputs as f32 (NCHW float32 at the edges), different storage.
    expect(packed.inputs).toEqual(f32.inputs);
    expect(packed.outputs).toEqual(f32.outputs);
    const again = await packed.recompile(device);
    expect(again.precision).toBe('f16-packed');
    expect(compareOutputs(await again.run([x]), ref, (m) => f16Tolerance(m, 'kernel')).ok).toBe(true);
    for (const m of [f32, packed, again]) m.dispose();
  });
});

describe('native f16 on a device with shader-f16 (Dawn null backend: compiles, does not compute)', () => {
  let device: GPUDevice | null = null;
  beforeAll(async () => {
    try {
      const acquired = await acquireDevice({ gpu: await nodeGpu(['backend=null']) });
      device = acquired.device;
    } catch (e) {
      console.warn(`skipping the null-backend f16 compile tests: ${(e as Error).message}`);
    }
  });
  afterAll(() => device?.destroy());

  it('acquireDevice requests shader-f16 when the adapter offers it (and not when told not to)', async (ctx) => {
    if (!device) return ctx.skip();
    expect(device.features.has('shader-f16')).toBe(true);
    const without = await acquireDevice({ gpu: await nodeGpu(['backend=null']), f16: false });
    expect(without.device.features.has('shader-f16')).toBe(false);
    without.device.destroy();
  });

  it("MobileNetV2 and ResNet compile at 'f16' and 'auto' (= f16) with no validation error", async (ctx) => {
    if (!device) return ctx.skip();
    expect(resolvePrecision(device, 'auto')).toBe('f16');
    const params = randomParams(2);
    const graphs = [
      mobilenetV2({ params, inputSize: 96, numClasses: 10, softmax: true, batch: 2 }),
      resnet({ params, inputSize: 64, layers: [1, 1, 1, 1], numClasses: 10 }),
    ];
    for (const graph of graphs) {
      for (const precision of ['f16', 'auto', 'f16-packed'] as const) {
        const model = await compileModel(device, graph, { precision });
        expect(model.precision).toBe(precision === 'auto' ? 'f16' : precision);
        expect(model.steps.every((s) => s.program.code.startsWith('enable f16;') === (model.precision === 'f16'))).toBe(true);
        model.dispose();
      }
    }
  });

  it("every tile variant the autotuner can pick (tile cases) compiles at 'f16'", async (ctx) => {
    if (!device) return ctx.skip();
    const failures: string[] = [];
    for (const t of TILE_CASES) {
      const { graph } = buildCase(t.case);
      await compileModel(device, graph, { kernels: t.kernels, precision: 'f16' }).then(
        (m) => m.dispose(),
        (e: Error) => failures.push(`${t.name}: ${e.message}`),
      );
    }
    expect(failures).toEqual([]);
  });
});
