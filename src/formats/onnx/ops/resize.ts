/**
 * Resize (opset 10+) and Upsample (opset 7-9) on the spatial axes of a 4-D input: nearest and linear, with the
 * coordinate transforms half_pixel, pytorch_half_pixel, align_corners and asymmetric. Before opset 11 the
 * transform is asymmetric and nearest takes the floor (what Upsample's definition does).
 */
import type { NearestRounding, ResizeCoordinates } from '../../../graph/ir.ts';
import type { Converter, NodeContext } from '../context.ts';
import { fmt } from '../values.ts';

const COORDINATES: readonly ResizeCoordinates[] = ['half_pixel', 'pytorch_half_pixel', 'align_corners', 'asymmetric'];
const ROUNDINGS: readonly NearestRounding[] = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'];

/** Most a resize may enlarge one axis (keeps a fuzzed scale from asking for a huge tensor). */
const MAX_RESIZE_FACTOR = 64;

function mode(ctx: NodeContext): 'nearest' | 'linear' {
  const m = ctx.attrString('mode', 'nearest');
  if (m === 'nearest') return 'nearest';
  if (m === 'linear' || (m === 'bilinear' && ctx.opType === 'Upsample')) return 'linear';
  throw ctx.unsupported(`mode '${m}' is not supported (nearest and linear are)`);
}

/** The scales (opset < 11 attribute or input) or sizes, checked to leave N and C alone. */
function target(ctx: NodeContext, dims: readonly number[]): { scale: [number, number]; size: [number, number]; fromSizes: boolean } {
  let scales: number[] | undefined;
  let sizes: number[] | undefined;
  if (ctx.opType === 'Upsample' && ctx.opset < 9) {
    scales = ctx.attrFloats('scales');
    if (!scales) throw ctx.invalid("attribute 'scales' is missing");
  } else if (ctx.opType === 'Upsample' || ctx.opset < 11) {
    scales = [...ctx.floats(ctx.constant(1, 'scales'), 'scales')];
  } else {
    const s = ctx.optionalConstant(2, 'scales');
    const z = ctx.optionalConstant(3, 'sizes');
    if (s && s.dims.some((d) => d > 0)) scales = [...ctx.floats(s, 'scales')];
    if (z && z.dims.some((d) => d > 0)) sizes = ctx.ints(z, 'sizes');
    if ((scales === undefined) === (sizes === undefined)) throw ctx.invalid('exactly one of scales and sizes must be given');
  }
  const given = scales ?? sizes!;
  if (given.length !== 4) throw ctx.invalid(`${scales ? 'scales' : 'sizes'} ${fmt(given)} should have 4 values for input ${fmt(dims)}`);
  if (scales) {
    if (scales[0] !== 1 || scales[1] !== 1) throw ctx.unsupported(`scales ${fmt(scales)}: webcnn resizes the spatial axes (2 and 3) only`);
    if (!scales.every((s) => Number.isFinite(s) && s > 0 && s <= MAX_RESIZE_FACTOR)) throw ctx.unsupported(`scales ${fmt(scales)} must be in (0, ${MAX_RESIZE_FACTOR}]`);
    const size: [number, number] = [Math.floor(dims[2] * scales[2]), Math.floor(dims[3] * scales[3])];
    if (size[0] < 1 || size[1] < 1) throw ctx.invalid(`scales ${fmt(scales)} leave nothing of ${fmt(dims)}`);
    return { scale: [scales[2], scales[3]], size, fromSizes: false };
  }
  const z = sizes!;
  if (z[0] !== dims[0] || z[1] !== dims[1]) throw ctx.unsupported(`sizes ${fmt(z)}: webcnn resizes the spatial axes (2 and 3) only`);
  if (!z.every((d) => Number.isInteger(d) && d >= 1) || z[2] > dims[2] * MAX_RESIZE_FACTOR || z[3] > dims[3] * MAX_RESIZE_FACTOR) {
    throw ctx.unsupported(`sizes ${fmt(z)} must be positive and at most ${MAX_RESIZE_FACTOR} times ${fmt(dims)}`);
  }
  return { scale: [z[2] / dims[2], z[3] / dims[3]], size: [z[2], z[3]], fromSizes: true };
}

const resizeConverter: Converter = (ctx) => {
  const x = ctx.runtime(0, 'input X');
  if (x.dims.length !== 4) throw ctx.unsupported(`input ${fmt(x.dims)}: webcnn resizes 4-D (N, C, H, W) tensors only`);
  const m = mode(ctx);
  const legacy = ctx.opType === 'Upsample' || ctx.opset < 11;
  const coordinates = legacy ? 'asymmetric' : ctx.attrString('coordinate_transformation_mode', 'half_pixel');
  if (!(COORDINATES as readonly string[]).includes(coordinates)) {
    throw ctx.unsupported(`coordinate_transformation_mode '${coordinates}' is not supported (${COORDINATES.join(', ')} are)`);
  }
  const nearest = legacy ? 'floor' : ctx.attrString('nearest_mode', 'round_prefer_floor');
  if (!(ROUNDINGS as readonly string[]).includes(nearest)) throw ctx.unsupported(`nearest_mode '${nearest}' is not supported`);
  if (ctx.attrInt('antialias', 0) !== 0) throw ctx.unsupported('antialias 1 is not supported');
  const axes = ctx.attrInts('axes');
  if (axes && axes.length !== 4 && !(axes.length === 2 && axes.every((a, i) => a === i + 2 || a === i - 2))) {
    throw ctx.unsupported(`axes ${fmt(axes)} are not supported (all four, or [2, 3])`);
  }
  if (axes && axes.length === 2) throw ctx.unsupported(`axes ${fmt(axes)}: give scales or sizes for all four axes`);
  const policy = ctx.attrString('keep_aspect_ratio_policy', 'stretch');
  if (policy !== 'stretch') throw ctx.unsupported(`keep_aspect_ratio_policy '${policy}' is not supported (only 'stretch')`);
  const { scale, size } = target(ctx, x.dims);
  const id = ctx.b.resize(x.id, { mode: m, size, scale, coordinates: coordinates as ResizeCoordinates, nearest: nearest as NearestRounding }, ctx.name);
  ctx.runtimeOut(id, [x.dims[0], x.dims[1], size[0], size[1]]);
};

export const Resize: Converter = resizeConverter;
export const Upsample: Converter = resizeConverter;
