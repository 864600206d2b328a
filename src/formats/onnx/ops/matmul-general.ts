/**
 * MatMul and Gemm whose operands are both computed (or that the linear-layer path cannot take: transA on a
 * matrix, a bias that differs between rows or is computed): one `matMul` node. Operands go to rank 4 (batch in
 * the IR's `n, c`, the matrix in `h, w`; a reshape, free or a gather), the result back to ONNX's dims.
 */
import type { MatMulAttrs } from '../../../graph/ir.ts';
import type { NodeContext } from '../context.ts';
import type { RuntimeValue, Value } from '../values.ts';
import { broadcastDims, fmt } from '../values.ts';

/** `v` as a rank-4 runtime value `[b0, b1, rows, cols]` (leading 1s), refusing channels-last views. */
function asMatrix4(ctx: NodeContext, v: Value, dims: readonly number[], what: string): RuntimeValue {
  if (v.kind === 'constant') throw ctx.unsupported(`${what} is a constant in a product the linear layer cannot take (a constant A, or transA on a matrix); webcnn's general MatMul / Gemm takes computed operands`);
  if (v.channelsLast) throw ctx.unsupported(`${what} ${fmt(v.dims)} is a channels-last view, which a product of computed operands does not take`);
  return ctx.imp.reshapeTo({ ...v, dims: v.dims }, [...new Array<number>(4 - dims.length).fill(1), ...dims], `${ctx.name}/${what.replace(/ /g, '_')}_4d`);
}

/** ONNX MatMul of two computed operands (NumPy semantics: rank-1 operands promoted and dropped again). */
export function generalMatMul(ctx: NodeContext, a: Value, b: Value): void {
  if (a.dims.length === 0 || b.dims.length === 0) throw ctx.invalid('MatMul of a scalar');
  const aDims = a.dims.length === 1 ? [1, a.dims[0]] : [...a.dims];
  const bDims = b.dims.length === 1 ? [b.dims[0], 1] : [...b.dims];
  const [M, K] = aDims.slice(-2);
  const [kb, N] = bDims.slice(-2);
  if (K !== kb) throw ctx.invalid(`A ${fmt(a.dims)} and B ${fmt(b.dims)} do not multiply`);
  const batch = broadcastDims(aDims.slice(0, -2), bDims.slice(0, -2));
  if (!batch) throw ctx.invalid(`the batch axes of A ${fmt(a.dims)} and B ${fmt(b.dims)} do not broadcast`);
  if (batch.length > 2) throw ctx.unsupported(`a MatMul with ${batch.length} batch axes is not supported (at most 2: webcnn tensors have rank 4 or less)`);
  const id = ctx.b.matMul(asMatrix4(ctx, a, aDims, 'input A').id, asMatrix4(ctx, b, bDims, 'input B').id, {}, ctx.name);
  const out = [...batch, ...(a.dims.length === 1 ? [] : [M]), ...(b.dims.length === 1 ? [] : [N])];
  const dims4 = [...new Array<number>(2 - batch.length).fill(1), ...batch, M, N];
  ctx.setOutput(ctx.imp.reshapeTo({ kind: 'runtime', dims: dims4, id }, out, `${ctx.name}/unflatten`));
}

/** ONNX Gemm as one `matMul` node: A, B rank 2, C (optional, constant or computed) broadcast to `[M, N]`. */
export function generalGemm(ctx: NodeContext, a: Value, b: Value, c: Value | undefined, o: Pick<MatMulAttrs, 'transA' | 'transB' | 'alpha' | 'beta'>): void {
  if (a.dims.length !== 2 || b.dims.length !== 2) throw ctx.invalid(`inputs A ${fmt(a.dims)} and B ${fmt(b.dims)} must have rank 2`);
  const [M, K] = o.transA ? [a.dims[1], a.dims[0]] : a.dims;
  const [kb, N] = o.transB ? [b.dims[1], b.dims[0]] : b.dims;
  if (K !== kb) throw ctx.invalid(`A ${fmt(a.dims)} and B ${fmt(b.dims)} (transA ${Number(o.transA)}, transB ${Number(o.transB)}) do not multiply`);
  let bias: MatMulAttrs['bias'] | number | undefined;
  if (c && o.beta !== 0) {
    const joined = broadcastDims([M, N], c.dims);
    if (c.dims.length > 2 || !joined || joined[0] !== M || joined[1] !== N) throw ctx.invalid(`input C ${fmt(c.dims)} does not broadcast to [${M}, ${N}]`);
    const [h, w] = [...new Array<number>(2 - c.dims.length).fill(1), ...c.dims];
    bias = c.kind === 'constant' ? { shape: [1, 1, h, w], values: ctx.floats(c, 'input C') } : asMatrix4(ctx, c, [h, w], 'input C').id;
  }
  const id = ctx.b.matMul(asMatrix4(ctx, a, a.dims, 'input A').id, asMatrix4(ctx, b, b.dims, 'input B').id, { ...o, bias }, ctx.name);
  ctx.setOutput(ctx.imp.reshapeTo({ kind: 'runtime', dims: [1, 1, M, N], id }, [M, N], `${ctx.name}/unflatten`));
}
