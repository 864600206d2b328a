/**
 * GPU cases of the element-wise binary ops (`binary` nodes): every op, both operands computed or one constant,
 * broadcasting (per-channel `[1, C, 1, 1]`, per-(n, c) `[N, C, 1, 1]`, scalars, mixed axes), fused clamps, and the
 * squeeze-and-excitation block (GAP -> 1x1 -> act -> 1x1 -> gate -> Mul with the map), with clamps standing in
 * for the sigmoid gate. Built by `buildCase` (gpu-cases.ts) like every other case.
 */
import type { GraphBuilder } from '../src/graph/builder.ts';
import type { Activation, BinaryOp, Shape4, TensorId } from '../src/graph/ir.ts';
import { NO_ACTIVATION, RELU, RELU6, elementCount } from '../src/graph/ir.ts';
import type { Rng } from '../src/util/random.ts';

type Range = readonly [number, number];

export interface BinaryCase {
  readonly kind: 'binary';
  readonly op: BinaryOp;
  readonly a: Shape4;
  readonly b: Shape4;
  /** Which operand is a constant (absent: both are graph inputs). */
  readonly constant?: 'a' | 'b';
  /** Value ranges of the operands (default [-1, 1]). */
  readonly aRange?: Range;
  readonly bRange?: Range;
  /** Round the second operand's values to integers (integer powers of negative bases). */
  readonly bIntegers?: boolean;
  readonly activation?: 'none' | 'relu' | 'relu6';
}

/** Squeeze-and-excitation on `[n, c, h, w]` with `reduced` hidden channels, then a 1x1 conv of the scaled map. */
export interface SqueezeExciteCase {
  readonly kind: 'squeezeExcite';
  readonly n: number;
  readonly c: number;
  readonly h: number;
  readonly w: number;
  readonly reduced: number;
  readonly outC: number;
}

const CLAMPS: Record<NonNullable<BinaryCase['activation']>, Activation> = { none: NO_ACTIVATION, relu: RELU, relu6: RELU6 };

/** The graph of a binary or squeeze-and-excitation case; `input` adds a graph input with random values. */
export function buildBinaryCase(
  c: BinaryCase | SqueezeExciteCase,
  b: GraphBuilder,
  rng: Rng,
  input: (name: string, shape: Shape4, lo?: number, hi?: number) => TensorId,
): TensorId {
  if (c.kind === 'squeezeExcite') return squeezeExcite(c, b, rng, input);
  const [aLo, aHi] = c.aRange ?? [-1, 1];
  const [bLo, bHi] = c.bRange ?? [-1, 1];
  const constant = (shape: Shape4, lo: number, hi: number, integers: boolean) => {
    const values = rng.fill(elementCount(shape), lo, hi);
    if (integers) values.forEach((v, i) => (values[i] = Math.round(v)));
    return { shape, values };
  };
  const a = c.constant === 'a' ? constant(c.a, aLo, aHi, false) : input('a', c.a, aLo, aHi);
  let bOperand;
  if (c.constant === 'b') bOperand = constant(c.b, bLo, bHi, c.bIntegers ?? false);
  else {
    bOperand = input('b', c.b, bLo, bHi);
    if (c.bIntegers) throw new Error('bIntegers needs a constant b');
  }
  return b.binary(c.op, a, bOperand, c.op, CLAMPS[c.activation ?? 'none']);
}

function squeezeExcite(
  c: SqueezeExciteCase,
  b: GraphBuilder,
  rng: Rng,
  input: (name: string, shape: Shape4, lo?: number, hi?: number) => TensorId,
): TensorId {
  const x = input('x', [c.n, c.c, c.h, c.w]);
  const conv = (t: TensorId, inC: number, outC: number, activation: Activation, name: string): TensorId => {
    const bound = Math.sqrt(3 / inC);
    return b.conv2d(t, { outChannels: outC, kernel: 1, weight: rng.fill(outC * inC, -bound, bound), bias: rng.fill(outC, -0.5, 0.5), activation }, name);
  };
  const pooled = b.globalAvgPool(x, 'se.pool');
  const hidden = conv(pooled, c.c, c.reduced, RELU, 'se.fc1');
  // A hard gate in [0, 1] (clip), standing in for sigmoid / hard-sigmoid.
  const gate = conv(hidden, c.reduced, c.c, { kind: 'clip', min: 0, max: 1 }, 'se.fc2');
  const scaled = b.binary('mul', x, gate, 'se.scale');
  return conv(scaled, c.c, c.outC, NO_ACTIVATION, 'project');
}

