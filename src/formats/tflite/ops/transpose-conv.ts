/**
 * TRANSPOSE_CONV (inputs: output_shape, OHWI filter, input, optional bias). The padding is TFLite's: that of
 * the forward convolution from the declared output to the input (SAME: `total = max((in - 1) * stride + k - out,
 * 0)`, the smaller half first); what the declared output has beyond the full transposed extent is output padding.
 */
import { ModelFormatError, UnsupportedOpError } from '../../../errors.ts';
import type { TfliteOpConverter } from '../converter.ts';
import { dimsToString } from '../dims.ts';
import { FusedActivation, Padding, transposeConvOptions } from '../schema.ts';

export const transposeConv: TfliteOpConverter = (tc, op, { where, name }) => {
  const o = transposeConvOptions(op.options);
  if (o.activation !== FusedActivation.NONE) throw new UnsupportedOpError(`${where}: a fused activation on TRANSPOSE_CONV is not supported`);
  const outShape = tc.intConstant(op.inputs[0], 'output_shape', where);
  const filter = tc.constant(op.inputs[1], 'filter', where);
  const x = tc.activation(op.inputs[2], where);
  const [n, c, h, w] = tc.b.shape(x);
  if (outShape.length !== 4 || outShape[0] !== n) throw new ModelFormatError(`${where}: output_shape ${dimsToString(outShape)} does not fit batch ${n}`);
  if (filter.dims.length !== 4 || filter.dims[3] !== c || filter.dims[0] !== outShape[3]) {
    throw new ModelFormatError(`${where}: filter ${dimsToString(filter.dims)} (OHWI) does not fit ${c} input and ${outShape[3]} output channels`);
  }
  const [oc, kh, kw] = filter.dims;
  const stride: [number, number] = [o.strideH, o.strideW];
  if (!stride.every((s) => Number.isInteger(s) && s >= 1)) throw new ModelFormatError(`${where}: stride ${stride.join('x')} must be positive`);
  const axis = (inSize: number, k: number, s: number, out: number): { begin: number; end: number; extra: number } => {
    const total = o.padding === Padding.SAME ? Math.max((inSize - 1) * s + k - out, 0) : 0;
    const begin = Math.floor(total / 2);
    const end = (inSize - 1) * s + k - out - begin;
    return end >= 0 ? { begin, end, extra: 0 } : { begin, end: 0, extra: -end };
  };
  const ay = axis(h, kh, stride[0], outShape[1]);
  const ax = axis(w, kw, stride[1], outShape[2]);
  // OHWI -> [inC, outC, kh, kw].
  const f = filter.data;
  const weight = tc.budget.floats(c * oc * kh * kw, `${where}: filter`);
  for (let oo = 0; oo < oc; oo++) {
    for (let y = 0; y < kh; y++) {
      for (let xx = 0; xx < kw; xx++) {
        for (let i = 0; i < c; i++) weight[((i * oc + oo) * kh + y) * kw + xx] = f[((oo * kh + y) * kw + xx) * c + i];
      }
    }
  }
  const biasOp = { ...op, inputs: [op.inputs[2], op.inputs[1], op.inputs[3] ?? -1] };
  const bias = tc.bias(biasOp, oc, where);
  const id = tc.b.convTranspose(
    x,
    { outChannels: oc, kernel: [kh, kw], stride, padding: [ay.begin, ax.begin, ay.end, ax.end], outputPadding: [ay.extra, ax.extra], weight, bias },
    name,
  );
  tc.bindOutput(op, id, where);
};
