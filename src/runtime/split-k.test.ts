/**
 * Split-K lowering without a GPU: a conv on a split tile becomes two launches (partial sums, reduce) with the
 * right programs, uniforms, workgroup counts, buffers and scratch size; replaying both kernels' index
 * arithmetic shows every partial sum and output written exactly once and every K index summed exactly once;
 * the small-map rule, the tuner's candidates and the timing figures treat the two launches as one layer.
 */
import { describe, expect, it } from 'vitest';
import { CONV_SHARED_STEP, convSharedBlock } from '../../shaders/conv-shared/wgsl.ts';
import { packUniforms } from '../../shaders/common.ts';
import { buildCase, type ConvCase } from '../../test/gpu-cases.ts';
import { TILE_CASES } from '../../test/tile-cases.ts';
import { buildNetworkRow, buildStepRows, describeStepShape, networkTraffic, nodesByName, stepTraffic } from '../bench/figures.ts';
import type { Conv2dNode, Graph } from '../graph/ir.ts';
import { optimizeGraph } from '../graph/passes/index.ts';
import { randomParams, resnet50 } from '../models/index.ts';
import { SOFTWARE_TILE_CANDIDATES, TILE_CANDIDATES, candidateFits } from './autotune.ts';
import { SPLIT_K_MAX_TILES } from '../../shaders/conv-shared/geometry.ts';
import type { KernelChoice, Tile } from './kernel-choice.ts';
import type { Step } from './step.ts';
import { MIN_SPLIT_K_SLICE, sharedConvGeometry, splitKFits, splitKSlices } from '../../shaders/conv-shared/geometry.ts';
import type { ConvSharedTile } from '../../shaders/conv-shared/index.ts';
import { DEFAULT_KERNEL_CHOICE, GPU_KERNEL_CHOICE } from './kernel-choice.ts';
import { choiceTileOf, nodeView } from './kernel-table.ts';
import { lowerGraph } from './lowering.ts';

const split = (splitK: number): ConvSharedTile => ({ family: 'conv-shared', pixelsPerThread: 2, vec4sPerThread: 2, splitK });
/** The launches lowered from graph nodes (not the layout steps at the edges). */
const nodeSteps = (steps: Step[]) => steps.filter((s) => s.node !== undefined);

function lowerCase(c: ConvCase, kernels: KernelChoice, precision: 'f32' | 'f16-packed' = 'f32'): { graph: Graph; steps: Step[]; node: Conv2dNode } {
  const graph = optimizeGraph(buildCase(c).graph);
  const node = graph.nodes.find((n): n is Conv2dNode => n.op === 'conv2d')!;
  return { graph, steps: lowerGraph(graph, kernels, precision), node };
}

/** ResNet-50's layer4 3x3 at 7x7, scaled to 64 channels, with residual + ReLU: K = 9 * 16 = 144 input vec4s. */
const RES_7X7: ConvCase = {
  kind: 'conv', n: 1, inC: 64, h: 7, w: 7, outC: 64, kernel: 3, stride: 1, pad: 1, groups: 1, bias: true, activation: 'relu', residual: true,
};

/**
 * Replays the split-K partial kernel over every workgroup and invocation as its WGSL computes indices (tiles
 * fastest, then slices; 8 x 8 invocations, P pixels x V vec4s each): how often each partial-sum vec4 is
 * written, and how often each (slice's output element, K index) pair is accumulated.
 */
