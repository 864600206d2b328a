/**
 * Tiered compilation on a real WebGPU device (Dawn in Node; SwiftShader without a GPU): a model compiled with the
 * defaults runs on the quick-to-compile kernels, moves to the upgrade's after `afterRuns` runs without changing
 * one bit of its outputs, and frees the first kernels' buffers; disposal, device loss and explicit choices stop
 * or skip the upgrade.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceLostError, UnsupportedFeatureError } from '../src/errors.ts';
import type { UpgradePlan } from '../src/runtime/compile-options.ts';
import { acquireNodeDevice } from '../src/gpu/node-device.ts';
import { elementCount } from '../src/graph/ir.ts';
import { runGraphReference } from '../src/reference/index.ts';
import { compileModel } from '../src/runtime/compile.ts';
import { DEFAULT_KERNEL_CHOICE, SOFTWARE_UPGRADE_KERNELS, defaultUpgrade } from '../src/runtime/kernel-choice.ts';
import { Rng } from '../src/util/random.ts';
import type { ConvCase } from './gpu-cases.ts';
import { buildCase, compareOutputs } from './gpu-cases.ts';

// Expand 8 -> 32 (1x1), depthwise 3x3, project 32 -> 16 (1x1) on a 10 x 10 map: the upgrade gives both 1x1 convs
// other pointwise tiles and the depthwise conv a fitted rolling tile.
const block = buildCase({ kind: 'invertedResidual', n: 1, inC: 8, outC: 16, size: 10, stride: 1, expandRatio: 4 });
const input = new Rng(5).fill(elementCount(block.graph.tensors[block.graph.inputs[0]].shape), -1, 1);
const plan = { kernels: SOFTWARE_UPGRADE_KERNELS, afterRuns: 2 };

let device: GPUDevice;
beforeAll(async () => {
  device = (await acquireNodeDevice()).device;
});
afterAll(() => device?.destroy());

describe('tiered compilation', () => {
  it('upgrades software adapters by default, and nothing when kernels, tuning or upgrade: false are given', async () => {
    expect(defaultUpgrade({ vendor: 'google', architecture: 'swiftshader', description: 'SwiftShader Device (Subzero)' })?.kernels).toBe(SOFTWARE_UPGRADE_KERNELS);
    expect(defaultUpgrade({ vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H200' })).toBeNull();
    const byDefault = await compileModel(device, block.graph);
    const explicit = await compileModel(device, block.graph, { kernels: DEFAULT_KERNEL_CHOICE });
    const off = await compileModel(device, block.graph, { upgrade: false });
    expect(byDefault.upgrade.state).toBe('waiting');
    expect(explicit.upgrade.state).toBe('none');
    expect(off.upgrade.state).toBe('none');
    expect(await off.whenUpgraded()).toBe(false);
    for (const m of [byDefault, explicit, off]) m.dispose();
  });

  it('moves to the upgrade after afterRuns runs: same bits out, other pipelines, the first kernels freed', async () => {
    const model = await compileModel(device, block.graph, { upgrade: plan });
    const first = (await model.run([input]))[0];
    expect(compareOutputs([first], runGraphReference(block.graph, [input])).ok).toBe(true);
    const before = { keys: model.steps.map((s) => s.program.key), memory: model.memory, kernels: model.kernels };
    expect(model.upgrade.state).toBe('waiting');
    // The second run starts it; runs called while it compiles run on the first kernels.
    const during = await Promise.all([model.run([input]), model.run([input])]);
    expect(['compiling', 'done']).toContain(model.upgrade.state);
    expect(await model.whenUpgraded()).toBe(true);
    expect(model.upgrade).toEqual({ state: 'done' });
    expect(model.kernels).toBe(SOFTWARE_UPGRADE_KERNELS);
    expect(before.kernels).not.toBe(SOFTWARE_UPGRADE_KERNELS);
    const after = model.steps.map((s) => s.program.key);
    const changed = after.filter((k, i) => k !== before.keys[i]);
    expect(changed.filter((k) => k.startsWith('pointwise/'))).toHaveLength(2);
    expect(changed.filter((k) => k.startsWith('depthwise'))).toHaveLength(1);
    const upgraded = (await model.run([input]))[0];
    for (const out of [...during.map((d) => d[0]), upgraded]) expect(Array.from(out)).toEqual(Array.from(first));
    // The first kernels' buffers are gone: the model holds one body's worth, not two.
    expect(model.memory.buffers).toBe(before.memory.buffers);
    expect(model.memory.activationPeakBytes).toBe(before.memory.activationPeakBytes);
    expect(model.memory.bytes).toBeLessThan(1.5 * before.memory.bytes);
    model.dispose();
    expect(model.memory.buffers).toBe(0);
  });

  it("gives the first tier's bits on other kernels: grouped convs on the row form, a padded pointwise tile", async () => {
    const conv = (c: Partial<ConvCase>): ConvCase => ({
      kind: 'conv', n: 1, inC: 32, h: 11, w: 13, outC: 32, kernel: 3, stride: 1, pad: 1, groups: 4, bias: true, activation: 'relu', residual: false, ...c,
    });
    const cases: [ConvCase, string][] = [
      // 8 and 4 channels per group (the unrolled loop over input vec4s), stride 2, batch 2, dilation 2, residual.
      [conv({ stride: 2, batchNorm: true }), 'grouped-rows/k3x3/s2x2/i2/'],
      [conv({ n: 2, groups: 8, dilation: 2, pad: 2, residual: true }), 'grouped-rows/k3x3/s1x1/d2x2/i1/'],
      // 16 per group: the loop.
      [conv({ inC: 64, outC: 64, stride: 2 }), 'grouped-rows/k3x3/s2x2/p'],
      // 52 channels: the pointwise rule pads the last group of 8 vec4s.
      [conv({ inC: 20, h: 7, w: 7, outC: 52, kernel: 1, pad: 0, groups: 1 }), 'pointwise/p16v8'],
    ];
    for (const [c, key] of cases) {
      const built = buildCase(c);
      const xs = built.graph.inputs.map((id, i) => new Rng(9 + i).fill(elementCount(built.graph.tensors[id].shape), -1, 1));
      const first = await compileModel(device, built.graph, { kernels: DEFAULT_KERNEL_CHOICE });
      const upgraded = await compileModel(device, built.graph, { kernels: SOFTWARE_UPGRADE_KERNELS });
      expect(upgraded.steps.some((st) => st.program.key.startsWith(key)), key).toBe(true);
      expect(first.steps.some((st) => st.program.key.startsWith(key)), key).toBe(false);
      const [a, b] = [(await first.run(xs))[0], (await upgraded.run(xs))[0]];
      expect(Array.from(b), key).toEqual(Array.from(a));
      first.dispose();
      upgraded.dispose();
    }
  });

  it('whenUpgraded starts a waiting upgrade at once; runs queued across the swap each get their own result', async () => {
    const model = await compileModel(device, block.graph, { upgrade: { ...plan, afterRuns: 1000 } });
    const inputs = Array.from({ length: 6 }, (_, i) => new Rng(40 + i).fill(input.length, -1, 1));
    const swapped = model.whenUpgraded();
    expect(model.upgrade.state).toBe('compiling');
    const results = await Promise.all([...inputs.map((x) => model.run([x])), swapped.then(() => model.run([inputs[0]]))]);
    expect(await swapped).toBe(true);
    results.forEach((out, i) => {
      const cmp = compareOutputs(out, runGraphReference(block.graph, [inputs[i % inputs.length]]));
      expect(cmp.ok, `run ${i}: max error ${cmp.maxAbsError}`).toBe(true);
    });
    expect(Array.from(results[6][0])).toEqual(Array.from(results[0][0]));
    model.dispose();
  });

  it('keeps the replaced body until the next run completes: commands recorded before the swap still submit', async () => {
    const model = await compileModel(device, block.graph, { upgrade: { ...plan, afterRuns: 1000 } });
    model.writeInputs([input]);
    const encoder = device.createCommandEncoder();
    model.encode(encoder);
    const onFirst = model.memory.buffers;
    expect(await model.whenUpgraded()).toBe(true);
    // Both bodies are held now (the edges once): the memory report counts them.
    const both = model.memory.buffers;
    expect(both).toBeGreaterThan(onFirst);
    device.pushErrorScope('validation');
    device.queue.submit([encoder.finish()]);
    expect(await device.popErrorScope()).toBeNull();
    await model.run([input]);
    expect(model.memory.buffers).toBe(onFirst);
    model.dispose();
  });

  it('starts at once with afterRuns: 0', async () => {
    const model = await compileModel(device, block.graph, { upgrade: { ...plan, afterRuns: 0 } });
    expect(model.upgrade.state).toBe('compiling');
    expect(await model.whenUpgraded()).toBe(true);
    model.dispose();
  });

  it('abandons the upgrade when the model is disposed while it compiles', async () => {
    const model = await compileModel(device, block.graph, { upgrade: plan });
    const swapped = model.whenUpgraded();
    model.dispose();
    expect(await swapped).toBe(false);
    expect(model.upgrade.state).toBe('abandoned');
    expect(model.memory.buffers).toBe(0);
  });

  it('abandons it when the device is lost, and a recompiled model upgrades again', async () => {
    const own = (await acquireNodeDevice()).device;
    const model = await compileModel(own, block.graph, { upgrade: plan });
    await model.run([input]);
    const swapped = model.whenUpgraded();
    own.destroy();
    expect(await swapped).toBe(false);
    expect(model.upgrade.state).toBe('abandoned');
    await expect(model.run([input])).rejects.toThrow(DeviceLostError);
    const again = await model.recompile(device);
    expect(again.upgrade.state).toBe('waiting');
    expect(await again.whenUpgraded()).toBe(true);
    expect(compareOutputs(await again.run([input]), runGraphReference(block.graph, [input])).ok).toBe(true);
    again.dispose();
  });

  it('checks the upgrade when compiling: a bad plan is refused before anything runs', async () => {
    const badTile = { ...SOFTWARE_UPGRADE_KERNELS, pointwise: { family: 'pointwise' as const, pixelsPerThread: 0, vec4sPerThread: 2 } };
    await expect(compileModel(device, block.graph, { upgrade: { kernels: badTile, afterRuns: 3 } })).rejects.toThrow(/pointwise/);
    await expect(compileModel(device, block.graph, { upgrade: { kernels: SOFTWARE_UPGRADE_KERNELS, afterRuns: -1 } })).rejects.toThrow(/afterRuns/);
    const otherPasses = { kernels: { ...SOFTWARE_UPGRADE_KERNELS, fusePoolLinear: true }, afterRuns: 3 };
    await expect(compileModel(device, block.graph, { upgrade: otherPasses })).rejects.toThrow(/^upgrade\.kernels\.fusePoolLinear: must match/);
    // A caller without types (JavaScript) passing something else gets a one-line UnsupportedFeatureError.
    const notAPlan = {} as unknown as UpgradePlan;
    await expect(compileModel(device, block.graph, { upgrade: notAPlan })).rejects.toThrow(UnsupportedFeatureError);
  });
});
