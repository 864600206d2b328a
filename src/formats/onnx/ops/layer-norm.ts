/**
 * LayerNormalization (opset 17) over the channel axis: the last axis of a channels-last view (ConvNeXt's
 * LayerNorm2d and its blocks), axis 1 of a rank-4 NCHW tensor over C only (impossible: axis 1 normalises C, H and
 * W together, so refused unless H = W = 1), or the last axis of a rank-2 `[n, c]` tensor.
 */
import type { Converter } from '../context.ts';
import type { RuntimeValue } from '../values.ts';
import { fmt, product } from '../values.ts';

export const LayerNormalization: Converter = (ctx) => {
  const x = ctx.runtime(0, 'X');
  const rank = x.dims.length;
  const axis = ctx.axis(ctx.attrInt('axis', -1), rank, 'axis');
  const epsilon = ctx.attrFloat('epsilon', 1e-5);
  ctx.requireUnusedOutputs(1, 'Mean / InvStdDev');
  // The normalised axes, in the IR, must be exactly the channel axis (the others size 1).
  const normalised = x.dims.slice(axis);
  const channels = product(normalised);
  const irChannelAxis = x.channelsLast ? 3 : 1;
  const overChannels =
    (x.channelsLast && axis === 3) ||
    (!x.channelsLast && rank >= 2 && axis <= 1 && x.dims.slice(2).every((d) => d === 1) && (axis === 1 || x.dims[0] === 1)) ||
    (!x.channelsLast && rank === 1);
  if (!overChannels) {
    throw ctx.unsupported(`axis ${axis} of ${fmt(x.dims)}${x.channelsLast ? ' (a channels-last view)' : ''} does not normalise over channels only; webcnn's layer norm runs over channels (ONNX axis ${irChannelAxis} there)`);
  }
  const perChannel = (k: number, what: string): Float32Array | null => {
    const v = k === 1 ? ctx.constant(1, what) : ctx.optionalConstant(k, what);
    if (!v) return null;
    const values = ctx.floats(v, what);
    if (values.length === channels) return values;
    if (values.length === 1) return ctx.imp.budget.floats(channels, `${ctx.where}: ${what}`).fill(values[0]);
    throw ctx.invalid(`${what} ${fmt(v.dims)} does not match the normalised dims ${fmt(normalised)}`);
  };
  const gamma = perChannel(1, 'Scale')!;
  const beta = perChannel(2, 'B');
  const id = ctx.b.layerNorm(x.id, { epsilon, gamma, beta }, ctx.name);
  const out: RuntimeValue = { ...x, id };
  ctx.setOutput(out);
};