function replayPartial(step: Step): { writes: Uint32Array; kCount: Uint32Array } {
  const u = step.uniforms;
  const m = /\/p(\d+)v(\d+)\//.exec(step.program.key)!;
  const P = Number(m[1]);
  const V = Number(m[2]);
  const block = convSharedBlock({ pixelsPerThread: P, vec4sPerThread: V });
  const writes = new Uint32Array(u.slices * u.pixels * u.outC4);
  const kCount = new Uint32Array(u.K);
  for (let group = 0; group < step.workgroups; group++) {
    const slice = Math.floor(group / u.tiles);
    if (slice >= u.slices) continue;
    const tile = group - slice * u.tiles;
    const kBegin = slice * u.kPerSlice;
    const kEnd = Math.min(kBegin + u.kPerSlice, u.K);
    // The staging loop: steps of CONV_SHARED_STEP from kBegin; loads at or past K read zeros.
    if (tile === 0) for (let k0 = kBegin; k0 < kEnd; k0 += CONV_SHARED_STEP) for (let k = k0; k < k0 + CONV_SHARED_STEP; k++) if (k < u.K) kCount[k]++;
    const firstPixel = Math.floor(tile / u.tilesN) * block.pixels;
    const firstCo = (tile % u.tilesN) * block.vec4s;
    for (let li = 0; li < 64; li++) {
      const ty = Math.floor(li / 8);
      const tx = li % 8;
      for (let p = 0; p < P; p++)
        for (let c = 0; c < V; c++) {
          const px = firstPixel + ty + p * 8;
          const co = firstCo + tx + c * 8;
          if (px < u.pixels && co < u.outC4) writes[slice * u.pixels * u.outC4 + px * u.outC4 + co]++;
        }
    }
  }
  return { writes, kCount };
}

describe('splitKSlices and splitKFits', () => {
  it('cuts K into slices of whole staging steps, none empty, at most the asked number', () => {
    expect(CONV_SHARED_STEP).toBe(4);
    expect(splitKSlices(1152, 8)).toEqual({ slices: 8, kPerSlice: 144 }); // ResNet-50 layer4 3x3: 9 x 128 vec4s
    expect(splitKSlices(1152, 16)).toEqual({ slices: 16, kPerSlice: 72 });
    expect(splitKSlices(45, 4)).toEqual({ slices: 4, kPerSlice: 12 }); // 12, 12, 12, 9
    expect(splitKSlices(63, 16)).toEqual({ slices: 16, kPerSlice: 4 }); // 15 x 4 + 3
    expect(splitKSlices(18, 8)).toEqual({ slices: 5, kPerSlice: 4 }); // fewer than asked: no empty slice
    expect(splitKSlices(3, 2)).toEqual({ slices: 1, kPerSlice: 4 }); // K within one step: the plain kernel
    expect(splitKSlices(100, 1)).toEqual({ slices: 1, kPerSlice: 100 });
    for (let K = 1; K <= 300; K += 7) {
      for (const s of [1, 2, 3, 4, 8, 16]) {
        const { slices, kPerSlice } = splitKSlices(K, s);
        expect(slices).toBeLessThanOrEqual(s);
        expect(kPerSlice % CONV_SHARED_STEP === 0 || slices === 1).toBe(true);
        expect((slices - 1) * kPerSlice).toBeLessThan(K); // the last slice is not empty
        expect(slices * kPerSlice).toBeGreaterThanOrEqual(K); // and K is covered
      }
    }
    expect(() => splitKSlices(10, 0)).toThrow(/positive integer/);
    expect(() => splitKSlices(10, 2.5)).toThrow(/positive integer/);
  });

  it('splitKFits: few output tiles and at least MIN_SPLIT_K_SLICE input vec4s per slice', () => {
    expect(MIN_SPLIT_K_SLICE).toBe(16);
    expect(splitKFits(32, 1152, 16, 256)).toBe(true);
    expect(splitKFits(257, 1152, 2, 256)).toBe(false);
    expect(splitKFits(32, 63, 4, 256)).toBe(false);
    expect(splitKFits(32, 64, 4, 256)).toBe(true);
    expect(splitKFits(32, 1152, 1, 256)).toBe(false);
  });
});

