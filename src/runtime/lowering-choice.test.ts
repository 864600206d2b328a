import { describe, expect, it } from 'vitest';
import type { ConvCase } from '../../test/gpu-cases.ts';
import { KERNEL_CASES, buildCase } from '../../test/gpu-cases.ts';
import { optimizeGraph } from '../graph/passes/index.ts';
import { mobilenetV2, randomParams } from '../models/index.ts';
import { isSoftwareAdapter } from '../gpu/device.ts';
import { UnsupportedFeatureError } from '../errors.ts';
import { dispatchGrid } from './compile.ts';
import type { KernelChoice } from './kernel-choice.ts';
import { DEFAULT_KERNEL_CHOICE, GPU_KERNEL_CHOICE, SOFTWARE_UPGRADE_KERNELS, defaultKernelChoice } from './kernel-choice.ts';
import { checkKernelChoice } from './kernel-table.ts';
import { lowerGraph } from './lowering.ts';
import { SOFTWARE_TILE_CANDIDATES, TILE_CANDIDATES } from './autotune.ts';

// Which kernels a kernel choice lowers to, which choices lowering refuses, and the dispatch grid (lowering.test.ts
// checks what the lowered steps compute).
describe('kernel choice per adapter', () => {
  it('software adapters keep the SwiftShader defaults, GPUs get the GPU choice', () => {
    expect(isSoftwareAdapter({ vendor: 'google', architecture: 'swiftshader' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'mesa', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'nvidia', architecture: 'hopper', isFallbackAdapter: true } as Partial<GPUAdapterInfo>)).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H200' })).toBe(false);
    expect(defaultKernelChoice({ vendor: 'google', architecture: 'swiftshader' })).toBe(DEFAULT_KERNEL_CHOICE);
    expect(defaultKernelChoice({ vendor: 'nvidia', architecture: 'hopper' })).toBe(GPU_KERNEL_CHOICE);
    expect(defaultKernelChoice(undefined)).toBe(DEFAULT_KERNEL_CHOICE);
  });

  it('the GPU choice puts every dense conv on the workgroup-memory kernel and the head on split-K', () => {
    const graph = optimizeGraph(mobilenetV2({ params: randomParams(3), inputSize: 224 }));
    const steps = lowerGraph(graph, GPU_KERNEL_CHOICE);
    for (const st of steps.filter((x) => x.kind === 'pointwise' || x.kind === 'conv2d')) expect(st.program.key).toMatch(/^conv-shared\/k\dx\d\/p2v2\//);
    // The head is the pooled split-K kernel: the global average pool is fused into it.
    expect(steps.find((st) => st.kind === 'linear')!.program.key).toBe('linear-splitk/pooled/noact');
    expect(steps.some((st) => st.kind === 'pool')).toBe(false);
  });

  it('the fused head per choice and batch: pooled split-K for few rows, else the pooled register tile', () => {
    const head = (n: number) =>
      optimizeGraph(buildCase({ kind: 'poolLinear', n, c: 64, h: 7, w: 7, outF: 100, bias: true, activation: 'relu' }).graph);
    const key = (n: number, choice: KernelChoice) => lowerGraph(head(n), choice).find((st) => st.kind === 'linear')!;
    // GPUs: split-K below the 2-pixel tile, the 2 x 2 register tile from there.
    const gpu1 = key(1, GPU_KERNEL_CHOICE);
    expect(gpu1.program.key).toBe('linear-splitk/pooled/act');
    expect(gpu1.uniforms).toMatchObject({ items: 25, inC4: 16, outC4: 25, spatial: 49 });
    expect(gpu1.workgroups).toBe(25);
    expect(key(2, GPU_KERNEL_CHOICE).program.key).toBe('linear-pooled/p2v2/act');
    // GPU choice with the register head: one vec4 per invocation below the tile.
    expect(key(1, { ...GPU_KERNEL_CHOICE, linear: 'register' }).program.key).toBe('linear-pooled/p1v1/act');
    // Software: one row per invocation below the 8-pixel tile, 8 from there; 4 output vec4s per invocation.
    const sw = key(7, DEFAULT_KERNEL_CHOICE);
    expect(sw.program.key).toBe('linear-pooled/p1v4/act');
    expect(sw.uniforms).toMatchObject({ rows: 7, items: 7, coGroups: 1, inC4: 16, outC4: 25, spatial: 49 });
    expect(sw.workgroups).toBe(7);
    const sw9 = key(9, DEFAULT_KERNEL_CHOICE);
    expect(sw9.program.key).toBe('linear-pooled/p8v4/act');
    expect(sw9.uniforms).toMatchObject({ rows: 9, coGroups: 1, items: 2 });
    expect(key(9, { ...DEFAULT_KERNEL_CHOICE, pooledLinearVec4s: 1 }).uniforms).toMatchObject({ coGroups: 1, items: 2 });
    expect(key(2, { ...DEFAULT_KERNEL_CHOICE, pooledLinearVec4s: undefined }).program.key).toBe('linear-pooled/p1v1/act');
    expect(gpu1.macs).toBe(64 * 100);
    expect(sw.macs).toBe(7 * 64 * 100);
  });
});

describe('checkKernelChoice', () => {
  it('accepts the defaults and every tile the autotuner can pick, as whole-network and as per-node tiles', () => {
    checkKernelChoice(DEFAULT_KERNEL_CHOICE);
    checkKernelChoice(GPU_KERNEL_CHOICE);
    checkKernelChoice({ ...GPU_KERNEL_CHOICE, smallMapSplitK: { splits: 8, maxTiles: 256 } });
    const tiles = [...Object.values(TILE_CANDIDATES), ...Object.values(SOFTWARE_TILE_CANDIDATES)].flat();
    expect(tiles.length).toBeGreaterThan(10);
    for (const t of tiles) {
      if (t.family === 'depthwise') checkKernelChoice({ ...DEFAULT_KERNEL_CHOICE, depthwise: t, perNode: new Map([[7, t]]) });
      else if (t.family === 'conv-shared') checkKernelChoice({ ...DEFAULT_KERNEL_CHOICE, pointwise: t, conv2d: t, stem: t, perNode: new Map([[7, t]]) });
      else if (t.family === 'pointwise') checkKernelChoice({ ...DEFAULT_KERNEL_CHOICE, pointwise: t, perNode: new Map([[7, t]]) });
      else if (t.family === 'grouped') checkKernelChoice({ ...DEFAULT_KERNEL_CHOICE, grouped: t, perNode: new Map([[7, t]]) });
      else if (t.family === 'stem') checkKernelChoice({ ...DEFAULT_KERNEL_CHOICE, stem: t, perNode: new Map([[7, t]]) });
      else checkKernelChoice({ ...DEFAULT_KERNEL_CHOICE, conv2d: t, stem: t, perNode: new Map([[7, t]]) });
    }
  });

  it('refuses tiles no kernel implements with an UnsupportedFeatureError naming the field, before any WGSL is made', () => {
    const graph = optimizeGraph(buildCase(KERNEL_CASES.find((c) => c.kind === 'conv')!).graph);
    const refused: [KernelChoice, RegExp][] = [
      [{ ...DEFAULT_KERNEL_CHOICE, pointwise: { family: 'pointwise', pixelsPerThread: 0, vec4sPerThread: 2 } }, /^kernels\.pointwise: register tile 0 pixels x 2 vec4s/],
      [{ ...DEFAULT_KERNEL_CHOICE, conv2d: { family: 'conv2d', pixelsPerThread: 2.5, vec4sPerThread: 2 } }, /^kernels\.conv2d: register tile 2\.5 pixels/],
      [{ ...DEFAULT_KERNEL_CHOICE, stem: { family: 'conv2d', pixelsPerThread: 4, vec4sPerThread: 9 } }, /^kernels\.stem: register tile/],
      [{ ...GPU_KERNEL_CHOICE, conv2d: { family: 'conv-shared', pixelsPerThread: 3, vec4sPerThread: 2 } }, /^kernels\.conv2d: workgroup-memory tile 3 pixels/],
      [{ ...GPU_KERNEL_CHOICE, pointwise: { family: 'conv-shared', pixelsPerThread: 2, vec4sPerThread: 2, splitK: 0 } }, /^kernels\.pointwise: splitK 0/],
      [{ ...DEFAULT_KERNEL_CHOICE, pointwise: { family: 'pointwise', pixelsPerThread: 2, vec4sPerThread: 2, splitK: 4 } as unknown as KernelChoice['pointwise'] }, /^kernels\.pointwise: split-K needs a workgroup-memory tile/],
      [{ ...DEFAULT_KERNEL_CHOICE, pointwise: { family: 'conv2d', pixelsPerThread: 2, vec4sPerThread: 2 } as unknown as KernelChoice['pointwise'] }, /^kernels\.pointwise: family 'conv2d' is not one of 'pointwise', 'conv-shared'/],
      [{ ...DEFAULT_KERNEL_CHOICE, depthwise: { family: 'depthwise', pixelsPerThread: -1 } }, /^kernels\.depthwise: -1 pixels/],
      [{ ...DEFAULT_KERNEL_CHOICE, linear: 'fast' as 'register' }, /^kernels\.linear: 'fast'/],
      [{ ...DEFAULT_KERNEL_CHOICE, pooledLinearVec4s: 0 }, /^kernels\.pooledLinearVec4s: 0/],
      [{ ...GPU_KERNEL_CHOICE, smallMapSplitK: { splits: 1.5, maxTiles: 32 } }, /^kernels\.smallMapSplitK: splits 1\.5/],
      [{ ...DEFAULT_KERNEL_CHOICE, perNode: new Map([[3, { family: 'conv2d', pixelsPerThread: 32, vec4sPerThread: 1 } as const]]) }, /^kernels\.perNode\(3\): register tile 32 pixels/],
    ];
    for (const [choice, message] of refused) {
      expect(() => lowerGraph(graph, choice)).toThrow(UnsupportedFeatureError);
      expect(() => lowerGraph(graph, choice)).toThrow(message);
    }
  });
});

describe('dispatchGrid', () => {
  it('counts up to 65535 stay one-dimensional', () => {
    for (const n of [1, 2, 64, 1000, 65534, 65535]) expect(dispatchGrid(n)).toEqual([n, 1]);
  });

  it('zero still dispatches one workgroup', () => {
    expect(dispatchGrid(0)).toEqual([1, 1]);
  });

  it('larger counts fold into two dimensions, each <= 65535, covering the count', () => {
    expect(dispatchGrid(70000)).toEqual([35000, 2]);
    expect(dispatchGrid(65536)).toEqual([32768, 2]);
    for (const n of [65536, 70000, 131070, 131071, 200000, 1_000_003, 65535 * 65535]) {
      const [x, y] = dispatchGrid(n);
      expect(x).toBeLessThanOrEqual(65535);
      expect(y).toBeLessThanOrEqual(65535);
      expect(x * y).toBeGreaterThanOrEqual(n);
      // Minimal y, and less than one row of waste.
      expect(y).toBe(Math.ceil(n / 65535));
      expect(x * y - n).toBeLessThan(y);
    }
    const [x, y] = dispatchGrid(70000);
    expect(y).toBe(2);
    expect(x * y).toBeGreaterThanOrEqual(70000);
  });
});

describe('dilated depthwise convs per kernel choice', () => {
  const depthwiseKey = (kernel: number, dilation: number, choice: KernelChoice) => {
    const c: ConvCase = { kind: 'conv', n: 1, inC: 16, h: 14, w: 14, outC: 16, kernel, stride: 1, pad: ((kernel - 1) * dilation) / 2, groups: 16, dilation, bias: true, activation: 'none', residual: false };
    return lowerGraph(optimizeGraph(buildCase(c).graph), choice).find((st) => st.kind === 'depthwise')!.program.key;
  };

  it('the software upgrade runs them on the row kernel with the dilation baked in, within its span', () => {
    // 5x5 dilation 2 (DeepLabV3-MobileNetV3): 8 columns, a span of 16.
    expect(depthwiseKey(5, 2, SOFTWARE_UPGRADE_KERNELS)).toMatch(/^depthwise-rows\/k5x5\/s1x1\/d2x2\/p8\//);
    // 3x3 dilation 4: a window of 9, so 8 columns still fit.
    expect(depthwiseKey(3, 4, SOFTWARE_UPGRADE_KERNELS)).toMatch(/^depthwise-rows\/k3x3\/s1x1\/d4x4\/p8\//);
    // 7x7 dilation 4: a window of 25, past the span: the general kernel.
    expect(depthwiseKey(7, 4, SOFTWARE_UPGRADE_KERNELS)).toMatch(/^depthwise\/k7x7\//);
  });

  it('the software default and the GPU default keep the general kernel (fast to compile, no GPU measurement)', () => {
    expect(depthwiseKey(5, 2, DEFAULT_KERNEL_CHOICE)).toMatch(/^depthwise\/k5x5\/p2\//);
    expect(depthwiseKey(5, 2, GPU_KERNEL_CHOICE)).toMatch(/^depthwise\/k5x5\/p4\//);
  });
});
