/** ConvTranspose on 4-D inputs: strides, pads or auto_pad, output_padding or output_shape, dilations, groups. */
import type { Converter } from '../context.ts';
import { fmt } from '../values.ts';

export const ConvTranspose: Converter = (ctx) => {
  const x = ctx.runtime(0, 'input X');
  if (x.dims.length !== 4) throw ctx.unsupported(`input ${fmt(x.dims)}: webcnn runs 2-D ConvTranspose (4-D input) only`);
  const w = ctx.constant(1, 'weight W');
  const C = x.dims[1];
  if (w.dims.length !== 4 || w.dims[0] !== C) throw ctx.invalid(`weight W has dims ${fmt(w.dims)}, expected [${C}, M / group, kh, kw]`);
  const group = ctx.attrInt('group', 1);
  if (!Number.isInteger(group) || group < 1 || C % group !== 0) throw ctx.invalid(`group ${group} does not divide the ${C} input channels`);
  const M = w.dims[1] * group;
  const kernel: [number, number] = [w.dims[2], w.dims[3]];
  const ks = ctx.attrInts('kernel_shape');
  if (ks && (ks.length !== 2 || ks[0] !== kernel[0] || ks[1] !== kernel[1])) throw ctx.invalid(`kernel_shape ${fmt(ks)} differs from the weight's ${fmt(kernel)}`);
  const pair = (name: string, fallback: number): [number, number] => {
    const v = ctx.attrInts(name);
    if (!v) return [fallback, fallback];
    if (v.length !== 2) throw ctx.invalid(`attribute '${name}' has ${v.length} values, expected 2`);
    return [v[0], v[1]];
  };
  const stride = pair('strides', 1);
  const dilation = pair('dilations', 1);
  if (![...stride, ...dilation].every((v) => Number.isInteger(v) && v >= 1)) throw ctx.invalid(`strides ${fmt(stride)} and dilations ${fmt(dilation)} must be positive`);
  let outputPadding = pair('output_padding', 0);
  const span = (i: 0 | 1) => dilation[i] * (kernel[i] - 1) + 1;
  const full = (i: 0 | 1) => stride[i] * (x.dims[2 + i] - 1) + outputPadding[i] + span(i);
  let pads: [number, number, number, number];
  const autoPad = ctx.attrString('auto_pad', 'NOTSET');
  const outputShape = ctx.attrInts('output_shape');
  if (outputShape || autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    // Total padding = full extent - wanted; SAME_UPPER puts the odd unit at the end (as ONNX's node tests and
    // ONNX Runtime do), SAME_LOWER at the start.
    const wanted = outputShape ? outputShape.slice(-2) : [x.dims[2] * stride[0], x.dims[3] * stride[1]];
    if (wanted.length !== 2) throw ctx.invalid(`output_shape ${fmt(outputShape ?? [])} should give H and W`);
    const total = [full(0) - wanted[0], full(1) - wanted[1]];
    if (total.some((t) => t < 0)) {
      // Larger than the full extent: the remainder is output padding.
      outputPadding = [outputPadding[0] + Math.max(0, -total[0]), outputPadding[1] + Math.max(0, -total[1])];
    }
    const t = total.map((v) => Math.max(0, v));
    const lower = autoPad === 'SAME_LOWER';
    const begin = t.map((v) => (lower ? v - Math.floor(v / 2) : Math.floor(v / 2)));
    pads = [begin[0], begin[1], t[0] - begin[0], t[1] - begin[1]];
  } else if (autoPad === 'NOTSET' || autoPad === 'VALID') {
    const p = ctx.attrInts('pads') ?? [0, 0, 0, 0];
    if (p.length !== 4) throw ctx.invalid(`pads ${fmt(p)} should have 4 values`);
    pads = autoPad === 'VALID' ? [0, 0, 0, 0] : [p[0], p[1], p[2], p[3]];
  } else {
    throw ctx.unsupported(`auto_pad '${autoPad}' is not supported`);
  }
  const bias = ctx.optionalConstant(2, 'bias B');
  const biasValues = bias ? ctx.floats(bias, 'bias B') : null;
  if (biasValues && biasValues.length !== M) throw ctx.invalid(`bias B has ${biasValues.length} values, expected ${M}`);
  const id = ctx.b.convTranspose(
    x.id,
    { outChannels: M, kernel, stride, padding: pads, outputPadding, dilation, groups: group, weight: ctx.floats(w, 'weight W'), bias: biasValues },
    ctx.name,
  );
  const s = ctx.b.shape(id);
  ctx.runtimeOut(id, [s[0], s[1], s[2], s[3]]);
};