describe('lowering a split-K conv', () => {
  it('two launches under the node: partial sums (MACs, weights) then reduce (bias, residual, clamp, output)', () => {
    const { graph, steps, node } = lowerCase(RES_7X7, { ...DEFAULT_KERNEL_CHOICE, conv2d: split(8) });
    const middle = nodeSteps(steps);
    expect(middle.map((s) => s.program.key)).toEqual(['conv-shared/k3x3/p2v2/split-k', 'split-k-reduce/res/act']);
    const [partial, reduce] = middle;
    for (const s of middle) {
      expect(s.label).toBe(node.name);
      expect(s.kind).toBe('conv2d');
      expect(s.node).toBe(node.output);
      expect(() => packUniforms(s.program.uniforms, s.uniforms)).not.toThrow();
      const bound = s.program.bindings.filter((b) => b.kind !== 'uniform').map((b) => b.name);
      expect(Object.keys(s.buffers).sort()).toEqual([...bound].sort());
    }
    // 49 pixels, 16 output vec4s: 4 pixel tiles x 1 channel tile of 16 x 64; K = 9 x 16 = 144 -> 8 slices of 20 (last 4).
    expect(partial.uniforms).toMatchObject({ pixels: 49, K: 144, tiles: 4, tilesN: 1, outC4: 16, slices: 8, kPerSlice: 20 });
    expect(partial.workgroups).toBe(4 * 8);
    expect(partial.macs).toBe(49 * 64 * 64 * 9);
    expect(reduce.macs).toBe(0);
    expect(reduce.uniforms).toMatchObject({ total: 49 * 16, outC4: 16, slices: 8, actMin: 0 });
    expect(reduce.workgroups).toBe(Math.ceil((49 * 16) / 64));
    // One scratch reference shared by both launches, sized slices x pixels x outC4 f32 vec4s.
    expect(partial.buffers.partial).toEqual({ kind: 'scratch', byteLength: 8 * 49 * 16 * 16 });
    expect(reduce.buffers.partial).toBe(partial.buffers.partial);
    expect(Object.keys(partial.buffers).sort()).toEqual(['partial', 'src', 'weight']);
    expect(Object.keys(reduce.buffers).sort()).toEqual(['bias', 'dst', 'partial', 'residual']);
    expect(partial.buffers.src).toEqual({ kind: 'tensor', id: node.inputs[0] });
    expect(reduce.buffers.residual).toEqual({ kind: 'tensor', id: node.inputs[1] });
    expect(reduce.buffers.dst).toEqual({ kind: 'tensor', id: node.output });
    const weight = partial.buffers.weight;
    if (weight.kind !== 'constant') throw new Error('weights are a constant');
    expect(weight.data.length).toBe(9 * 16 * 16 * 16); // [kh][kw][inC4][outC4] blocks of 4 x 4
    expect(graph.tensors[node.output].shape).toEqual([1, 64, 7, 7]);
  });

  it('every partial sum written once, every K index summed once per output; the reduce covers every output once', () => {
    const cases: [ConvCase, ConvSharedTile][] = [
      [RES_7X7, split(8)],
      [{ ...RES_7X7, n: 2, inC: 20, h: 11, w: 9, outC: 30, stride: 2, activation: 'relu6', residual: false }, split(4)],
      [{ ...RES_7X7, inC: 250, outC: 22, kernel: 1, pad: 0, h: 5, w: 7 }, split(16)],
      [{ ...RES_7X7, inC: 40, h: 1, w: 1, outC: 12 }, split(3)],
      [{ ...RES_7X7, inC: 300, outC: 300, h: 3, w: 3 }, { family: 'conv-shared', pixelsPerThread: 4, vec4sPerThread: 4, splitK: 2 }],
    ];
    for (const [c, tile] of cases) {
      const choice = { ...DEFAULT_KERNEL_CHOICE, conv2d: tile, pointwise: tile };
      const [partial, reduce] = nodeSteps(lowerCase(c, choice).steps);
      expect(reduce.program.name).toBe('split-k-reduce');
      const { writes, kCount } = replayPartial(partial);
      expect(writes.every((w) => w === 1), `${partial.program.key}: each partial vec4 once`).toBe(true);
      expect(kCount.every((k) => k === 1), 'each K index in exactly one slice').toBe(true);
      expect(partial.buffers.partial.kind === 'scratch' && partial.buffers.partial.byteLength).toBe(writes.length * 16);
      // Reduce: one invocation per output vec4 below total, reading slice s at s * total + o.
      expect(reduce.uniforms.total).toBe(partial.uniforms.pixels * partial.uniforms.outC4);
      expect(reduce.workgroups * 64).toBeGreaterThanOrEqual(reduce.uniforms.total);
      expect((reduce.workgroups - 1) * 64).toBeLessThan(reduce.uniforms.total);
      expect((reduce.uniforms.slices - 1) * reduce.uniforms.total + reduce.uniforms.total - 1).toBe(writes.length - 1);
    }
  });

  it('one slice is the plain single launch; split-K on a register tile is an error', () => {
    const small: ConvCase = { ...RES_7X7, inC: 12, residual: false }; // K = 27: two slices at most
    expect(nodeSteps(lowerCase(small, { ...DEFAULT_KERNEL_CHOICE, conv2d: split(2) }).steps).map((s) => s.program.key)).toEqual([
      'conv-shared/k3x3/p2v2/split-k', 'split-k-reduce/nores/act',
    ]);
    const tiny: ConvCase = { ...RES_7X7, inC: 8, kernel: 1, pad: 0, residual: false }; // K = 2
    expect(nodeSteps(lowerCase(tiny, { ...DEFAULT_KERNEL_CHOICE, pointwise: split(4) }).steps).map((s) => s.program.key)).toEqual([
      'conv-shared/k1x1/p2v2/nores/act',
    ]);
    expect(nodeSteps(lowerCase(tiny, { ...DEFAULT_KERNEL_CHOICE, pointwise: split(1) }).steps)).toHaveLength(1);
    expect(() => lowerCase(RES_7X7, { ...DEFAULT_KERNEL_CHOICE, conv2d: { family: 'conv2d', pixelsPerThread: 4, vec4sPerThread: 2, splitK: 4 } as KernelChoice['conv2d'] })).toThrow(/workgroup-memory/);
  });

  it('at f16-packed: the partial sums stay f32 (16 bytes per vec4), both programs carry the precision', () => {
    const [partial, reduce] = nodeSteps(lowerCase(RES_7X7, { ...DEFAULT_KERNEL_CHOICE, conv2d: split(4) }, 'f16-packed').steps);
    expect(partial.program.key).toBe('conv-shared/k3x3/p2v2/split-k/f16-packed');
    expect(reduce.program.key).toBe('split-k-reduce/res/act/f16-packed');
    expect(partial.buffers.partial).toEqual({ kind: 'scratch', byteLength: 4 * 49 * 16 * 16 });
    const bias = reduce.buffers.bias;
    if (bias.kind !== 'constant') throw new Error('bias is a constant');
    expect(bias.data).toBeInstanceOf(Float32Array);
  });

  it('a per-node split tile applies to that layer only', () => {
    const graph = optimizeGraph(buildCase({ kind: 'bottleneck', n: 1, inC: 256, width: 64, size: 7, stride: 1, downsample: false }).graph);
    const conv2 = graph.nodes.find((n) => n.op === 'conv2d' && n.attrs.kernel[0] === 3)!;
    const steps = lowerGraph(graph, { ...GPU_KERNEL_CHOICE, perNode: new Map([[conv2.output, split(4)]]) });
    expect(steps.filter((s) => s.program.name === 'split-k-reduce').map((s) => s.label)).toEqual([conv2.name]);
    expect(steps.filter((s) => s.node === conv2.output)).toHaveLength(2);
  });
});

