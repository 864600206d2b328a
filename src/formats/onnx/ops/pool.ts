/** AveragePool and MaxPool; the `absorbPads` pass later folds a zero (average) or -inf (max) Pad in front into them where that is exact. */
import type { Converter } from '../context.ts';
import { fmt } from '../values.ts';
import { outDimsFromIR, resolveWindow, spatialInput } from '../window.ts';

export const AveragePool: Converter = poolConverter('avg');
export const MaxPool: Converter = poolConverter('max');

function poolConverter(kind: 'avg' | 'max'): Converter {
  return (ctx) => {
    const xv = ctx.runtime(0, 'input X');
    const rank = spatialInput(ctx, xv);
    const kernel = ctx.attrInts('kernel_shape');
    if (!kernel) throw ctx.invalid("attribute 'kernel_shape' is missing");
    if (kernel.length !== rank - 2) throw ctx.invalid(`kernel_shape ${fmt(kernel)} should have ${rank - 2} values`);
    const win = resolveWindow(ctx, xv.dims.slice(2), kernel, true);
    if (kind === 'avg' && (win.dilation[0] !== 1 || win.dilation[1] !== 1)) {
      throw ctx.unsupported(`dilations ${fmt(ctx.attrInts('dilations') ?? [])} are not supported for AveragePool`);
    }
    const explicitCeil = ctx.opset >= 10 && ctx.attrInt('ceil_mode', 0) !== 0;
    // SAME and VALID fix the output size exactly; ceil_mode matters with explicit pads only.
    const ceilMode = explicitCeil && (win.autoPad === 'NOTSET' || win.autoPad === '');
    const countIncludePad = kind === 'avg' && ctx.attrInt('count_include_pad', 0) !== 0;
    if (kind === 'max') ctx.requireUnusedOutputs(1, 'the Indices output');

    const options = { kernel: win.kernel, stride: win.stride, padding: win.pads, dilation: win.dilation, ceilMode, countIncludePad };
    const id = kind === 'max' ? ctx.b.maxPool(xv.id, options, ctx.name) : ctx.b.avgPool(xv.id, options, ctx.name);
    ctx.runtimeOut(id, outDimsFromIR(ctx.b.shape(id), rank));
  };
}
