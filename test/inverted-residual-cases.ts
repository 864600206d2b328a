/**
 * Inverted-residual blocks on the fused kernel (shaders/inverted-residual/: expand 1x1 + BN + act, depthwise +
 * BN + act, project 1x1 + BN (+ residual) in one launch) against the CPU reference of the unfused graph:
 * MobileNetV2 / V3 / EfficientNet / MnasNet shapes (3x3 and 5x5, stride 1 and 2; relu6, relu, hard-swish, silu),
 * expansion 1 (no expand conv), 3 and 6, odd channels, 1x1 maps, batch 2, no shortcut, more output vec4s than
 * a workgroup has invocations; squeeze-and-excitation blocks (three launches: squeeze, gate, excite) with the
 * pool as its own node and fused into fc1; f32 and f16-packed.
 */
import type { StoragePrecision } from '../shaders/common.ts';
import { activationEntry, functionActivation } from '../src/graph/activations/index.ts';
import type { GraphBuilder } from '../src/graph/builder.ts';
import type { Activation, Shape4, TensorId } from '../src/graph/ir.ts';
import { RELU, RELU6 } from '../src/graph/ir.ts';
import type { KernelChoice } from '../src/runtime/kernel-choice.ts';
import { DEFAULT_KERNEL_CHOICE } from '../src/runtime/kernel-choice.ts';
import type { Rng } from '../src/util/random.ts';
import type { GpuCase } from './gpu-cases.ts';
import type { TileCase } from './tile-cases.ts';

/** The block's hidden activation: a clamp, or `fn:<name>` of the activation table at its defaults. */
export type BlockActivation = 'relu' | 'relu6' | `fn:${string}`;

export interface FusedBlockCase {
  readonly kind: 'fusedBlock';
  readonly n: number;
  readonly inC: number;
  /** Hidden (expanded) channels; equal to `inC` with `expand` false. */
  readonly hidC: number;
  readonly outC: number;
  readonly h: number;
  readonly w: number;
  readonly kernel: number;
  readonly stride: number;
  /** An expand 1x1 conv before the depthwise one (false: MobileNetV2's first block). */
  readonly expand: boolean;
  /** Add the block's input to its output (stride 1, `inC === outC`). */
  readonly residual: boolean;
  readonly act: BlockActivation;
  /** Squeeze-and-excitation on the depthwise output (MobileNetV3, EfficientNet): pool, fc1 + act, fc2 + gate. */
  readonly se?: { readonly squeeze: number; readonly act: BlockActivation; readonly gate: BlockActivation };
}

function blockActivation(name: BlockActivation): Activation {
  if (name === 'relu') return RELU;
  if (name === 'relu6') return RELU6;
  const fn = name.slice(3);
  return functionActivation(fn, activationEntry(fn).defaults);
}

/** conv -> batch norm -> activation, the builder's unfused form (the passes fold and fuse them). */
function convBN(b: GraphBuilder, rng: Rng, x: TensorId, inC: number, outC: number, kernel: number, stride: number, groups: number, act: Activation | null): TensorId {
  const fanIn = (inC / groups) * kernel * kernel;
  const bound = Math.sqrt(3 / fanIn);
  let y = b.conv2d(x, {
    outChannels: outC, kernel, stride, padding: (kernel - 1) / 2, dilation: 1, groups,
    weight: rng.fill(outC * fanIn, -bound, bound), bias: null,
  });
  y = b.batchNorm(y, {
    gamma: rng.fill(outC, 0.5, 1.5), beta: rng.fill(outC, -0.3, 0.3), mean: rng.fill(outC, -0.3, 0.3), variance: rng.fill(outC, 0.5, 1.5), epsilon: 1e-5,
  });
  return act ? b.activation(y, act) : y;
}

/** `x * gate(fc2(act(fc1(mean(x)))))`, the gate a `[n, c, 1, 1]` map (the passes fold it into the next conv). */
function squeezeExcite(b: GraphBuilder, rng: Rng, x: TensorId, c: number, se: NonNullable<FusedBlockCase['se']>): TensorId {
  const fc = (t: TensorId, inC: number, outC: number, a: BlockActivation) =>
    b.activation(b.conv2d(t, { outChannels: outC, kernel: 1, weight: rng.fill(outC * inC, -1 / Math.sqrt(inC), 1 / Math.sqrt(inC)), bias: rng.fill(outC, -0.5, 0.5) }), blockActivation(a));
  const gate = fc(fc(b.globalAvgPool(x), c, se.squeeze, se.act), se.squeeze, c, se.gate);
  return b.binary('mul', x, gate);
}

