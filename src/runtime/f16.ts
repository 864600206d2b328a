/**
 * IEEE binary16 ("half") conversion for weights stored at f16 (`compile(..., { precision })`), on the loaders'
 * exact converters (`src/formats/half.ts`; Node 20 has no `Float16Array` or `Math.f16round`): round to nearest, ties to even;
 * values below half the smallest subnormal (2^-25) become signed zero, values from 65520 up become infinity,
 * NaN stays NaN (quiet), and float32 subnormals become zero. The layout in memory is what WGSL's `f16` and
 * `unpack2x16float` read: little-endian 16-bit words, so a `Uint16Array` of them is uploaded as it is.
 */

import { floatToHalf, halfToFloat } from '../formats/half.ts';

/** The binary16 bits of `x` (rounded to float32 first, as stored weights are). */
export const f32ToF16Bits: (x: number) => number = floatToHalf;

/** The value of binary16 bits `h`, exactly (every binary16 value is a float32). */
export const f16BitsToF32: (h: number) => number = halfToFloat;

/** `data` as binary16 words, element for element. */
export function toFloat16Bits(data: Float32Array): Uint16Array {
  const out = new Uint16Array(data.length);
  toFloat16BitsInto(data, out);
  return out;
}

/** `toFloat16Bits` into `out` (e.g. a GPU buffer's mapped range), which must be as long as `data`. */
export function toFloat16BitsInto(data: Float32Array, out: Uint16Array): void {
  if (out.length !== data.length) throw new RangeError(`binary16 target holds ${out.length} values, the data ${data.length}`);
  for (let i = 0; i < data.length; i++) out[i] = f32ToF16Bits(data[i]);
}

/** `data` rounded to binary16 and back: what a kernel reading f16 storage sees. */
export function roundToF16(data: Float32Array): Float32Array {
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = f16BitsToF32(f32ToF16Bits(data[i]));
  return out;
}
