/** Softmax (opset < 13: over the coerced 2-D tail; 13+: one axis). */
import type { Converter } from '../context.ts';
import { irAxis } from '../values.ts';

export const Softmax: Converter = (ctx) => {
  const x = ctx.runtime(0, 'input');
  const rank = x.dims.length;
  if (rank === 0) throw ctx.invalid('input is a scalar');
  let axes: [number, number];
  if (ctx.opset < 13) {
    // Coerced to 2-D at `axis`: the softmax runs jointly over axes axis..rank-1.
    const axis = ctx.axis(ctx.attrInt('axis', 1), rank, 'axis');
    axes = [axis === 0 ? 0 : irAxis(rank, axis), 3];
  } else {
    const axis = irAxis(rank, ctx.axis(ctx.attrInt('axis', -1), rank, 'axis'));
    axes = [axis, axis];
  }
  const [n, , h, w] = ctx.b.shape(x.id);
  // The plain form (features of a flat tensor) when that is what it is.
  const flat = h === 1 && w === 1 && axes[0] <= 1 && axes[1] >= 1 && (axes[0] === 1 || n === 1);
  ctx.runtimeOut(flat ? ctx.b.softmax(x.id, ctx.name) : ctx.b.softmax(x.id, ctx.name, axes), x.dims);
};
