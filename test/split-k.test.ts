/**
 * Split-K on a real WebGPU device (Dawn in Node; SwiftShader without a GPU): one scratch buffer made at compile
 * time and counted in `memory`, results against the CPU reference, and the autotuner timing a split-K
 * candidate as one layer (its two launches summed).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireNodeDevice } from '../src/gpu/node-device.ts';
import { optimizeGraph } from '../src/graph/passes/index.ts';
import { runGraphReference } from '../src/reference/index.ts';
import { MemoryTuningCache } from '../src/runtime/tuning-cache.ts';
import { TILE_CANDIDATES } from '../src/runtime/autotune.ts';
import { profileSteps } from '../src/runtime/profile-steps.ts';
import { compileModel } from '../src/runtime/compile.ts';
import type { ConvSharedTile } from '../shaders/conv-shared/index.ts';
import type { KernelChoice } from '../src/runtime/kernel-choice.ts';
import { DEFAULT_KERNEL_CHOICE, GPU_KERNEL_CHOICE } from '../src/runtime/kernel-choice.ts';
import { buildCase, compareOutputs } from './gpu-cases.ts';

let device: GPUDevice;
beforeAll(async () => {
  device = (await acquireNodeDevice()).device;
});
afterAll(() => device?.destroy());

const split = (splitK: number): ConvSharedTile => ({ family: 'conv-shared', pixelsPerThread: 2, vec4sPerThread: 2, splitK });

describe('split-K on the GPU', () => {
  // A ResNet bottleneck at 7x7 (1x1 256 -> 64, 3x3 64 -> 64, 1x1 64 -> 256 + residual, ReLU).
  const block = buildCase({ kind: 'bottleneck', n: 1, inC: 256, width: 64, size: 7, stride: 1, downsample: false });

  it('one scratch buffer for every split-K launch, sized to the largest, counted in memory; results match the CPU', async () => {
    const plain = await compileModel(device, block.graph, { kernels: GPU_KERNEL_CHOICE });
    const kernels: KernelChoice = { ...GPU_KERNEL_CHOICE, smallMapSplitK: { splits: 4, maxTiles: 256 } };
    const model = await compileModel(device, block.graph, { kernels });
    try {
      const partials = model.steps.filter((s) => s.program.key.endsWith('/split-k'));
      // 49 pixels, K = 64, 144 and 16 input vec4s: conv3's K is under 4 slices of MIN_SPLIT_K_SLICE, so the rule
      // leaves it whole.
      expect(partials.map((s) => s.label)).toEqual(['block.conv1', 'block.conv2']);
      const needs = partials.map((s) => (s.buffers.partial.kind === 'scratch' ? s.buffers.partial.byteLength : 0));
      expect(needs).toEqual([4 * 49 * 16 * 16, 4 * 49 * 16 * 16]);
      expect(model.memory.scratchBytes).toBe(Math.max(...needs));
      expect(plain.memory.scratchBytes).toBe(0);
      expect(model.memory.buffers).toBe(plain.memory.buffers + 1);
      // Besides the scratch, only the uniform block grows: two more launches, one aligned slot each.
      expect(model.memory.bytes).toBe(plain.memory.bytes + model.memory.scratchBytes + 2 * device.limits.minUniformBufferOffsetAlignment);
      expect(model.dispatchCount).toBe(plain.dispatchCount + 2);

      const ref = runGraphReference(block.graph, block.inputs);
      const cmp = compareOutputs(await model.run(block.inputs), ref);
      expect(cmp.ok, `max error ${cmp.maxAbsError} (tolerance ${cmp.tolerance})`).toBe(true);
      // Runs reuse the scratch: a second run with other inputs is right too, and memory does not grow.
      const other = block.inputs.map((x) => x.map((v) => -0.5 * v));
      const cmp2 = compareOutputs(await model.run(other), runGraphReference(block.graph, other));
      expect(cmp2.ok, `max error ${cmp2.maxAbsError}`).toBe(true);
      expect(model.memory.buffers).toBe(plain.memory.buffers + 1);

      // Per-launch profiling sees both launches of a split layer.
      const times = await profileSteps(device, model, 1);
      expect(times).toHaveLength(model.steps.length);
      expect(times.every((t) => Number.isFinite(t) && t >= 0)).toBe(true);
    } finally {
      model.dispose();
      plain.dispose();
    }
    expect(model.memory.bytes).toBe(0);
  }, 120_000);

  it('recompile keeps the split tiles', async () => {
    const model = await compileModel(device, block.graph, { kernels: { ...DEFAULT_KERNEL_CHOICE, conv2d: split(8) } });
    const again = await model.recompile(device);
    try {
      expect(again.steps.map((s) => s.program.key)).toEqual(model.steps.map((s) => s.program.key));
      expect(again.memory.scratchBytes).toBe(model.memory.scratchBytes);
      expect(model.memory.scratchBytes).toBe(8 * 49 * 16 * 16);
    } finally {
      again.dispose();
      model.dispose();
    }
  }, 120_000);

  it('the tuner times a split-K candidate as one layer and keeps a correct model (candidates forced: software adapters skip them)', async () => {
    const graph = optimizeGraph(block.graph);
    const cache = new MemoryTuningCache();
    const candidates = { pointwise: [split(2)], conv2d: [split(2), split(4)], depthwise: TILE_CANDIDATES.depthwise.slice(0, 1) };
    const tuned = await compileModel(device, graph, {
      optimize: false,
      kernels: GPU_KERNEL_CHOICE,
      tune: { cache, repeats: 1, adapterKey: 'split-k-test', candidates },
    });
    try {
      const perNode = tuned.kernels.perNode!;
      expect(perNode.size).toBe(3);
      // conv3's K (16 vec4s) is too short to split, so it tries nothing; the others keep the base or a split tile.
      const conv3 = graph.nodes.find((n) => n.name === 'block.conv3')!;
      expect(perNode.get(conv3.output)).toEqual(GPU_KERNEL_CHOICE.pointwise);
      for (const tile of perNode.values()) expect([GPU_KERNEL_CHOICE.conv2d, split(2), split(4)]).toContainEqual(tile);
      const cmp = compareOutputs(await tuned.run(block.inputs), runGraphReference(block.graph, block.inputs));
      expect(cmp.ok, `max error ${cmp.maxAbsError}`).toBe(true);
    } finally {
      tuned.dispose();
    }
  }, 120_000);
});
