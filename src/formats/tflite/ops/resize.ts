/**
 * RESIZE_BILINEAR and RESIZE_NEAREST_NEIGHBOR, mapped onto ONNX's coordinate modes (scale = out / in):
 * - bilinear: default -> asymmetric; align_corners -> align_corners; half_pixel_centers -> half_pixel (TFLite
 *   clamps the taps to the input, as the IR's linear resize does);
 * - nearest: default -> asymmetric + floor; align_corners -> align_corners + round half up (TfLiteRound on
 *   non-negative values); half_pixel_centers -> `floor((y + 0.5) * in / out)` = half_pixel + round_prefer_ceil.
 */
import { UnsupportedOpError } from '../../../errors.ts';
import type { NearestRounding, ResizeCoordinates } from '../../../graph/ir.ts';
import type { TfliteConverter, TfliteOpConverter } from '../converter.ts';
import type { TfliteOperator } from '../schema.ts';
import { resizeBilinearOptions, resizeNearestNeighborOptions } from '../schema.ts';

/** Most a resize may enlarge one axis (keeps a fuzzed size from asking for a huge tensor). */
const MAX_RESIZE_FACTOR = 64;

function convert(tc: TfliteConverter, op: TfliteOperator, bilinear: boolean, where: string, name: string): void {
  const o = bilinear ? resizeBilinearOptions(op.options) : resizeNearestNeighborOptions(op.options);
  if (o.alignCorners && o.halfPixelCenters) throw new UnsupportedOpError(`${where}: align_corners and half_pixel_centers together are not supported`);
  const x = tc.activation(op.inputs[0], where);
  const [, , h, w] = tc.b.shape(x);
  const size = tc.intConstant(op.inputs[1], 'size', where);
  if (size.length !== 2 || !size.every((d) => Number.isInteger(d) && d >= 1) || size[0] > h * MAX_RESIZE_FACTOR || size[1] > w * MAX_RESIZE_FACTOR) {
    throw new UnsupportedOpError(`${where}: size [${size.join(', ')}] must be two positive integers, at most ${MAX_RESIZE_FACTOR} times the input's ${h}x${w}`);
  }
  const coordinates: ResizeCoordinates = o.alignCorners ? 'align_corners' : o.halfPixelCenters ? 'half_pixel' : 'asymmetric';
  const nearest: NearestRounding = o.alignCorners || o.halfPixelCenters ? 'round_prefer_ceil' : 'floor';
  const id = tc.b.resize(x, { mode: bilinear ? 'linear' : 'nearest', size: [size[0], size[1]], coordinates, nearest }, name);
  tc.bindOutput(op, id, where);
}

export const resizeBilinear: TfliteOpConverter = (tc, op, { where, name }) => convert(tc, op, true, where, name);
export const resizeNearestNeighbor: TfliteOpConverter = (tc, op, { where, name }) => convert(tc, op, false, where, name);
