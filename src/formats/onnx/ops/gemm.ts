/** Gemm with a constant B: a linear layer; other Gemms: `matmul-general.ts`. */
import type { Converter, NodeContext } from '../context.ts';
import type { Value } from '../values.ts';
import { generalGemm } from './matmul-general.ts';
import { broadcastDims, fmt, irShapeOf, sameDims } from '../values.ts';

export const Gemm: Converter = (ctx) => {
  const av = ctx.requireInput(0, 'input A');
  const bIn = ctx.requireInput(1, 'input B');
  const cIn = ctx.input(2);
  const transA = ctx.attrInt('transA', 0) !== 0;
  if (av.dims.length !== 2) throw ctx.invalid(`input A ${fmt(av.dims)} must have rank 2`);
  // The linear layer takes a computed A (transposed only as a [K, 1] column), a constant B and a constant bias
  // (one row in its epilogue, else an add after it); anything else is the general product (`matmul-general.ts`).
  const rowsAgree = (c: Value) => c.dims.length < 2 || c.dims[c.dims.length - 2] === 1 || (transA ? av.dims[1] : av.dims[0]) === 1;
  const linear = av.kind === 'runtime' && bIn.kind === 'constant' && (!transA || av.dims[1] === 1) && (!cIn || ctx.attrFloat('beta', 1) === 0 || cIn.kind === 'constant');
  if (!linear) {
    const o = { transA, transB: ctx.attrInt('transB', 0) !== 0, alpha: ctx.attrFloat('alpha', 1), beta: ctx.attrFloat('beta', 1) };
    return generalGemm(ctx, av, bIn, cIn, o);
  }
  let a = av;
  if (transA) {
    // A^T of a [K, 1] column is the [1, K] row with the same data.
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
  let rows: Float32Array | null = null;
  if (c && beta !== 0) {
    if (c.kind !== 'constant') throw ctx.unsupported('a computed bias C is not supported (only constants)');
    const values = ctx.floats(c, 'input C');
    if (rowsAgree(c)) {
      bias = rowBias(ctx, values, c.dims, M, N, 'input C');
      for (let i = 0; i < N; i++) bias[i] *= beta;
    } else {
      const out = broadcastDims([M, N], c.dims);
      if (c.dims.length > 2 || !out || !sameDims(out, [M, N])) throw ctx.invalid(`input C ${fmt(c.dims)} does not broadcast to [${M}, ${N}]`);
      rows = ctx.imp.budget.floats(values.length, `${ctx.where}: input C`);
      for (let i = 0; i < values.length; i++) rows[i] = beta * values[i];
    }
  }
  const id = ctx.b.linear(a.id, { outFeatures: N, weight, bias }, rows ? `${ctx.name}/product` : ctx.name);
  if (!rows || !c) return ctx.runtimeOut(id, [M, N]);
  // A bias that differs between rows: added to the linear layer's output (the epilogue adds one row only).
  const shape = irShapeOf([...new Array<number>(2 - c.dims.length).fill(1), ...c.dims]);
  ctx.runtimeOut(ctx.b.binary('add', id, { shape, values: rows }, ctx.name), [M, N]);
};

/** A Gemm bias C, unidirectionally broadcast to `[M, N]`, as one row of N values (its rows agree). */
function rowBias(ctx: NodeContext, c: Float32Array, dims: readonly number[], M: number, N: number, what: string): Float32Array {
  const out = broadcastDims([M, N], dims);
  if (!out || !sameDims(out, [M, N])) throw ctx.invalid(`${what} ${fmt(dims)} does not broadcast to [${M}, ${N}]`);
  const aligned = [...new Array<number>(2 - Math.min(2, dims.length)).fill(1), ...dims.slice(-2)];
  const [rowsC, colsC] = aligned;
  const row = ctx.imp.budget.floats(N, `${ctx.where}: ${what}`);
  for (let n = 0; n < N; n++) row[n] = c[colsC === 1 ? 0 : n];
  return row;
}
