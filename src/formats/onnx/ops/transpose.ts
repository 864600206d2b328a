/**
 * Transpose: NCHW -> NHWC (`[0, 2, 3, 1]`) and back (`[0, 3, 1, 2]`) as channels-last views (`channels-last.ts`),
 * which cost nothing; the identity permutation; and any permutation that moves only size-1 axes (element order
 * unchanged: a reshape).
 */
import type { Converter } from '../context.ts';
import { fmt } from '../values.ts';
import { TO_CHANNELS_FIRST, TO_CHANNELS_LAST, channelsLastOf, nchwOf } from './channels-last.ts';
import { shuffleTranspose } from './shuffle.ts';

const samePerm = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

export const Transpose: Converter = (ctx) => {
  const x = ctx.runtime(0, 'data');
  const rank = x.dims.length;
  const perm = ctx.attrInts('perm') ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
  if (perm.length !== rank || [...perm].sort((p, q) => p - q).some((p, i) => p !== i)) {
    throw ctx.invalid(`perm [${perm.join(', ')}] is not a permutation of the ${rank} axes of ${fmt(x.dims)}`);
  }
  if (x.channelsLast) {
    if (samePerm(perm, TO_CHANNELS_FIRST)) return ctx.setOutput(nchwOf(x));
    if (samePerm(perm, [0, 1, 2, 3])) return ctx.setOutput(x);
    throw ctx.unsupported(`perm [${perm.join(', ')}] of a channels-last view is not supported (only [0, 3, 1, 2] back to NCHW)`);
  }
  if (perm.every((p, i) => p === i)) return ctx.setOutput(x);
  if (rank === 4 && samePerm(perm, TO_CHANNELS_LAST)) return ctx.setOutput(channelsLastOf(x));
  // Moving only size-1 axes keeps the row-major element order: a reshape.
  const moved = perm.map((p) => x.dims[p]);
  const order = perm.filter((p) => x.dims[p] !== 1);
  if (order.every((p, i) => i === 0 || p > order[i - 1])) return ctx.setOutput(ctx.imp.reshapeTo(x, moved, ctx.name));
  if (rank === 5) return shuffleTranspose(ctx);
  throw ctx.unsupported(`perm [${perm.join(', ')}] of ${fmt(x.dims)} is not supported (NCHW <-> NHWC, moving size-1 axes, or a rank-5 channel shuffle, only)`);
};
