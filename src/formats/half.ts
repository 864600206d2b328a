/**
 * IEEE 754 binary16 ("half", F16) and bfloat16 (BF16) <-> float32 conversions, exact for every bit pattern:
 * subnormals, signed zeros, infinities and NaN (NaN payloads are not preserved).
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Decodes one binary16 bit pattern (the low 16 bits of `h`). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24; // zero or subnormal
  if (exp === 0x1f) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

let halfTable: Float32Array | null = null;

/** Decodes `count` little-endian binary16 values starting at `bytes[offset]` (any alignment). */
export function decodeF16(bytes: Uint8Array, offset: number, count: number): Float32Array {
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) halfTable[i] = halfToFloat(i);
  }
  const table = halfTable;
  const out = new Float32Array(count);
  for (let i = 0, p = offset; i < count; i++, p += 2) out[i] = table[bytes[p] | (bytes[p + 1] << 8)];
  return out;
}

/** Decodes `count` little-endian bfloat16 values (the high half of a float32) starting at `bytes[offset]`. */
export function decodeBF16(bytes: Uint8Array, offset: number, count: number): Float32Array {
  const out = new Float32Array(count);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0, p = offset; i < count; i++, p += 2) bits[i] = ((bytes[p] | (bytes[p + 1] << 8)) << 16) >>> 0;
  return out;
}

/** Rounds a float32 to the nearest binary16 (ties to even); overflow gives ±Infinity, NaN a quiet NaN. */
export function floatToHalf(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half (or zero): shift the mantissa with its implicit bit into place, rounding to even.
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = mant & ((1 << shift) - 1);
    let h = mant >>> shift;
    if (rest > half || (rest === half && (h & 1) === 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1)) h++; // may carry into the exponent: still right
  return sign | h;
}

/** Rounds a float32 to the nearest bfloat16 (ties to even); NaN stays a quiet NaN. */
export function floatToBF16(value: number): number {
  f32[0] = value;
  const x = u32[0];
  if ((x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff) !== 0) return ((x >>> 16) | 0x40) & 0xffff;
  const rounded = x + 0x7fff + ((x >>> 16) & 1);
  return (rounded >>> 16) & 0xffff;
}

/** Encodes float32 values as little-endian binary16 into `out` at `offset`. */
export function encodeF16(values: Float32Array, out: Uint8Array, offset: number): void {
  for (let i = 0, p = offset; i < values.length; i++, p += 2) {
    const h = floatToHalf(values[i]);
    out[p] = h & 0xff;
    out[p + 1] = h >>> 8;
  }
}

/** Encodes float32 values as little-endian bfloat16 into `out` at `offset`. */
export function encodeBF16(values: Float32Array, out: Uint8Array, offset: number): void {
  for (let i = 0, p = offset; i < values.length; i++, p += 2) {
    const h = floatToBF16(values[i]);
    out[p] = h & 0xff;
    out[p + 1] = h >>> 8;
  }
}
