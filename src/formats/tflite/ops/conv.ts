/** CONV_2D and DEPTHWISE_CONV_2D: filters transposed to the IR layout; a folded PAD adds to the padding. */
import { ModelFormatError } from '../../../errors.ts';
import { addPads } from '../../../graph/ir.ts';
import { checkWindow } from '../../limits.ts';
import type { TfliteConverter, TfliteOpConverter } from '../converter.ts';
import { dimsToString } from '../dims.ts';
import type { TfliteOperator } from '../schema.ts';
import { conv2dOptions, depthwiseConv2dOptions } from '../schema.ts';

export const conv2d: TfliteOpConverter = (tc, op, { where, name }) => convert(tc, op, false, where, name);
export const depthwiseConv2d: TfliteOpConverter = (tc, op, { where, name }) => convert(tc, op, true, where, name);

function convert(tc: TfliteConverter, op: TfliteOperator, depthwise: boolean, where: string, name: string): void {
  const o = depthwise ? depthwiseConv2dOptions(op.options) : conv2dOptions(op.options);
  const activation = tc.fusedActivation(o.activation, where);
  const { x, pads: extra } = tc.windowInput(op.inputs[0], where);
  const [, c, h, w] = tc.b.shape(x);
  const filter = tc.constant(op.inputs[1], 'filter', where);
  if (filter.dims.length !== 4) {
    throw new ModelFormatError(`${where}: filter is ${dimsToString(filter.dims)}, expected rank 4`);
  }
  const stride: [number, number] = [o.strideH, o.strideW];
  const dilation: [number, number] = [o.dilationH, o.dilationW];
  if (![...stride, ...dilation].every((v) => Number.isInteger(v) && v >= 1)) {
    throw new ModelFormatError(`${where}: stride ${stride.join('x')} and dilation ${dilation.join('x')} must be positive`);
  }
  let outC: number;
  let groups: number;
  let kh: number;
  let kw: number;
  let weight: Float32Array;
  const f = filter.data;
  if (depthwise) {
    const [one, fh, fw, oc] = filter.dims;
    [kh, kw, outC] = [fh, fw, oc];
    if (one !== 1 || oc % c !== 0) {
      throw new ModelFormatError(`${where}: depthwise filter ${dimsToString(filter.dims)} does not fit ${c} input channels`);
    }
    const m = oc / c;
    const declared = depthwiseConv2dOptions(op.options).depthMultiplier;
    if (declared !== 0 && declared !== m) {
      throw new ModelFormatError(`${where}: depth_multiplier ${declared} but filter has ${oc} channels for ${c} inputs`);
    }
    groups = c;
    // [1, kh, kw, C*m] -> [C*m, 1, kh, kw]; output channel o reads input channel floor(o / m) in both.
    weight = tc.budget.floats(oc * kh * kw, `${where}: filter`);
    for (let y = 0; y < kh; y++) {
      for (let xx = 0; xx < kw; xx++) {
        for (let oo = 0; oo < oc; oo++) weight[(oo * kh + y) * kw + xx] = f[(y * kw + xx) * oc + oo];
      }
    }
  } else {
    const [oc, fh, fw, ic] = filter.dims;
    [kh, kw, outC] = [fh, fw, oc];
    if (ic < 1 || c % ic !== 0 || oc % (c / ic) !== 0) {
      throw new ModelFormatError(`${where}: filter ${dimsToString(filter.dims)} (OHWI) does not fit ${c} input channels`);
    }
    groups = c / ic;
    // OHWI -> OIHW.
    weight = tc.budget.floats(oc * ic * kh * kw, `${where}: filter`);
    for (let oo = 0; oo < oc; oo++) {
      for (let y = 0; y < kh; y++) {
        for (let xx = 0; xx < kw; xx++) {
          const src = ((oo * kh + y) * kw + xx) * ic;
          for (let i = 0; i < ic; i++) weight[((oo * ic + i) * kh + y) * kw + xx] = f[src + i];
        }
      }
    }
  }
  const pads = tc.windowPads(o.padding, [h, w], [kh, kw], stride, dilation, where);
  // Checked as the padding the conv will have once `absorbPads` has folded a PAD in front into it.
  checkWindow({ kernel: [kh, kw], stride, dilation, pads: addPads(pads, extra) }, where);
  const y = tc.b.conv2d(
    x,
    { outChannels: outC, kernel: [kh, kw], stride, padding: pads, dilation, groups, weight, bias: tc.bias(op, outC, where), activation },
    name,
  );
  tc.bindOutput(op, y, where);
}
