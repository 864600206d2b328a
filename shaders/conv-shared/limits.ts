import { countIn, tileText } from '../tiles.ts';

/**
 * The workgroup-memory kernel's tile limits, written once (the program generator and tile validation both use
 * them): pixels 2, 4, 6 or 8 per invocation (even, so the input tile spreads evenly over the workgroup's loads),
 * output vec4s 1 to 4; at most `MAX_SPLIT_K` K slices.
 */
export const CONV_SHARED_LIMITS = { minPixels: 2, maxPixels: 8, maxVec4s: 4 } as const;

/** Most K slices a split-K tile may ask for (the tuner tries up to 16). */
export const MAX_SPLIT_K = 64;

/** Why the workgroup-memory kernel does not implement this register tile, or null. */
export function convSharedTileProblem(t: { readonly pixelsPerThread: number; readonly vec4sPerThread: number }): string | null {
  const { minPixels, maxPixels, maxVec4s } = CONV_SHARED_LIMITS;
  if (!countIn(t.pixelsPerThread, minPixels, maxPixels) || t.pixelsPerThread % 2 !== 0 || !countIn(t.vec4sPerThread, 1, maxVec4s)) {
    return `workgroup-memory tile ${tileText(t)} is not implemented (pixels 2, 4, 6 or 8; vec4s 1 to ${maxVec4s})`;
  }
  return null;
}
