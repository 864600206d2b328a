import type { Conv2dAttrs, Shape4 } from '../../src/graph/ir.ts';
import { ceilDiv } from '../common.ts';
import { CONV_SHARED_STEP, convSharedBlock } from './wgsl.ts';

const c4 = (channels: number): number => Math.ceil(channels / 4);

/** Output tiles (workgroups without split-K) of a dense conv on a workgroup-memory tile, and its K in input vec4s. */
export function sharedConvGeometry(
  tile: { readonly pixelsPerThread: number; readonly vec4sPerThread: number },
  inShape: Shape4,
  outShape: Shape4,
  a: Pick<Conv2dAttrs, 'kernel'>,
): { tiles: number; tilesN: number; K: number } {
  const [n, outC, outH, outW] = outShape;
  const block = convSharedBlock(tile);
  const tilesN = ceilDiv(c4(outC), block.vec4s);
  return { tiles: ceilDiv(n * outH * outW, block.pixels) * tilesN, tilesN, K: a.kernel[0] * a.kernel[1] * c4(inShape[1]) };
}

/** Smallest K slice worth its own workgroup under a split-K rule or the tuner, in input vec4s (4 staging steps). */
export const MIN_SPLIT_K_SLICE = 16;

/**
 * Layers with at most this many 16 x 64 output tiles (workgroups of the GPU default) are the tuner's split-K
 * candidates: under two per compute unit of a large GPU (an H200 has 132 SMs), where splitting K adds the
 * parallelism the output lacks. Each split also needs `MIN_SPLIT_K_SLICE` input vec4s of K per slice.
 */
export const SPLIT_K_MAX_TILES = 256;

/**
 * How `splits` K slices fall on a K of `K` input vec4s: every slice but the last has `kPerSlice` (a multiple
 * of the workgroup-memory kernel's staging step), none is empty, so there may be fewer than `splits`.
 */
export function splitKSlices(K: number, splits: number): { slices: number; kPerSlice: number } {
  if (!Number.isInteger(splits) || splits < 1) throw new RangeError(`split-K: ${splits} slices is not a positive integer`);
  const kPerSlice = ceilDiv(ceilDiv(K, splits), CONV_SHARED_STEP) * CONV_SHARED_STEP;
  return { slices: Math.max(1, ceilDiv(K, kPerSlice)), kPerSlice };
}

/**
 * Whether splitting K `splits` ways can pay: the unsplit tile leaves at most `maxTiles` workgroups (too few to
 * fill a large GPU) and every slice keeps at least `MIN_SPLIT_K_SLICE` input vec4s of K.
 */
export function splitKFits(tiles: number, K: number, splits: number, maxTiles: number): boolean {
  return splits > 1 && tiles <= maxTiles && K >= splits * MIN_SPLIT_K_SLICE;
}
