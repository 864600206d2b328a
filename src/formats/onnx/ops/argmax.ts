/** ArgMax over axis 1 (the IR's channels) of a rank 2 to 4 input (select_last_index 0); the index is an exact f32 in the IR. */
import type { Converter } from '../context.ts';
import { fmt } from '../values.ts';

export const ArgMax: Converter = (ctx) => {
  const x = ctx.runtime(0, 'data');
  const rank = x.dims.length;
  if (rank < 2 || rank > 4) throw ctx.unsupported(`input ${fmt(x.dims)}: webcnn takes ArgMax over axis 1 of rank 2 to 4 tensors only`);
  const axis = ctx.axis(ctx.attrInt('axis', 0), rank, 'axis');
  if (axis !== 1) throw ctx.unsupported(`axis ${axis} is not supported; webcnn takes ArgMax over the channels (axis 1)`);
  if (ctx.attrInt('select_last_index', 0) !== 0) throw ctx.unsupported('select_last_index 1 is not supported');
  const keep = ctx.attrInt('keepdims', 1) !== 0;
  const id = ctx.b.argMax(x.id, ctx.name);
  const out = { kind: 'runtime' as const, dims: x.dims.map((d, i) => (i === 1 ? 1 : d)), id };
  // keepdims 0 drops axis 1: the same element order, so a reshape of the one-channel map.
  ctx.setOutput(keep ? out : ctx.imp.reshapeTo(out, x.dims.filter((_, i) => i !== 1), `${ctx.name}/squeeze`));
};
