/** Shape rules of the upsampling ops (resize, arg max, transposed convolution). */
import { ShapeError } from '../errors.ts';
import type { ConvTransposeAttrs, ResizeAttrs, Shape4 } from './ir.ts';
import { shapeToString } from './ir.ts';

const COORDINATES = ['half_pixel', 'pytorch_half_pixel', 'align_corners', 'asymmetric'];
const ROUNDINGS = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'];

export function resizeOutputShape(input: Shape4, attrs: ResizeAttrs, where: string): Shape4 {
  const { mode, coordinates, nearest, scale, size } = attrs;
  if (mode !== 'nearest' && mode !== 'linear') throw new ShapeError(`${where}: resize mode '${String(mode)}' is not 'nearest' or 'linear'`);
  if (!COORDINATES.includes(coordinates)) throw new ShapeError(`${where}: resize coordinates '${String(coordinates)}' are not one of ${COORDINATES.join(', ')}`);
  if (!ROUNDINGS.includes(nearest)) throw new ShapeError(`${where}: resize rounding '${String(nearest)}' is not one of ${ROUNDINGS.join(', ')}`);
  if (!scale.every((s) => Number.isFinite(s) && s > 0)) throw new ShapeError(`${where}: resize scales [${scale.join(', ')}] must be positive`);
  if (!size.every((d) => Number.isInteger(d) && d >= 1)) throw new ShapeError(`${where}: resize size [${size.join(', ')}] must be positive integers`);
  return [input[0], input[1], size[0], size[1]];
}

/** `[n, c, h, w]` -> `[n, 1, h, w]`. */
export function argMaxOutputShape(input: Shape4, where: string): Shape4 {
  if (input[1] >= 2 ** 24) throw new ShapeError(`${where}: arg max over ${input[1]} channels: indices from 2^24 are not exact in f32`);
  return [input[0], 1, input[2], input[3]];
}

/** One axis: `(in - 1) * stride - padBegin - padEnd + dilation * (kernel - 1) + outputPadding + 1`. */
export function convTransposeOutputSize(inSize: number, kernel: number, stride: number, padBegin: number, padEnd: number, dilation: number, outputPadding: number): number {
  return (inSize - 1) * stride - padBegin - padEnd + dilation * (kernel - 1) + outputPadding + 1;
}

export function convTransposeOutputShape(input: Shape4, attrs: ConvTransposeAttrs, where: string): Shape4 {
  const [n, c, h, w] = input;
  const { groups, outChannels, kernel, stride, pads, dilation, outputPadding } = attrs;
  if (![...kernel, ...stride, ...dilation].every((v) => Number.isInteger(v) && v >= 1)) {
    throw new ShapeError(`${where}: conv transpose kernel, stride and dilation must be positive integers`);
  }
  if (!pads.every((p) => Number.isInteger(p) && p >= 0)) throw new ShapeError(`${where}: conv transpose pads must be non-negative integers, got [${pads.join(', ')}]`);
  if (!outputPadding.every((p, i) => Number.isInteger(p) && p >= 0 && (p < stride[i] || p < dilation[i]))) {
    throw new ShapeError(`${where}: conv transpose output padding [${outputPadding.join(', ')}] must be non-negative and below the stride or dilation`);
  }
  if (groups < 1 || c % groups !== 0 || outChannels % groups !== 0) {
    throw new ShapeError(`${where}: conv transpose groups=${groups} must divide input channels ${c} and output channels ${outChannels}`);
  }
  const expected = c * (outChannels / groups) * kernel[0] * kernel[1];
  if (attrs.weight.length !== expected) {
    throw new ShapeError(`${where}: conv transpose weight has ${attrs.weight.length} values, expected ${expected} ([${c}, ${outChannels / groups}, ${kernel[0]}, ${kernel[1]}])`);
  }
  if (attrs.bias && attrs.bias.length !== outChannels) throw new ShapeError(`${where}: conv transpose bias has ${attrs.bias.length} values, expected ${outChannels}`);
  const oh = convTransposeOutputSize(h, kernel[0], stride[0], pads[0], pads[2], dilation[0], outputPadding[0]);
  const ow = convTransposeOutputSize(w, kernel[1], stride[1], pads[1], pads[3], dilation[1], outputPadding[1]);
  if (oh < 1 || ow < 1) throw new ShapeError(`${where}: conv transpose of ${shapeToString(input)} leaves an empty output (${oh}x${ow})`);
  return [n, outChannels, oh, ow];
}
