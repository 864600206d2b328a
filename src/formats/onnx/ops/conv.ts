/** Conv (1-D and 2-D, grouped, dilated); the `absorbPads` pass later folds a zero Pad in front into its padding. */
import type { Converter } from '../context.ts';
import { fmt, sameDims } from '../values.ts';
import { outDimsFromIR, resolveWindow, spatialInput } from '../window.ts';

export const Conv: Converter = (ctx) => {
  const xv = ctx.runtime(0, 'input X');
  const rank = spatialInput(ctx, xv);
  const w = ctx.constant(1, 'weight W');
  if (w.dims.length !== rank) throw ctx.invalid(`weight W has dims ${fmt(w.dims)}, expected rank ${rank}`);
  const [M, perGroup, ...kernel] = w.dims;
  const group = ctx.attrInt('group', 1);
  const C = xv.dims[1];
  if (!Number.isInteger(group) || group < 1 || perGroup * group !== C || M % group !== 0) {
    throw ctx.invalid(`weight W ${fmt(w.dims)} with group ${group} does not fit input ${fmt(xv.dims)}`);
  }
  const ks = ctx.attrInts('kernel_shape');
  if (ks && !sameDims(ks, kernel)) throw ctx.invalid(`kernel_shape ${fmt(ks)} differs from the weight's ${fmt(kernel)}`);
  const win = resolveWindow(ctx, xv.dims.slice(2), kernel, true);
  const bias = ctx.optionalConstant(2, 'bias B');
  const biasValues = bias ? ctx.floats(bias, 'bias B') : null;
  if (biasValues && biasValues.length !== M) throw ctx.invalid(`bias B has ${biasValues.length} values, expected ${M}`);

  const id = ctx.b.conv2d(
    xv.id,
    {
      outChannels: M,
      kernel: win.kernel,
      stride: win.stride,
      padding: win.pads,
      dilation: win.dilation,
      groups: group,
      weight: ctx.floats(w, 'weight W'),
      bias: biasValues,
    },
    ctx.name,
  );
  ctx.runtimeOut(id, outDimsFromIR(ctx.b.shape(id), rank));
};