describe('the small-map split-K rule (KernelChoice.smallMapSplitK)', () => {
  const graph = optimizeGraph(resnet50({ params: randomParams(1) }));

  it('ResNet-50 224 with maxTiles 32: exactly the layers with at most 32 tiles and enough K, split 8 ways', () => {
    const choice: KernelChoice = { ...GPU_KERNEL_CHOICE, smallMapSplitK: { splits: 8, maxTiles: 32 } };
    const steps = lowerGraph(graph, choice);
    const splitLayers = steps.filter((s) => s.program.key.endsWith('/split-k')).map((s) => s.label);
    const expected = graph.nodes
      .filter((n): n is Conv2dNode => n.op === 'conv2d' && n.attrs.groups === 1)
      .filter((n) => {
        const { tiles, K } = sharedConvGeometry(GPU_KERNEL_CHOICE.conv2d, graph.tensors[n.inputs[0]].shape, graph.tensors[n.output].shape, n.attrs);
        return tiles <= 32 && K >= 8 * MIN_SPLIT_K_SLICE;
      })
      .map((n) => n.name);
    expect(splitLayers).toEqual(expected);
    // layer4's 3x3s and 1x1 reductions: 49 pixels x 512 channels are 4 x 8 = 32 tiles of 16 x 64.
    expect(splitLayers).toEqual([
      'layer4.0.conv2', 'layer4.1.conv1', 'layer4.1.conv2', 'layer4.2.conv1', 'layer4.2.conv2',
    ]);
    expect(steps.filter((s) => s.program.name === 'split-k-reduce')).toHaveLength(5);
    expect(steps.filter((s) => s.program.key.endsWith('/split-k')).every((s) => s.uniforms.slices === 8)).toBe(true);
    // The same tiles through choiceTileOf, which the tuner uses as each layer's base.
    const l4 = graph.nodes.find((n) => n.name === 'layer4.1.conv2') as Conv2dNode;
    expect(choiceTileOf(choice, nodeView(graph, l4))).toEqual(split(8));
    const l1 = graph.nodes.find((n) => n.name === 'layer1.0.conv2') as Conv2dNode;
    expect(choiceTileOf(choice, nodeView(graph, l1))).toEqual(GPU_KERNEL_CHOICE.conv2d);
  });

  it('leaves register tiles alone, and the defaults have no rule', () => {
    expect(GPU_KERNEL_CHOICE.smallMapSplitK).toBeUndefined();
    expect(DEFAULT_KERNEL_CHOICE.smallMapSplitK).toBeUndefined();
    const steps = lowerGraph(graph, { ...DEFAULT_KERNEL_CHOICE, smallMapSplitK: { splits: 8, maxTiles: 1e9 } });
    expect(steps.some((s) => s.program.key.includes('split-k'))).toBe(false);
  });
});

