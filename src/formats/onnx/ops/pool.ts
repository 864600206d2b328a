/** AveragePool and MaxPool; a zero (average) or -inf (max) Pad in front becomes their padding where that is exact. */
import type { Pads } from '../../../graph/ir.ts';
import type { Converter } from '../context.ts';
import type { RuntimeValue } from '../values.ts';
import { fmt } from '../values.ts';
import { addPads, outDimsFromIR, resolveWindow, spatialInput } from '../window.ts';

export const AveragePool: Converter = poolConverter('avg');
export const MaxPool: Converter = poolConverter('max');

function poolConverter(kind: 'avg' | 'max'): Converter {
  return (ctx) => {
    const xv = ctx.runtimeOrPadded(0, 'input X');
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
    let countIncludePad = kind === 'avg' && ctx.attrInt('count_include_pad', 0) !== 0;
    if (kind === 'max') ctx.requireUnusedOutputs(1, 'the Indices output');

    let src: RuntimeValue;
    let pads: Pads = win.pads;
    const extent = (p: Pads) => p[0] < win.kernel[0] * win.dilation[0] && p[2] < win.kernel[0] * win.dilation[0] &&
      p[1] < win.kernel[1] * win.dilation[1] && p[3] < win.kernel[1] * win.dilation[1];
    const foldable =
      xv.kind === 'padded' &&
      !ceilMode &&
      xv.pads.every((p) => p >= 0) &&
      extent(addPads(pads, xv.pads)) &&
      // Zeros that count in the divisor are padding an average pool counts; -inf never wins a max.
      (kind === 'avg' ? xv.value === 0 && (countIncludePad || pads.every((p) => p === 0)) : xv.value === -Infinity);
    if (xv.kind === 'padded' && foldable) {
      src = xv.source;
      pads = addPads(pads, xv.pads);
      if (kind === 'avg') countIncludePad = true;
    } else {
      src = ctx.imp.materialize(xv);
    }
    const options = { kernel: win.kernel, stride: win.stride, padding: pads, dilation: win.dilation, ceilMode, countIncludePad };
    const id = kind === 'max' ? ctx.b.maxPool(src.id, options, ctx.name) : ctx.b.avgPool(src.id, options, ctx.name);
    ctx.runtimeOut(id, outDimsFromIR(ctx.b.shape(id), rank));
  };
}
