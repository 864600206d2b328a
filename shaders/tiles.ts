/** Small helpers of tile validation, shared by the families' `check`s (pure: no GPU, no graph). */

/** A tile's size in a message: "8 pixels x 2 vec4s". */
export function tileText(t: { readonly pixelsPerThread: unknown; readonly vec4sPerThread?: unknown }): string {
  return `${String(t.pixelsPerThread)} pixels x ${String(t.vec4sPerThread)} vec4s`;
}

/** Whether `v` is an integer from `lo` to `hi`. */
export const countIn = (v: unknown, lo: number, hi: number): boolean => Number.isInteger(v) && (v as number) >= lo && (v as number) <= hi;
