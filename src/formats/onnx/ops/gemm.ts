/** Gemm with a constant B: a linear layer. */
import type { Converter, NodeContext } from '../context.ts';
import { broadcastDims, fmt, sameDims } from '../values.ts';

export const Gemm: Converter = (ctx) => {
  let a = ctx.runtime(0, 'input A');
  if (a.dims.length !== 2) throw ctx.invalid(`input A ${fmt(a.dims)} must have rank 2`);
  if (ctx.attrInt('transA', 0) !== 0) {
    // A^T of a [K, 1] column is the [1, K] row with the same data.
    if (a.dims[1] !== 1) throw ctx.unsupported(`transA=1 on a computed input ${fmt(a.dims)} is not supported`);
    a = ctx.imp.reshapeTo(a, [1, a.dims[0]], `${ctx.name}/transpose_a`);
  }
  const [M, K] = a.dims;
  const bv = ctx.constant(1, 'input B');
  if (bv.dims.length !== 2) throw ctx.invalid(`input B ${fmt(bv.dims)} must have rank 2`);
  const transB = ctx.attrInt('transB', 0) !== 0;
  const [kb, N] = transB ? [bv.dims[1], bv.dims[0]] : [bv.dims[0], bv.dims[1]];
  if (kb !== K) throw ctx.invalid(`A ${fmt(a.dims)} and B ${fmt(bv.dims)}${transB ? ' (transposed)' : ''} do not multiply`);
  const alpha = ctx.attrFloat('alpha', 1);
  const beta = ctx.attrFloat('beta', 1);
  const B = ctx.floats(bv, 'input B');
  // PyTorch's Linear exports as transB = 1, alpha = 1: B is already `[out, in]` and serves as it is (weights
  // are never written to), which spares ResNet-50's loader an 8 MB copy.
  const weight = transB && alpha === 1 ? B : ctx.imp.budget.floats(N * K, `${ctx.where}: weights`);
  if (weight !== B) for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) weight[n * K + k] = alpha * (transB ? B[n * K + k] : B[k * N + n]);
  let bias: Float32Array | null = null;
  const c = ctx.input(2);
  if (c && beta !== 0) {
    if (c.kind !== 'constant') throw ctx.unsupported('a computed bias C is not supported (only constants)');
    bias = rowBias(ctx, ctx.floats(c, 'input C'), c.dims, M, N, 'input C');
    for (let i = 0; i < N; i++) bias[i] *= beta;
  }
  const id = ctx.b.linear(a.id, { outFeatures: N, weight, bias }, ctx.name);
  ctx.runtimeOut(id, [M, N]);
};

/** A Gemm bias C, unidirectionally broadcast to `[M, N]`, as one row of N values (rows must agree). */
function rowBias(ctx: NodeContext, c: Float32Array, dims: readonly number[], M: number, N: number, what: string): Float32Array {
  const out = broadcastDims([M, N], dims);
  if (!out || !sameDims(out, [M, N])) throw ctx.invalid(`${what} ${fmt(dims)} does not broadcast to [${M}, ${N}]`);
  const aligned = [...new Array<number>(2 - Math.min(2, dims.length)).fill(1), ...dims.slice(-2)];
  const [rowsC, colsC] = aligned;
  if (rowsC > 1 && M > 1) throw ctx.unsupported(`a bias ${fmt(dims)} that differs between rows is not supported`);
  const row = ctx.imp.budget.floats(N, `${ctx.where}: ${what}`);
  for (let n = 0; n < N; n++) row[n] = c[colsC === 1 ? 0 : n];
  return row;
}
