/**
 * Gather, Unsqueeze and Squeeze of computed tensors (constants fold in `shape.ts`, which calls these for the
 * rest): Gather with a constant index on the channel axis (GoogLeNet's and Inception v3's `transform_input`,
 * `x[:, 0]`) as channel slices, Unsqueeze / Squeeze as reshapes (free where the IR shape agrees).
 */
import type { NodeContext } from '../context.ts';
import type { RuntimeValue } from '../values.ts';
import { fmt, irAxis } from '../values.ts';

export function gatherRuntime(ctx: NodeContext, x: RuntimeValue): void {
  const rank = x.dims.length;
  if (rank === 0) throw ctx.invalid('data is a scalar');
  const axis = ctx.axis(ctx.attrInt('axis', 0), rank, 'axis');
  const indices = ctx.constant(1, 'indices');
  if (irAxis(rank, axis) !== 1 || indices.dims.length > 1) {
    throw ctx.unsupported(`gathering axis ${axis} of ${fmt(x.dims)} with indices ${fmt(indices.dims)} is not supported; webcnn gathers a scalar or 1-D constant index on the channel axis (1) only`);
  }
  const channels = x.dims[axis];
  const picked = ctx.ints(indices, 'indices').map((i) => {
    if (!Number.isInteger(i) || i < -channels || i >= channels) throw ctx.invalid(`index ${i} is out of range for ${channels} channels`);
    return i < 0 ? i + channels : i;
  });
  if (picked.length === 0) throw ctx.unsupported('the index list is empty; webcnn tensors have at least one element');
  const id = gatherChannels(ctx, x, channels, picked);
  const value: RuntimeValue = { kind: 'runtime', dims: x.dims.map((d, i) => (i === axis ? picked.length : d)), id };
  // A scalar index drops the axis: `[n, h, w]`, a reshape that Unsqueeze back to `[n, 1, h, w]` undoes for free.
  ctx.setOutput(indices.dims.length === 0 ? ctx.imp.reshapeTo(value, x.dims.filter((_, i) => i !== axis), ctx.name) : value);
}

/** Channels `picked` of `x` in that order: one slice per run of consecutive channels, concatenated. */
function gatherChannels(ctx: NodeContext, x: RuntimeValue, channels: number, picked: readonly number[]): number {
  const runs: [number, number][] = [];
  for (const c of picked) {
    const last = runs[runs.length - 1];
    if (last && last[0] + last[1] === c) last[1]++;
    else runs.push([c, 1]);
  }
  const parts = runs.map(([start, count], k) =>
    start === 0 && count === channels ? x.id : ctx.b.sliceChannels(x.id, start, count, runs.length === 1 ? ctx.name : `${ctx.name}:${k}`),
  );
  return parts.length === 1 ? parts[0] : ctx.b.concat(parts, ctx.name);
}

/** Unsqueeze / Squeeze of a computed tensor to `dims` (from the constant rules): a reshape. */
export function reshapeRuntime(ctx: NodeContext, x: RuntimeValue, dims: readonly number[]): void {
  ctx.setOutput(ctx.imp.reshapeTo(x, dims, ctx.name));
}
