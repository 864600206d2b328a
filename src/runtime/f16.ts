/**
 * IEEE binary16 ("half") conversion for weights stored at f16 (`compile(..., { precision })`). Node 20 has no
 * `Float16Array` or `Math.f16round`, so this is done on the bits of the float32: round to nearest, ties to even;
 * values below half the smallest subnormal (2^-25) become signed zero, values from 65520 up become infinity,
 * NaN stays NaN (quiet), and float32 subnormals become zero. The layout in memory is what WGSL's `f16` and
 * `unpack2x16float` read: little-endian 16-bit words, so a `Uint16Array` of them is uploaded as it is.
 */

const scratch = new Float32Array(1);
const scratchBits = new Uint32Array(scratch.buffer);

/** The binary16 bits of `x` (rounded to float32 first, as stored weights are). */
export function f32ToF16Bits(x: number): number {
  scratch[0] = x;
  const bits = scratchBits[0];
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 | (mant >>> 13) : 0);
  // The exponent rebiased from 127 to 15.
  const e = exp - 112;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // A binary16 subnormal m * 2^-24: m = (1.mant) * 2^(exp - 127 + 24), i.e. the 24-bit significand shifted
    // right by 14 - e bits. Below 2^-25 (shift > 24) everything rounds to zero.
    if (e < -10) return sign;
    const significand = mant | 0x800000;
    const shift = 14 - e;
    const kept = significand >>> shift;
    const rest = significand & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    // Rounding up from 1023 carries into the exponent field: the smallest normal, as it should.
    return sign | (rest > half || (rest === half && (kept & 1) === 1) ? kept + 1 : kept);
  }
  const h = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  // A carry out of the mantissa increments the exponent; out of exponent 30 it gives 0x7c00, infinity.
  return sign | (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1) ? h + 1 : h);
}

/** The value of binary16 bits `h`, exactly (every binary16 value is a float32). */
export function f16BitsToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1024 + mant) * 2 ** (exp - 25);
}

/** `data` as binary16 words, element for element. */
export function toFloat16Bits(data: Float32Array): Uint16Array {
  const out = new Uint16Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = f32ToF16Bits(data[i]);
  return out;
}

/** `data` rounded to binary16 and back: what a kernel reading f16 storage sees. */
export function roundToF16(data: Float32Array): Float32Array {
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = f16BitsToF32(f32ToF16Bits(data[i]));
  return out;
}
