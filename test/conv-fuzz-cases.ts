/**
 * The shape fuzzer: seeded random convolutions and inverted-residual blocks against the CPU reference. The fixed
 * tables hold the shapes someone thought of; the kernels choose tiles, row forms, span caps, unrolled loops and
 * wrapped pixels from the shape, so a shape nobody listed can reach a code path nobody tested.
 *
 * Convs (`fuzzedConvs`): every kind webcnn routes differently (1x1, depthwise with its multiplier, grouped with odd
 * and whole-vec4 groups, dense KxK, RGB stems), with rectangular windows, strides up to 3 (stems 4), dilations up
 * to 3, uneven padding, batch 2, 1-pixel sides, odd channel counts, residuals, batch norms, clamp and table
 * activations and f16-packed storage. Each runs on the three kernel choices an adapter starts or ends on (the
 * software default, its tiered upgrade, the GPU default), then on one tile the autotuner could give it.
 *
 * Blocks (`fuzzedBlocks`): random widths, expansions, windows, strides, maps, activations and
 * squeeze-and-excitation, on the fused kernel (software and GPU defaults) and on the upgrade's separate launches.
 *
 * `npx tsx test/run-gpu-cases.ts conv-fuzz block-fuzz` runs them (CI: seed 10, 24 convs and 10 blocks).
 * `WEBCNN_FUZZ_SEED`, `WEBCNN_FUZZ_SHAPES` and `WEBCNN_FUZZ_BLOCKS` pick others; a case's name carries its seed and
 * index (docs/testing.md says how to rerun one).
 */
import type { Conv2dNode } from '../src/graph/ir.ts';
import { TILE_CANDIDATES, candidateFits } from '../src/runtime/autotune.ts';
import type { KernelChoice, Tile } from '../src/runtime/kernel-choice.ts';
import { DEFAULT_KERNEL_CHOICE, GPU_KERNEL_CHOICE, SOFTWARE_UPGRADE_KERNELS, optimizeForKernels } from '../src/runtime/kernel-choice.ts';
import { convLayerKind, nodeView } from '../src/runtime/kernel-table.ts';
import { Rng } from '../src/util/random.ts';
import type { CaseEntry } from './case-share.ts';
import type { ActivationName, GpuCase } from './gpu-cases.ts';
import { buildCase } from './gpu-cases.ts';
import type { BlockActivation, FusedBlockCase } from './inverted-residual-cases.ts';

/** A fuzzed conv: a conv case with its storage precision and weight seed. */
export type FuzzedConv = Extract<GpuCase, { kind: 'conv' }>;

/** The kernel choices every fuzzed shape runs on. */
export const FUZZ_KERNEL_CHOICES: readonly { readonly label: string; readonly kernels: KernelChoice }[] = [
  { label: 'software', kernels: DEFAULT_KERNEL_CHOICE },
  { label: 'upgrade', kernels: SOFTWARE_UPGRADE_KERNELS },
  { label: 'gpu', kernels: GPU_KERNEL_CHOICE },
];

/**
 * The seed CI fuzzes: one whose CI counts reach every conv kind, window feature, kernel and tuner family, and every
 * block feature (test/conv-fuzz-cases.test.ts checks that, so a change to the generators must pick another).
 */
export const CI_FUZZ_SEED = 10;
/** The shapes CI fuzzes (each on 3 kernel choices and a tuner tile). */
export const CI_FUZZ_SHAPES = 24;
/** The inverted-residual blocks CI fuzzes (x 3 kernel choices). */
export const CI_FUZZ_BLOCKS = 10;

/** The kernel choices every fuzzed block runs on: the fused kernel on both defaults, and the upgrade's separate launches. */
export const FUZZ_BLOCK_CHOICES: readonly { readonly label: string; readonly kernels: KernelChoice; readonly fused: boolean }[] = [
  { label: 'software fused', kernels: { ...DEFAULT_KERNEL_CHOICE, invertedResidual: 'fused' }, fused: true },
  { label: 'gpu fused', kernels: { ...GPU_KERNEL_CHOICE, invertedResidual: 'fused' }, fused: true },
  { label: 'upgrade separate', kernels: SOFTWARE_UPGRADE_KERNELS, fused: false },
];

