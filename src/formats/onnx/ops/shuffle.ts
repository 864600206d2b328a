/**
 * ShuffleNet's channel shuffle, `Reshape [n, g, c/g, h, w] -> Transpose [0, 2, 1, 3, 4] -> Reshape [n, c, h, w]`:
 * the rank-5 values stay the IR tensor `[n, c, h, w]` (same element order) and the Transpose becomes a
 * `shuffleChannels` node, which `foldChannelPermutations` folds into the next dense convolution where that is its
 * only reader.
 */
import type { Converter, NodeContext } from '../context.ts';
import type { RuntimeValue } from '../values.ts';
import { fmt, sameDims } from '../values.ts';

const SHUFFLE_PERM = [0, 2, 1, 3, 4];

/** Whether every reader of output `k` is a node of `opType` (and the value is no graph output). */
function onlyReadBy(ctx: NodeContext, opType: string, k = 0): boolean {
  const name = ctx.outputName(k);
  const readers = ctx.imp.readers(name);
  return readers.length > 0 && readers.length === (ctx.imp.uses.get(name) ?? 0) && readers.every((r) => r.op_type === opType);
}

/** A Reshape of `[n, c, h, w]` to `[n, g, c / g, h, w]` that feeds a channel shuffle's Transpose. */
export function channelGroups(ctx: NodeContext, x: RuntimeValue, dims: readonly number[]): RuntimeValue {
  const [n, c, h, w] = x.dims;
  const fits = x.dims.length === 4 && dims[0] === n && dims[1] * dims[2] === c && dims[3] === h && dims[4] === w;
  if (!fits || !onlyReadBy(ctx, 'Transpose')) {
    throw ctx.unsupported(`reshaping ${fmt(x.dims)} to rank 5 ${fmt(dims)} is supported only as a channel shuffle ([n, g, c/g, h, w] read by a Transpose)`);
  }
  return { kind: 'runtime', dims, id: x.id };
}

/** A rank-5 Transpose: ShuffleNet's channel shuffle only (`transpose.ts` hands rank-5 perms here). */
export const shuffleTranspose: Converter = (ctx) => {
  const x = ctx.runtime(0, 'data');
  const perm = ctx.attrInts('perm') ?? x.dims.map((_, i) => x.dims.length - 1 - i);
  if (x.dims.length !== 5 || !sameDims(perm, SHUFFLE_PERM) || !onlyReadBy(ctx, 'Reshape')) {
    throw ctx.unsupported(`transposing ${fmt(x.dims)} with perm ${fmt(perm)} is not supported; webcnn transposes only a channel shuffle (rank 5, perm [0, 2, 1, 3, 4], read by a Reshape)`);
  }
  const [n, groups, size, h, w] = x.dims;
  ctx.runtimeOut(ctx.b.shuffleChannels(x.id, groups, ctx.name), [n, size, groups, h, w]);
};
