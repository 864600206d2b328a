import { describe, expect, it } from 'vitest';
import { Rng } from '../util/random.ts';
import { f16BitsToF32, f32ToF16Bits, roundToF16, toFloat16Bits } from './f16.ts';

/** Every finite non-negative binary16 value, ascending (bits 0x0000 to 0x7bff are in value order). */
const FINITE = Array.from({ length: 0x7c00 }, (_, h) => f16BitsToF32(h));

/** Independent oracle: the nearest finite binary16 by binary search, ties to the even bit pattern. */
function nearest(x: number): number {
  const a = Math.abs(x);
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const max = FINITE[0x7bff];
  // Beyond max + half an ulp (2^4) the rounding goes to infinity (65520 itself ties to even, 0x7c00).
  if (a >= max + 16) return sign | 0x7c00;
  let lo = 0;
  let hi = 0x7bff;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (FINITE[mid] <= a) lo = mid;
    else hi = mid;
  }
  const dLo = a - FINITE[lo];
  const dHi = FINITE[hi] - a;
  const h = dLo < dHi ? lo : dHi < dLo ? hi : lo % 2 === 0 ? lo : hi;
  return sign | h;
}

describe('f32 -> f16 conversion', () => {
  it('decodes known bit patterns', () => {
    expect(f16BitsToF32(0x3c00)).toBe(1);
    expect(f16BitsToF32(0xc000)).toBe(-2);
    expect(f16BitsToF32(0x7bff)).toBe(65504);
    expect(f16BitsToF32(0x0400)).toBe(2 ** -14);
    expect(f16BitsToF32(0x0001)).toBe(2 ** -24);
    expect(f16BitsToF32(0x03ff)).toBe(1023 * 2 ** -24);
    expect(f16BitsToF32(0x7c00)).toBe(Infinity);
    expect(f16BitsToF32(0xfc00)).toBe(-Infinity);
    expect(f16BitsToF32(0x7e00)).toBeNaN();
    expect(Object.is(f16BitsToF32(0x8000), -0)).toBe(true);
    expect(f16BitsToF32(0x3555)).toBeCloseTo(1 / 3, 3);
  });

  it('round-trips every binary16 value (NaNs stay NaN)', () => {
    const wrong: number[] = [];
    for (let h = 0; h < 0x10000; h++) {
      const v = f16BitsToF32(h);
      const ok = Number.isNaN(v) ? Number.isNaN(f16BitsToF32(f32ToF16Bits(v))) : f32ToF16Bits(v) === h;
      if (!ok) wrong.push(h);
    }
    expect(wrong).toEqual([]);
  });

  it('rounds to nearest, ties to even, at every midpoint between neighbouring values, subnormals included', () => {
    const wrong: string[] = [];
    const f = new Float32Array(1);
    const bits = new Uint32Array(f.buffer);
    for (let h = 0; h < 0x7bff; h++) {
      const mid = (FINITE[h] + FINITE[h + 1]) / 2; // 12 significant bits: exact in float32
      const even = h % 2 === 0 ? h : h + 1;
      if (Math.fround(mid) !== mid) wrong.push(`${h}: midpoint not a float32`);
      if (f32ToF16Bits(mid) !== even || f32ToF16Bits(-mid) !== (0x8000 | even)) wrong.push(`${h}: midpoint`);
      // Just either side of the midpoint (one float32 ulp) goes to the nearer neighbour.
      f[0] = mid;
      bits[0] += 1;
      if (f32ToF16Bits(f[0]) !== h + 1) wrong.push(`${h}: above midpoint`);
      bits[0] -= 2;
      if (f32ToF16Bits(f[0]) !== h) wrong.push(`${h}: below midpoint`);
    }
    expect(wrong).toEqual([]);
  });

  it('overflows to infinity from 65520 up, keeps 65504 up to just below 65520', () => {
    expect(f32ToF16Bits(65504)).toBe(0x7bff);
    expect(f32ToF16Bits(65519.99)).toBe(0x7bff);
    expect(f32ToF16Bits(65520)).toBe(0x7c00);
    expect(f32ToF16Bits(-65520)).toBe(0xfc00);
    expect(f32ToF16Bits(1e6)).toBe(0x7c00);
    expect(f32ToF16Bits(3.4e38)).toBe(0x7c00);
    expect(f32ToF16Bits(Infinity)).toBe(0x7c00);
    expect(f32ToF16Bits(-Infinity)).toBe(0xfc00);
  });

  it('underflows to signed zero below 2^-25 (2^-25 itself ties to zero), float32 subnormals included', () => {
    expect(f32ToF16Bits(2 ** -25)).toBe(0);
    expect(f32ToF16Bits(2 ** -25 * 1.0001)).toBe(1);
    expect(f32ToF16Bits(2 ** -26)).toBe(0);
    expect(f32ToF16Bits(-(2 ** -30))).toBe(0x8000);
    expect(f32ToF16Bits(1e-40)).toBe(0);
    expect(f32ToF16Bits(-1e-45)).toBe(0x8000);
    expect(f32ToF16Bits(0)).toBe(0);
    expect(f32ToF16Bits(-0)).toBe(0x8000);
    // The largest subnormal rounds up into the smallest normal.
    expect(f32ToF16Bits(2 ** -14 - 2 ** -26)).toBe(0x0400);
  });

  it('NaN stays a NaN', () => {
    const h = f32ToF16Bits(NaN);
    expect(h & 0x7c00).toBe(0x7c00);
    expect(h & 0x3ff).not.toBe(0);
  });

  it('agrees with a binary-search oracle on 200,000 random float32 values over the whole range', () => {
    const rng = new Rng(7);
    const f = new Float32Array(1);
    const wrong: number[] = [];
    for (let i = 0; i < 200_000; i++) {
      // Random exponents from far below the subnormals to past the overflow, random mantissas and signs.
      f[0] = (rng.next() < 0.5 ? -1 : 1) * 2 ** (Math.floor(rng.next() * 48) - 30) * (1 + rng.next());
      if (f32ToF16Bits(f[0]) !== nearest(f[0]) && wrong.length < 10) wrong.push(f[0]);
    }
    expect(wrong).toEqual([]);
  });

  it('toFloat16Bits and roundToF16 convert arrays element-wise', () => {
    const data = new Float32Array([0, 1, -2.5, 1 / 3, 65504, 1e9, 2 ** -24]);
    const bits = toFloat16Bits(data);
    expect(bits).toBeInstanceOf(Uint16Array);
    expect(Array.from(bits)).toEqual(Array.from(data, (x) => f32ToF16Bits(x)));
    expect(Array.from(roundToF16(data))).toEqual([0, 1, -2.5, f16BitsToF32(0x3555), 65504, Infinity, 2 ** -24]);
    // Relative rounding error of a normal value is at most 2^-11.
    for (const x of [1 / 3, Math.PI, 1e-3, 1234.567]) expect(Math.abs(roundToF16(new Float32Array([x]))[0] - Math.fround(x)) / x).toBeLessThanOrEqual(2 ** -11);
  });
});