export function buildFusedBlockCase(c: FusedBlockCase, b: GraphBuilder, rng: Rng, input: (name: string, shape: Shape4) => TensorId): TensorId {
  const x = input('x', [c.n, c.inC, c.h, c.w]);
  const act = blockActivation(c.act);
  const hidden = c.expand ? convBN(b, rng, x, c.inC, c.hidC, 1, 1, 1, act) : x;
  const mid = convBN(b, rng, hidden, c.hidC, c.hidC, c.kernel, c.stride, c.hidC, act);
  const y = convBN(b, rng, c.se ? squeezeExcite(b, rng, mid, c.hidC, c.se) : mid, c.hidC, c.outC, 1, 1, 1, null);
  return c.residual ? b.add(x, y) : y;
}

const block = (n: number, inC: number, ratio: number, outC: number, hw: [number, number], kernel: number, stride: number, act: BlockActivation): FusedBlockCase => ({
  kind: 'fusedBlock', n, inC, hidC: inC * ratio, outC, h: hw[0], w: hw[1], kernel, stride, expand: ratio !== 1,
  residual: stride === 1 && inC === outC, act,
});

export const FUSED_BLOCK_SHAPES: readonly [string, FusedBlockCase][] = [
  ['MobileNetV2 3x3 stride 1, residual', block(1, 24, 6, 24, [14, 14], 3, 1, 'relu6')],
  ['MobileNetV2 3x3 stride 2, odd map', block(1, 16, 6, 24, [15, 15], 3, 2, 'relu6')],
  ['MobileNetV2 first block (no expand)', block(1, 32, 1, 16, [14, 14], 3, 1, 'relu6')],
  ['MobileNetV2 3x3 stride 1, no shortcut, batch 2', block(2, 32, 6, 48, [7, 7], 3, 1, 'relu6')],
  ['EfficientNet 5x5 stride 1, silu, residual, odd map', block(1, 20, 3, 20, [9, 13], 5, 1, 'fn:silu')],
  ['MobileNetV3 5x5 stride 2, hard-swish, odd channels, batch 2', block(2, 7, 6, 11, [13, 10], 5, 2, 'fn:hard-swish')],
  ['MnasNet 3x3 stride 2, relu, expansion 3, odd channels', block(1, 5, 3, 9, [7, 6], 3, 2, 'relu')],
  ['1x1 map, batch 2, residual', block(2, 8, 6, 8, [1, 1], 3, 1, 'relu6')],
  ['5x5 stride 2, 1x1 map', block(1, 6, 6, 10, [1, 1], 5, 2, 'fn:hard-swish')],
  ['320 output channels (two output rounds), 7x7 map', block(1, 32, 6, 300, [7, 7], 3, 1, 'relu6')],
  ['no expand, odd channels, stride 2', block(1, 13, 1, 7, [9, 8], 3, 2, 'relu')],
];

/** Squeeze-and-excitation blocks (three launches), with the pool as its own node (the software default). */
export const FUSED_SE_SHAPE: readonly [string, FusedBlockCase] = ['MobileNetV3 SE, 5x5 stride 2, hard-swish, relu / hard-sigmoid gate, odd channels, batch 2',
  { ...block(2, 7, 6, 11, [13, 10], 5, 2, 'fn:hard-swish'), se: { squeeze: 10, act: 'relu', gate: 'fn:hard-sigmoid' } }];

/** EfficientNet's first block: SE without expansion; run with the pool fused into fc1 (the GPU default). */
export const FUSED_SE_POOLED_SHAPE: readonly [string, FusedBlockCase] = ['EfficientNet SE, no expand, silu / sigmoid gate, residual, pool fused into fc1',
  { ...block(1, 12, 1, 12, [9, 11], 3, 1, 'fn:silu'), se: { squeeze: 3, act: 'fn:silu', gate: 'fn:sigmoid' } }];

const FUSED = { ...DEFAULT_KERNEL_CHOICE, invertedResidual: 'fused' } as const;

function tile([name, c]: readonly [string, FusedBlockCase], kernels: KernelChoice, precision: StoragePrecision): TileCase {
  const suffix = precision === 'f32' ? '' : ` [${precision}]`;
  return { name: `fused inverted residual, ${name}${suffix}`, case: precision === 'f32' ? c : { ...c, precision } as GpuCase, kernels };
}

const cases = (precision: StoragePrecision): TileCase[] => FUSED_BLOCK_SHAPES.map((s) => tile(s, FUSED, precision));
const seCases = (precision: StoragePrecision): TileCase[] =>
  [tile(FUSED_SE_SHAPE, FUSED, precision), tile(FUSED_SE_POOLED_SHAPE, { ...FUSED, fusePoolLinear: true }, precision)];

export const FUSED_BLOCK_CASES: readonly TileCase[] = cases('f32');
export const FUSED_BLOCK_F16_CASES: readonly TileCase[] = cases('f16-packed');
/** The SE cases, in the Node runner only (CI's time budget): f32 and f16-packed. */
export const FUSED_SE_CASES: readonly TileCase[] = [...seCases('f32'), ...seCases('f16-packed')];