/** The binary cases, appended to the kernel cases (so they also run at the f16 storage precisions). */
export const BINARY_CASES: readonly (BinaryCase | SqueezeExciteCase)[] = [
  // Two computed operands: same shape, per-channel, per-(n, c) (SE), scalar, mixed broadcast axes.
  { kind: 'binary', op: 'mul', a: [2, 6, 5, 4], b: [2, 6, 5, 4] },
  { kind: 'binary', op: 'mul', a: [2, 10, 5, 3], b: [2, 10, 1, 1], activation: 'relu' },
  { kind: 'binary', op: 'sub', a: [1, 1, 5, 4], b: [2, 7, 5, 1] },
  { kind: 'binary', op: 'sub', a: [2, 5, 3, 3], b: [1, 1, 1, 1], activation: 'relu6' },
  { kind: 'binary', op: 'div', a: [2, 7, 4, 3], b: [1, 7, 1, 1], bRange: [0.5, 2] },
  { kind: 'binary', op: 'div', a: [1, 1, 1, 1], b: [1, 6, 3, 2], bRange: [-2, -0.5] },
  { kind: 'binary', op: 'min', a: [2, 6, 4, 4], b: [2, 6, 4, 4] },
  { kind: 'binary', op: 'max', a: [1, 9, 3, 5], b: [1, 9, 1, 5] },
  { kind: 'binary', op: 'squaredDifference', a: [1, 8, 3, 3], b: [1, 8, 3, 3] },
  { kind: 'binary', op: 'pow', a: [1, 5, 3, 4], b: [1, 5, 3, 4], aRange: [0.1, 2], bRange: [-2, 3] },
  { kind: 'binary', op: 'add', a: [2, 3, 4, 5], b: [1, 3, 4, 5], activation: 'relu' },
  // A constant operand: full shape, per-channel, scalar, in either place.
  { kind: 'binary', op: 'sub', a: [1, 6, 4, 4], b: [1, 6, 4, 4], constant: 'a' },
  { kind: 'binary', op: 'div', a: [1, 1, 1, 1], b: [2, 5, 3, 3], constant: 'a', bRange: [0.5, 2] },
  { kind: 'binary', op: 'mul', a: [2, 7, 3, 2], b: [1, 7, 1, 1], constant: 'b' },
  { kind: 'binary', op: 'pow', a: [1, 6, 3, 3], b: [1, 1, 1, 1], constant: 'b', aRange: [0.05, 3], bRange: [0.5, 0.5] },
  { kind: 'binary', op: 'pow', a: [2, 5, 2, 3], b: [1, 5, 1, 1], constant: 'b', bRange: [-3, 3], bIntegers: true },
  { kind: 'binary', op: 'max', a: [1, 6, 2, 2], b: [1, 6, 2, 2], constant: 'b', activation: 'relu6' },
  { kind: 'binary', op: 'min', a: [1, 3, 1, 4], b: [1, 3, 5, 1], constant: 'a' },
  // Squeeze-and-excitation: the gate broadcasts per (n, c); channel counts that leave padding lanes.
  { kind: 'squeezeExcite', n: 1, c: 16, h: 7, w: 7, reduced: 4, outC: 8 },
  { kind: 'squeezeExcite', n: 2, c: 10, h: 5, w: 6, reduced: 3, outC: 6 },
  // PRelu: a constant slope per channel (ONNX's [C, 1, 1], TFLite's [1, 1, C]), along the last axis, and computed.
  { kind: 'binary', op: 'prelu', a: [2, 7, 4, 3], b: [1, 7, 1, 1], constant: 'b' },
  { kind: 'binary', op: 'prelu', a: [3, 4, 5, 1], b: [1, 1, 5, 1], constant: 'b', activation: 'relu6' },
  { kind: 'binary', op: 'prelu', a: [1, 6, 3, 5], b: [1, 6, 3, 5] },
  { kind: 'binary', op: 'prelu', a: [2, 9, 3, 3], b: [1, 9, 1, 1] },
];