describe('split-K candidates of the tuner', () => {
  const graph = optimizeGraph(resnet50({ params: randomParams(1) }));
  const conv = (name: string) => {
    const n = graph.nodes.find((x) => x.name === name) as Conv2dNode;
    return nodeView(graph, n);
  };

  it('GPUs try split-K 2, 4, 8 and 16 on the GPU default tile for pointwise and dense convs; software adapters never', () => {
    for (const family of ['pointwise', 'conv2d'] as const) {
      const splits = TILE_CANDIDATES[family].filter((t): t is ConvSharedTile => t.family === 'conv-shared' && t.splitK !== undefined);
      expect(splits.map((t) => t.splitK)).toEqual([2, 4, 8, 16]);
      expect(splits.every((t) => t.pixelsPerThread === 2 && t.vec4sPerThread === 2)).toBe(true);
    }
    expect(TILE_CANDIDATES.depthwise.some((t) => t.family === 'conv-shared')).toBe(false);
    expect(Object.values(SOFTWARE_TILE_CANDIDATES).flat().some((t) => t.family === 'conv-shared')).toBe(false);
  });

  it('only where splitting can pay: few output tiles, enough K per slice', () => {
    expect(SPLIT_K_MAX_TILES).toBe(256);
    const splitOf = (t: Tile) => (t.family === 'conv-shared' ? t.splitK : undefined);
    const fits = (name: string) => TILE_CANDIDATES.conv2d.filter((t) => splitOf(t) && candidateFits(t, conv(name))).map(splitOf);
    expect(fits('layer4.1.conv2')).toEqual([2, 4, 8, 16]); // 32 tiles, K 1152
    expect(fits('layer4.1.conv3')).toEqual([2, 4, 8]); // 1x1 512 -> 2048 at 7x7: 128 tiles, K 128
    expect(fits('layer3.1.conv3')).toEqual([2, 4]); // 208 tiles, K 64
    expect(fits('layer1.0.conv3')).toEqual([]); // 56x56 -> 256 channels: 784 tiles
    expect(fits('conv1')).toEqual([]); // the RGB stem: 1568 tiles, K 49
    // Tiles without split-K always fit (grouped tiles: on grouped convs only).
    expect(TILE_CANDIDATES.conv2d.filter((t) => !splitOf(t) && t.family !== 'grouped').every((t) => candidateFits(t, conv('conv1')))).toBe(true);
  });
});

