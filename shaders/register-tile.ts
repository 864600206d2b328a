import { countIn, tileText } from './tiles.ts';

/** Largest register tile the register-blocked kernels (pointwise, conv2d, depthwise) accept per invocation. */
export const MAX_REGISTER_TILE = { pixels: 16, vec4s: 8 } as const;

/** Why no register-blocked kernel implements `t`, or null. A `splitK` (from JSON) belongs to conv-shared. */
export function registerTileProblem(t: { readonly pixelsPerThread: number; readonly vec4sPerThread: number }): string | null {
  if (!countIn(t.pixelsPerThread, 1, MAX_REGISTER_TILE.pixels) || !countIn(t.vec4sPerThread, 1, MAX_REGISTER_TILE.vec4s)) {
    return `register tile ${tileText(t)} is not implemented (pixels 1 to ${MAX_REGISTER_TILE.pixels}; vec4s 1 to ${MAX_REGISTER_TILE.vec4s})`;
  }
  if (((t as { splitK?: unknown }).splitK ?? 1) !== 1) return "split-K needs a workgroup-memory tile (family 'conv-shared')";
  return null;
}