/** Multiply-adds a fuzzed conv stays under, so that the CPU reference and the run take milliseconds. */
const MAX_MACS = 3_000_000;

type ConvKind = 'pointwise' | 'depthwise' | 'grouped' | 'dense' | 'stem';
const KINDS: readonly ConvKind[] = ['pointwise', 'pointwise', 'depthwise', 'depthwise', 'grouped', 'grouped', 'dense', 'dense', 'dense', 'stem'];
const ACTIVATIONS: readonly ActivationName[] = ['none', 'relu', 'relu6', 'relu', 'fn:hard-swish', 'fn:sigmoid', 'fn:leaky-relu'];

/** A case's seed: FNV-1a of its stream, the run's seed and its index, so that no two streams or runs share one. */
export function fuzzSeed(stream: string, seed: number, index: number): number {
  let h = 0x811c9dc5;
  for (const ch of `${stream}:${seed}:${index}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return h;
}

/** The output size of one axis (ONNX's floor rule). */
function outputSize(size: number, kernel: number, stride: number, padBefore: number, padAfter: number, dilation: number): number {
  return Math.floor((size + padBefore + padAfter - (kernel - 1) * dilation - 1) / stride) + 1;
}

/**
 * A window axis: kernel, stride, dilation (drawn, or `like`'s; never above 1 with `undilated`), and the padding
 * before and after ("same" mostly, else none or uneven).
 */
function windowAxis(rng: Rng, kernel: number, strides: readonly number[], undilated: boolean, like?: { stride: number; dilation: number }) {
  const stride = like?.stride ?? rng.pick(strides);
  const dilation = like?.dilation ?? (kernel > 1 && !undilated && rng.next() < 0.2 ? rng.int(2, 3) : 1);
  const reach = (kernel - 1) * dilation;
  const style = rng.next();
  if (style < 0.6) return { kernel, stride, dilation, before: Math.floor(reach / 2), after: Math.ceil(reach / 2) };
  if (style < 0.8) return { kernel, stride, dilation, before: 0, after: 0 };
  return { kernel, stride, dilation, before: rng.int(0, reach), after: rng.int(0, reach) };
}

/** Rectangular windows of dense convs (Inception's 1x7 and 7x1 among them), drawn either way round. */
const RECTANGLES: readonly (readonly [number, number])[] = [[1, 3], [1, 5], [1, 7], [3, 5], [2, 3]];

/** One random convolution of `kind`, or null when the draw has no output or too many multiply-adds. */
function drawConv(rng: Rng, kind: ConvKind, seed: number): FuzzedConv | null {
  const n = rng.next() < 0.2 ? 2 : 1;
  const side = () => (rng.next() < 0.1 ? 1 : rng.int(2, 26));
  const h = side();
  const w = side();
  let inC: number;
  let outC: number;
  let groups = 1;
  if (kind === 'depthwise') {
    // One channel would be a dense conv.
    inC = rng.int(2, 72);
    outC = inC * (rng.next() < 0.35 ? 2 : 1);
    groups = inC;
  } else if (kind === 'grouped') {
    groups = rng.pick([2, 3, 4, 6, 8]);
    const aligned = rng.next() < 0.5;
    const width = () => (aligned ? 4 * rng.int(1, 4) : rng.int(1, 9));
    inC = groups * width();
    outC = groups * width();
  } else {
    inC = kind === 'stem' ? rng.int(1, 4) : rng.int(1, 80);
    outC = rng.int(1, 80);
  }
  const square = kind === 'pointwise' ? 1 : kind === 'stem' ? rng.pick([3, 5, 7]) : rng.pick([2, 3, 3, 3, 5, 7]);
  let [kernelH, kernelW] = [square, square];
  if (kind === 'dense' && rng.next() < 0.25) {
    const [a, b] = rng.pick(RECTANGLES);
    [kernelH, kernelW] = rng.next() < 0.5 ? [a, b] : [b, a];
  }
  const strides = kind === 'stem' ? [2, 2, 1, 4] : [1, 1, 2, 3];
  // The stem kernel takes undilated windows only; a dilated one would test the dense kernels again.
  const undilated = kind === 'stem';
  const y = windowAxis(rng, kernelH, strides, undilated);
  // Mostly the same stride and dilation on both axes, as real networks have them.
  const x = windowAxis(rng, kernelW, strides, undilated, kernelH === kernelW && rng.next() < 0.8 ? y : undefined);
  const outH = outputSize(h, y.kernel, y.stride, y.before, y.after, y.dilation);
  const outW = outputSize(w, x.kernel, x.stride, x.before, x.after, x.dilation);
  if (outH < 1 || outW < 1) return null;
  if (n * outH * outW * outC * (inC / groups) * y.kernel * x.kernel > MAX_MACS) return null;
  return {
    kind: 'conv', n, inC, h, w, outC, groups,
    kernel: y.kernel, stride: y.stride, dilation: y.dilation, pad: 0,
    kernelW: x.kernel, strideX: x.stride, dilationX: x.dilation, pads: [y.before, x.before, y.after, x.after],
    bias: rng.next() < 0.8,
    batchNorm: rng.next() < 0.2,
    activation: rng.pick(ACTIVATIONS),
    residual: rng.next() < 0.25,
    ...(rng.next() < 0.15 ? { precision: 'f16-packed' as const } : {}),
    seed,
  };
}

/** `count` random convs from `seed` (the same ones for the same arguments), cycling through the conv kinds. */
export function fuzzedConvs(seed: number, count: number): FuzzedConv[] {
  const rng = new Rng(fuzzSeed('conv', seed, 0));
  const out: FuzzedConv[] = [];
  while (out.length < count) {
    const c = drawConv(rng, KINDS[out.length % KINDS.length], fuzzSeed('conv-weights', seed, out.length));
    if (c) out.push(c);
  }
  return out;
}

/** A fuzzed conv in a case name: its index, then kind-relevant figures. */
function shapeLabel(c: FuzzedConv): string {
  const [t, l, b, r] = c.pads ?? [c.pad, c.pad, c.pad, c.pad];
  return `n${c.n} ${c.inC}->${c.outC} g${c.groups} ${c.h}x${c.w} k${c.kernel}x${c.kernelW ?? c.kernel} s${c.stride}x${c.strideX ?? c.stride}` +
    ` d${c.dilation ?? 1}x${c.dilationX ?? c.dilation ?? 1} p${t},${l},${b},${r}${c.residual ? ' +res' : ''} ${c.activation}${c.precision ? ` ${c.precision}` : ''}`;
}

/** A tile in a case name: its family and fields. */
function tileLabel(t: Tile): string {
  const { family, ...fields } = t;
  return `${family}${Object.entries(fields).map(([k, v]) => ` ${k}=${String(v)}`).join('')}`;
}

/** The program-key prefix each family's launches carry: a tuned case must have run its tile's family. */
const FAMILY_KERNELS: Readonly<Record<Tile['family'], string>> = {
  pointwise: 'pointwise/', conv2d: 'conv2d/', 'conv-shared': 'conv-shared/', depthwise: 'depthwise', grouped: 'grouped', stem: 'conv-stem/',
};

/**
 * Tuner tiles the fuzzer leaves to the fixed tables (the `tiles` group): workgroup-memory tiles of 16 or more output
 * vec4s per invocation, which take SwiftShader 15-25 s each to compile.
 */
const slowToCompile = (t: Tile): boolean => t.family === 'conv-shared' && t.pixelsPerThread * t.vec4sPerThread >= 16;

/**
 * One tile the autotuner could give the conv of `c` (a candidate of its layer kind that `candidateFits`, but
 * `slowToCompile` ones: a family, then a tile of it, drawn with `rng`), as a per-node choice over the software
 * default, with the family's program-key prefix; null where the passes leave no conv.
 */
export function tunedChoice(c: FuzzedConv, rng: Rng): { label: string; kernels: KernelChoice; kernel: string } | null {
  const graph = optimizeForKernels(buildCase(c).graph, DEFAULT_KERNEL_CHOICE);
  const conv = graph.nodes.find((n): n is Conv2dNode => n.op === 'conv2d');
  if (!conv) return null;
  const view = nodeView(graph, conv);
  const fitting = TILE_CANDIDATES[convLayerKind(view)].filter((t) => candidateFits(t, view) && !slowToCompile(t));
  // A family first, then one of its tiles: the families offer very different numbers of tiles.
  const family = rng.pick([...new Set(fitting.map((t) => t.family))]);
  const tile = rng.pick(fitting.filter((t) => t.family === family));
  return { label: `tuned ${tileLabel(tile)}`, kernels: { ...DEFAULT_KERNEL_CHOICE, perNode: new Map([[conv.output, tile]]) }, kernel: FAMILY_KERNELS[family] };
}

/** The runner's entries: every fuzzed conv on every kernel choice of `FUZZ_KERNEL_CHOICES`, then on a tuner's tile. */
export function convFuzzEntries(seed: number, count: number): CaseEntry[] {
  return fuzzedConvs(seed, count).flatMap((c, i): CaseEntry[] => {
    const name = (label: string) => `conv fuzz s${seed}#${i} ${label}: ${shapeLabel(c)}`;
    const tuned = tunedChoice(c, new Rng(fuzzSeed('tuned', seed, i)));
    return [
      ...FUZZ_KERNEL_CHOICES.map(({ label, kernels }): CaseEntry => ({ name: name(label), case: c, kernels })),
      ...(tuned ? [{ name: name(tuned.label), case: c, kernels: tuned.kernels, kernel: tuned.kernel }] : []),
    ];
  });
}