describe('timing figures of a split-K conv', () => {
  const { graph, steps } = lowerCase(RES_7X7, { ...DEFAULT_KERNEL_CHOICE, conv2d: split(4) });
  const nodes = nodesByName(graph);
  const [partial, reduce] = nodeSteps(steps);

  it('per launch: the partial launch reads input and weights and writes the partial sums; the reduce reads them, bias and residual', () => {
    const node = nodes.get(partial.label)!;
    const scratch = 4 * 49 * 16 * 16;
    expect(stepTraffic(graph, partial, node)).toEqual({
      inputBytes: 64 * 49 * 4, weightBytes: (64 * 64 * 9 + 64) * 4, outputBytes: scratch, bytes: 64 * 49 * 4 + (64 * 64 * 9 + 64) * 4 + scratch,
    });
    expect(stepTraffic(graph, reduce, node)).toEqual({
      inputBytes: scratch + 64 * 49 * 4, weightBytes: 64 * 4, outputBytes: 64 * 49 * 4, bytes: scratch + 2 * 64 * 49 * 4 + 64 * 4,
    });
    expect(describeStepShape(graph, partial, node)).toBe('64x7x7 -> 64x7x7 3x3 +res split-K 4');
    expect(describeStepShape(graph, reduce, node)).toBe('64x7x7 -> 64x7x7 3x3 +res split-K 4 reduce');
  });

  it('per network: MACs and weights counted once', () => {
    const rows = buildStepRows('t', graph, steps, steps.map(() => [1]), 'timestamp');
    expect(rows.map((r) => `${r.layer}:${r.kernel}:${r.macs}:${r.program}`)).toEqual([
      'pack input 0:layout:0:layout/pack-nchw',
      'pack input 1:layout:0:layout/pack-nchw',
      `${partial.label}:conv2d:${49 * 64 * 64 * 9}:conv-shared/k3x3/p2v2/split-k`,
      `${partial.label}:conv2d:0:split-k-reduce/res/act`,
      'unpack output 0:layout:0:layout/unpack-nchw',
    ]);
    const whole = buildNetworkRow('t', graph, steps, [1], 'timestamp');
    expect(whole.macs).toBe(49 * 64 * 64 * 9);
    expect(networkTraffic(graph, steps).weightBytes).toBe((64 * 64 * 9 + 64) * 4);
  });
});

describe('TILE_CASES really split', () => {
  it('every split-K case lowers to a split launch, with as many slices as asked for the candidates', () => {
    const splitCases = TILE_CASES.filter((t) => /split-K \d/.test(t.name));
    expect(splitCases.length).toBeGreaterThanOrEqual(13);
    for (const t of splitCases) {
      const steps = lowerGraph(optimizeGraph(buildCase(t.case).graph), t.kernels);
      const partials = steps.filter((s) => s.program.key.endsWith('/split-k'));
      expect(partials.length, t.name).toBeGreaterThan(0);
      expect(steps.filter((s) => s.program.name === 'split-k-reduce')).toHaveLength(partials.length);
      const asked = /split-K (\d+)/.exec(t.name)![1];
      if (/^(pointwise|conv2d) /.test(t.name)) expect(partials[0].uniforms.slices, t.name).toBe(Number(asked));
    }
  });
});
