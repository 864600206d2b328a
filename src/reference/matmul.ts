/** CPU reference of `matMul` nodes (`MatMulNode`, `src/graph/ir.ts`): f64 sums, stored as f32. */
import type { MatMulAttrs, Shape4 } from '../graph/ir.ts';
import { matMulDims, matMulOutputShape } from '../graph/matmul-shapes.ts';
import type { TensorData } from './ops.ts';

/** `alpha * op(A) @ op(B) + beta * C` for every (n, c) of the broadcast batch; `c` is the computed bias, if any. */
export function matMul(
  a: Float32Array,
  aShape: Shape4,
  b: Float32Array,
  bShape: Shape4,
  c: { readonly data: Float32Array; readonly shape: Shape4 } | null,
  attrs: MatMulAttrs,
  where = 'matmul',
): TensorData {
  const shape = matMulOutputShape(aShape, bShape, c?.shape ?? null, attrs, where);
  const [M, K, N] = matMulDims(aShape, bShape, attrs, where);
  const bias = c ?? (attrs.bias ? { data: attrs.bias.values, shape: attrs.bias.shape } : null);
  const [BN, BC] = shape;
  const out = new Float32Array(BN * BC * M * N);
  // Element (row, col) of a matrix stored as the last two axes `[rows, cols]` of batch (n, c), broadcasting.
  const at = (s: Shape4, n: number, ch: number): number => ((s[0] === 1 ? 0 : n) * s[1] + (s[1] === 1 ? 0 : ch)) * s[2] * s[3];
  for (let n = 0; n < BN; n++)
    for (let ch = 0; ch < BC; ch++) {
      const a0 = at(aShape, n, ch);
      const b0 = at(bShape, n, ch);
      for (let i = 0; i < M; i++)
        for (let j = 0; j < N; j++) {
          let sum = 0;
          for (let k = 0; k < K; k++) {
            const av = a[a0 + (attrs.transA ? k * aShape[3] + i : i * aShape[3] + k)];
            const bv = b[b0 + (attrs.transB ? j * bShape[3] + k : k * bShape[3] + j)];
            sum += av * bv;
          }
          let v = attrs.alpha * sum;
          if (bias) {
            const s = bias.shape;
            v += attrs.beta * bias.data[at(s, n, ch) + (s[2] === 1 ? 0 : i) * s[3] + (s[3] === 1 ? 0 : j)];
          }
          out[((n * BC + ch) * M + i) * N + j] = v;
        }
    }
  return { data: out, shape };
}
