/**
 * MatMul with a constant B: a linear layer over the rows of A (a 1x1 convolution on a channels-last view). Two
 * computed operands: `matmul-general.ts`.
 */
import type { Converter } from '../context.ts';
import { generalMatMul } from './matmul-general.ts';
import { fmt, product } from '../values.ts';

export const MatMul: Converter = (ctx) => {
  const av = ctx.requireInput(0, 'input A');
  const bInput = ctx.requireInput(1, 'input B');
  // Two computed operands (or a constant A): the general batched product.
  if (av.kind === 'constant' || bInput.kind !== 'constant') return generalMatMul(ctx, av, bInput);
  const a = av;
  const bv = bInput;
  if (a.dims.length === 0) throw ctx.invalid('input A is a scalar');
  let bd = [...bv.dims];
  while (bd.length > 2 && bd[0] === 1) bd = bd.slice(1);
  if (bd.length > 2) throw ctx.unsupported(`a batched constant B ${fmt(bv.dims)} is not supported`);
  const vectorB = bd.length === 1;
  const [K, N] = vectorB ? [bd[0], 1] : [bd[0], bd[1]];
  const aK = a.dims[a.dims.length - 1];
  if (aK !== K) throw ctx.invalid(`A ${fmt(a.dims)} and B ${fmt(bv.dims)} do not multiply`);
  const B = ctx.floats(bv, 'input B');
  const weight = ctx.imp.budget.floats(N * K, `${ctx.where}: weights`);
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) weight[n * K + k] = B[k * N + n];
  if (a.channelsLast) {
    // A Linear on the last axis of a channels-last view: a 1x1 convolution of the NCHW tensor.
    if (vectorB || bv.dims.length > 2) throw ctx.unsupported(`B ${fmt(bv.dims)} with a channels-last A must be a [K, N] matrix`);
    const id = ctx.b.conv2d(a.id, { outChannels: N, kernel: 1, weight }, ctx.name);
    ctx.setOutput({ kind: 'runtime', dims: [...a.dims.slice(0, -1), N], id, channelsLast: true });
    return;
  }
  // Rows of A (every leading index) through a linear layer, then back to A's leading dims.
  const lead = a.dims.slice(0, -1);
  const rows = product(lead);
  const flat = a.dims.length === 2 ? a : ctx.imp.reshapeTo(a, a.dims.length === 1 ? [K] : [rows, K], `${ctx.name}/rows`);
  const id = ctx.b.linear(flat.id, { outFeatures: N, weight }, ctx.name);
  const linearDims = a.dims.length === 1 ? [N] : [rows, N];
  // NumPy broadcasting: B's batch dims (all 1 here) still count towards the result's rank.
  const batchB = Math.max(0, bv.dims.length - 2);
  const batchA = Math.max(0, a.dims.length - 2);
  const ones = new Array<number>(Math.max(0, batchB - batchA)).fill(1);
  const outDims = [...ones, ...(vectorB ? lead : [...lead, N])];
  const out = ctx.imp.reshapeTo({ kind: 'runtime', dims: linearDims, id }, outDims, `${ctx.name}/unflatten`);
  ctx.setOutput(out);
};
