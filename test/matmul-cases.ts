/**
 * GPU cases of `matMul` nodes (ONNX MatMul / Gemm of computed operands): plain 2-D, sizes off the 4 x 4 tile,
 * batched over `c` (several vec4 lanes, padding lanes) and over `n`, broadcast batches, both transposes, alpha /
 * beta, and a bias computed or constant that broadcasts per row, per column, per element or as a scalar. Built by
 * `buildCase` (gpu-cases.ts) like every other case.
 */
import type { GraphBuilder } from '../src/graph/builder.ts';
import type { Shape4, TensorId } from '../src/graph/ir.ts';
import { elementCount } from '../src/graph/ir.ts';
import type { Rng } from '../src/util/random.ts';

export interface MatMulCase {
  readonly kind: 'matMul';
  readonly a: Shape4;
  readonly b: Shape4;
  readonly transA?: boolean;
  readonly transB?: boolean;
  readonly alpha?: number;
  readonly beta?: number;
  /** The bias C's shape, a graph input (`'tensor'`) or a constant. */
  readonly bias?: { readonly shape: Shape4; readonly as: 'tensor' | 'constant' };
}

export function buildMatMulCase(
  c: MatMulCase,
  b: GraphBuilder,
  rng: Rng,
  input: (name: string, shape: Shape4, lo?: number, hi?: number) => TensorId,
): TensorId {
  const a = input('a', c.a);
  const bb = input('b', c.b);
  const bias = c.bias === undefined ? undefined : c.bias.as === 'tensor' ? input('c', c.bias.shape) : { shape: c.bias.shape, values: rng.fill(elementCount(c.bias.shape), -1, 1) };
  return b.matMul(a, bb, { transA: c.transA, transB: c.transB, alpha: c.alpha, beta: c.beta, bias });
}

export const MATMUL_CASES: readonly MatMulCase[] = [
  { kind: 'matMul', a: [1, 1, 3, 4], b: [1, 1, 4, 3] },
  { kind: 'matMul', a: [1, 1, 9, 13], b: [1, 1, 13, 6] },
  { kind: 'matMul', a: [1, 1, 1, 33], b: [1, 1, 33, 1] },
  // Batched over channels (ONNX [B, M, K] x [B, K, N] lands as [1, B, M, K]): 6 channels leave padding lanes.
  { kind: 'matMul', a: [1, 6, 5, 7], b: [1, 6, 7, 3] },
  { kind: 'matMul', a: [2, 3, 4, 5], b: [2, 3, 5, 6] },
  // Broadcast batches: a shared right matrix, a shared left one, n against c.
  { kind: 'matMul', a: [2, 5, 3, 4], b: [1, 1, 4, 5] },
  { kind: 'matMul', a: [1, 1, 6, 2], b: [3, 2, 2, 7] },
  { kind: 'matMul', a: [2, 1, 3, 3], b: [1, 4, 3, 2] },
  // Transposes, alpha, beta, biases (Gemm).
  { kind: 'matMul', a: [1, 1, 5, 3], b: [1, 1, 5, 4], transA: true },
  { kind: 'matMul', a: [1, 1, 3, 5], b: [1, 1, 4, 5], transB: true, bias: { shape: [1, 1, 1, 4], as: 'constant' } },
  { kind: 'matMul', a: [1, 1, 6, 3], b: [1, 1, 7, 6], transA: true, transB: true, alpha: 0.25, beta: 0.35, bias: { shape: [1, 1, 3, 7], as: 'tensor' } },
  { kind: 'matMul', a: [1, 1, 4, 6], b: [1, 1, 6, 5], bias: { shape: [1, 1, 4, 1], as: 'constant' }, beta: 2 },
  { kind: 'matMul', a: [1, 1, 3, 6], b: [1, 1, 6, 4], bias: { shape: [1, 1, 1, 1], as: 'tensor' } },
  { kind: 'matMul', a: [2, 6, 3, 4], b: [2, 6, 4, 5], bias: { shape: [1, 6, 1, 5], as: 'constant' } },
];
