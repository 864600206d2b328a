/**
 * The convolution shape fuzzer: seeded random convolutions, each run on the three kernel choices an adapter can
 * start or end on (the software default, its tiered upgrade, the GPU default) against the CPU reference. The fixed
 * tables hold the shapes someone thought of; the kernels choose tiles, row forms, span caps, unrolled loops and
 * wrapped pixels from the shape, so a shape nobody listed can reach a code path nobody tested. The generator draws
 * every kind of conv webcnn routes differently (1x1, depthwise with its multiplier, grouped with odd and aligned
 * groups, dense KxK, RGB stems), rectangular windows, strides and dilations up to 3, uneven padding, batch 2, 1x1
 * maps, odd channel counts, residuals, batch norms, clamp and table activations, and f16-packed storage.
 *
 * `npx tsx test/run-gpu-cases.ts conv-fuzz` runs it (CI: seed 1, 24 shapes); `WEBCNN_FUZZ_SEED` and
 * `WEBCNN_FUZZ_SHAPES` pick others, and a case's name carries its seed and index, so any failure reruns alone with
 * `--grep`.
 */
import type { KernelChoice } from '../src/runtime/kernel-choice.ts';
import { DEFAULT_KERNEL_CHOICE, GPU_KERNEL_CHOICE, SOFTWARE_UPGRADE_KERNELS } from '../src/runtime/kernel-choice.ts';
import { Rng } from '../src/util/random.ts';
import type { CaseEntry } from './case-share.ts';
import type { ActivationName, GpuCase } from './gpu-cases.ts';

/** A fuzzed conv: a conv case with its storage precision and weight seed. */
export type FuzzedConv = Extract<GpuCase, { kind: 'conv' }>;

/** The kernel choices every fuzzed shape runs on. */
export const FUZZ_KERNEL_CHOICES: readonly { readonly label: string; readonly kernels: KernelChoice }[] = [
  { label: 'software', kernels: DEFAULT_KERNEL_CHOICE },
  { label: 'upgrade', kernels: SOFTWARE_UPGRADE_KERNELS },
  { label: 'gpu', kernels: GPU_KERNEL_CHOICE },
];

/** The shapes CI fuzzes (x 3 kernel choices): enough to reach every conv kind, a minute or two on SwiftShader. */
export const CI_FUZZ_SHAPES = 24;

/** Multiply-adds a fuzzed conv stays under, so that the CPU reference and the run take milliseconds. */
const MAX_MACS = 3_000_000;

type ConvKind = 'pointwise' | 'depthwise' | 'grouped' | 'dense' | 'stem';
const KINDS: readonly ConvKind[] = ['pointwise', 'pointwise', 'depthwise', 'depthwise', 'grouped', 'grouped', 'dense', 'dense', 'dense', 'stem'];
const ACTIVATIONS: readonly ActivationName[] = ['none', 'relu', 'relu6', 'relu', 'fn:hard-swish', 'fn:sigmoid', 'fn:leaky-relu'];

/** The output size of one axis (ONNX's floor rule). */
function outputSize(size: number, kernel: number, stride: number, padBefore: number, padAfter: number, dilation: number): number {
  return Math.floor((size + padBefore + padAfter - (kernel - 1) * dilation - 1) / stride) + 1;
}

/**
 * A window axis: kernel, stride, dilation (drawn, or `like`'s), and the padding before and after ("same" mostly,
 * else none or uneven).
 */
function windowAxis(rng: Rng, kernel: number, strides: readonly number[], like?: { stride: number; dilation: number }) {
  const stride = like?.stride ?? rng.pick(strides);
  const dilation = like?.dilation ?? (kernel > 1 && rng.next() < 0.2 ? rng.int(2, 3) : 1);
  const reach = (kernel - 1) * dilation;
  const style = rng.next();
  if (style < 0.6) return { kernel, stride, dilation, before: Math.floor(reach / 2), after: Math.ceil(reach / 2) };
  if (style < 0.8) return { kernel, stride, dilation, before: 0, after: 0 };
  return { kernel, stride, dilation, before: rng.int(0, reach), after: rng.int(0, reach) };
}

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
    inC = rng.int(1, 72);
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
  const squareKernel = kind === 'pointwise' ? 1 : kind === 'stem' ? rng.pick([3, 5, 7]) : rng.pick([2, 3, 3, 3, 5, 7]);
  const rectangular = kind === 'dense' && rng.next() < 0.25;
  const kernelW = rectangular ? rng.pick([1, 3, 7]) : squareKernel;
  const kernelH = rectangular && kernelW !== 1 ? 1 : squareKernel;
  const strides = kind === 'stem' ? [2, 2, 1, 4] : [1, 1, 2, 3];
  const y = windowAxis(rng, kernelH, strides);
  // Mostly the same stride and dilation on both axes, as real networks have them.
  const x = windowAxis(rng, kernelW, strides, kernelH === kernelW && rng.next() < 0.8 ? y : undefined);
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
  const rng = new Rng(seed);
  const out: FuzzedConv[] = [];
  for (let i = 0; out.length < count; i++) {
    const c = drawConv(rng, KINDS[out.length % KINDS.length], seed * 1000 + out.length);
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

/** The runner's entries: every fuzzed conv on every kernel choice of `FUZZ_KERNEL_CHOICES`. */
export function convFuzzEntries(seed: number, count: number): CaseEntry[] {
  return fuzzedConvs(seed, count).flatMap((c, i) => FUZZ_KERNEL_CHOICES.map(({ label, kernels }): CaseEntry => ({
    name: `conv fuzz s${seed}#${i} ${label}: ${shapeLabel(c)}`,
    case: c,
    kernels,
  })));
}
