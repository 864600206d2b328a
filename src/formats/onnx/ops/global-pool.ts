/** GlobalAveragePool and GlobalMaxPool. */
import type { Converter } from '../context.ts';
import { spatialInput } from '../window.ts';

export const GlobalAveragePool: Converter = (ctx) => {
  const x = ctx.runtime(0, 'input X');
  const rank = spatialInput(ctx, x);
  ctx.runtimeOut(ctx.b.globalAvgPool(x.id, ctx.name), [x.dims[0], x.dims[1], ...new Array<number>(rank - 2).fill(1)]);
};

export const GlobalMaxPool: Converter = (ctx) => {
  const x = ctx.runtime(0, 'input X');
  const rank = spatialInput(ctx, x);
  const [, , h, w] = ctx.b.shape(x.id);
  const id = ctx.b.maxPool(x.id, { kernel: [h, w], stride: 1 }, ctx.name);
  ctx.runtimeOut(id, [x.dims[0], x.dims[1], ...new Array<number>(rank - 2).fill(1)]);
};
