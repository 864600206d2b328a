/** Relu and Clip: activation nodes that the compiler later fuses into the producer. */
import { RELU } from '../../../graph/ir.ts';
import type { Converter } from '../context.ts';
import { clipActivation } from '../values.ts';

export const Relu: Converter = (ctx) => {
  const x = ctx.runtime(0, 'input X');
  ctx.runtimeOut(ctx.b.activation(x.id, RELU, ctx.name), x.dims);
};

export const Clip: Converter = (ctx) => {
  const x = ctx.runtime(0, 'input');
  let min: number;
  let max: number;
  if (ctx.opset < 11) {
    min = ctx.attrFloat('min', -Infinity);
    max = ctx.attrFloat('max', Infinity);
  } else {
    const lo = ctx.optionalConstant(1, 'min');
    const hi = ctx.optionalConstant(2, 'max');
    min = lo ? ctx.scalar(lo, 'min') : -Infinity;
    max = hi ? ctx.scalar(hi, 'max') : Infinity;
  }
  if (Number.isNaN(min) || Number.isNaN(max)) throw ctx.unsupported('NaN clip bounds are not supported');
  // min > max: every value becomes max (ONNX: Min(max, Max(input, min))).
  if (min > max) min = max;
  const act = clipActivation(min, max);
  if (act.kind === 'none') ctx.setOutput(x);
  else ctx.runtimeOut(ctx.b.activation(x.id, act, ctx.name), x.dims);
};