const BLOCK_ACTIVATIONS: readonly BlockActivation[] = ['relu6', 'relu6', 'relu', 'fn:hard-swish', 'fn:silu'];

/** A fuzzed inverted-residual block: the block case with its storage precision and weight seed. */
export type FuzzedBlock = FusedBlockCase & Pick<GpuCase, 'precision' | 'seed'>;

/** `count` random inverted-residual blocks from `seed` (the same ones for the same arguments). */
export function fuzzedBlocks(seed: number, count: number): FuzzedBlock[] {
  const rng = new Rng(fuzzSeed('block', seed, 0));
  return Array.from({ length: count }, (_, i): FuzzedBlock => {
    const ratio = rng.pick([1, 2, 3, 4, 6, 6]);
    // A depthwise conv needs 2 channels at least (one channel is a dense conv).
    const inC = rng.int(ratio === 1 ? 2 : 1, 40);
    const stride = rng.pick([1, 1, 2]);
    const outC = stride === 1 && rng.next() < 0.5 ? inC : rng.int(1, 48);
    const hidC = inC * ratio;
    const side = () => (rng.next() < 0.1 ? 1 : rng.int(2, 18));
    const se = rng.next() < 0.3
      ? { squeeze: rng.int(1, Math.max(1, Math.ceil(hidC / 4))), act: rng.pick(['relu', 'fn:silu'] as const), gate: rng.pick(['fn:hard-sigmoid', 'fn:sigmoid'] as const) }
      : undefined;
    return {
      kind: 'fusedBlock', n: rng.next() < 0.2 ? 2 : 1, inC, hidC, outC, h: side(), w: side(),
      kernel: rng.pick([3, 3, 5]), stride, expand: ratio !== 1, residual: stride === 1 && inC === outC, act: rng.pick(BLOCK_ACTIVATIONS),
      ...(se ? { se } : {}),
      ...(rng.next() < 0.15 ? { precision: 'f16-packed' as const } : {}),
      seed: fuzzSeed('block-weights', seed, i),
    };
  });
}

function blockLabel(b: FuzzedBlock): string {
  return `n${b.n} ${b.inC}->${b.hidC}->${b.outC} ${b.h}x${b.w} k${b.kernel} s${b.stride}${b.residual ? ' +res' : ''} ${b.act}` +
    `${b.se ? ` se${b.se.squeeze}/${b.se.act}/${b.se.gate}` : ''}${b.precision ? ` ${b.precision}` : ''}`;
}

/** The runner's entries: every fuzzed block on every choice of `FUZZ_BLOCK_CHOICES`; the fused ones must run the fused kernel. */
export function blockFuzzEntries(seed: number, count: number): CaseEntry[] {
  return fuzzedBlocks(seed, count).flatMap((b, i) => FUZZ_BLOCK_CHOICES.map(({ label, kernels, fused }): CaseEntry => ({
    name: `block fuzz s${seed}#${i} ${label}: ${blockLabel(b)}`,
    case: b,
    kernels,
    ...(fused ? { kernel: 'inverted-residual/t' } : {}),
  })));
}
