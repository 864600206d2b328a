import { describe, expect, it } from 'vitest';
import {
  c4, denseConvPacking, depthwisePacking, expandGroupedWeights, groupedConvPacking, linearRowsPacking, packBias,
  packDenseConvWeights, packDepthwiseWeights, packLinearRowsWeights, packWeights,
} from './pack-weights.ts';

const f32 = (...v: number[]): Float32Array => Float32Array.from(v);
const seq = (n: number, from = 1): Float32Array => Float32Array.from({ length: n }, (_, i) => from + i);

describe('c4', () => {
  it('rounds channel counts up to vec4s', () => {
    expect([1, 3, 4, 5, 8, 9, 1000, 1001].map(c4)).toEqual([1, 1, 1, 2, 2, 3, 250, 251]);
  });
});

describe('packDenseConvWeights', () => {
  it('1x1, one in and one out channel: a single 4x4 block with w at [0]', () => {
    const p = packDenseConvWeights(f32(7), 1, 1, 1, 1);
    const expected = new Float32Array(16);
    expected[0] = 7;
    expect(Array.from(p)).toEqual(Array.from(expected));
  });

  it('1x1, 3 in -> 2 out: entry (k in, j out) at k * 4 + j', () => {
    // weight [outC=2, inC=3]: o0 = [1, 2, 3], o1 = [4, 5, 6].
    const p = packDenseConvWeights(f32(1, 2, 3, 4, 5, 6), 2, 3, 1, 1);
    // Rows are input lanes k, columns output lanes j; padding lanes (k = 3, j = 2, 3) are zero.
    expect(Array.from(p)).toEqual([
      1, 4, 0, 0, //
      2, 5, 0, 0, //
      3, 6, 0, 0, //
      0, 0, 0, 0,
    ]);
  });

  it('1x2 kernel, 1 in -> 2 out: taps are the outermost blocks', () => {
    // weight [2, 1, 1, 2]: o0 = [t0 1, t1 2], o1 = [t0 3, t1 4].
    const p = packDenseConvWeights(f32(1, 2, 3, 4), 2, 1, 1, 2);
    expect(p.length).toBe(32);
    const expected = new Float32Array(32);
    expected[0] = 1; // tap 0, k 0, j 0
    expected[1] = 3; // tap 0, k 0, j 1
    expected[16] = 2; // tap 1, k 0, j 0
    expected[17] = 4; // tap 1, k 0, j 1
    expect(Array.from(p)).toEqual(Array.from(expected));
  });

  it('6 in -> 5 out (both padded): [inC4][outC4][4 in][4 out] positions', () => {
    // w[o][i] = 10 * o + i + 1 (all non-zero).
    const w = new Float32Array(30);
    for (let o = 0; o < 5; o++) for (let i = 0; i < 6; i++) w[o * 6 + i] = 10 * o + i + 1;
    const p = packDenseConvWeights(w, 5, 6, 1, 1);
    // inC4 = 2, outC4 = 2: 2 * 2 * 16 floats.
    expect(p.length).toBe(64);
    // (o 0, i 0): ci4 0, k 0, co4 0, j 0 -> 0.
    expect(p[0]).toBe(1);
    // (o 1, i 2): ci4 0, k 2, co4 0, j 1 -> 2 * 4 + 1 = 9.
    expect(p[9]).toBe(13);
    // (o 4, i 0): ci4 0, k 0, co4 1, j 0 -> (0 * 2 + 1) * 16 = 16.
    expect(p[16]).toBe(41);
    // (o 3, i 4): ci4 1, k 0, co4 0, j 3 -> (1 * 2 + 0) * 16 + 0 * 4 + 3 = 35.
    expect(p[35]).toBe(35);
    // (o 4, i 5): ci4 1, k 1, co4 1, j 0 -> (1 * 2 + 1) * 16 + 1 * 4 + 0 = 52.
    expect(p[52]).toBe(46);

    // Decode every packed position back to (o, i): real lanes hold w[o][i], padding lanes hold zero.
    let nonZero = 0;
    for (let ci4 = 0; ci4 < 2; ci4++) {
      for (let co4 = 0; co4 < 2; co4++) {
        for (let k = 0; k < 4; k++) {
          for (let j = 0; j < 4; j++) {
            const v = p[((ci4 * 2 + co4) * 4 + k) * 4 + j];
            const o = co4 * 4 + j;
            const i = ci4 * 4 + k;
            if (o < 5 && i < 6) {
              expect(v).toBe(10 * o + i + 1);
              nonZero++;
            } else {
              expect(v, `padding lane o=${o} i=${i}`).toBe(0);
            }
          }
        }
      }
    }
    expect(nonZero).toBe(30);
  });

  it('3x3, 2 in -> 3 out: tap (y, x) block at (y * 3 + x) * 16', () => {
    // w[o][i][y][x] = 1000 o + 100 i + 10 y + x + 1.
    const w = new Float32Array(3 * 2 * 9);
    for (let o = 0; o < 3; o++)
      for (let i = 0; i < 2; i++)
        for (let y = 0; y < 3; y++) for (let x = 0; x < 3; x++) w[((o * 2 + i) * 3 + y) * 3 + x] = 1000 * o + 100 * i + 10 * y + x + 1;
    const p = packDenseConvWeights(w, 3, 2, 3, 3);
    expect(p.length).toBe(9 * 16);
    for (let y = 0; y < 3; y++) {
      for (let x = 0; x < 3; x++) {
        const block = Array.from(p.subarray((y * 3 + x) * 16, (y * 3 + x + 1) * 16));
        const t = 10 * y + x + 1;
        expect(block).toEqual([
          t, 1000 + t, 2000 + t, 0, //
          100 + t, 1100 + t, 2100 + t, 0, //
          0, 0, 0, 0, //
          0, 0, 0, 0,
        ]);
      }
    }
  });
});

describe('packDepthwiseWeights', () => {
  it('5 channels, 1x2 kernel: [tap][C4][4] with zero padding lanes', () => {
    // w[c][x] = 10 c + x + 1.
    const w = f32(1, 2, 11, 12, 21, 22, 31, 32, 41, 42);
    const p = packDepthwiseWeights(w, 5, 1, 2);
    expect(Array.from(p)).toEqual([
      1, 11, 21, 31, 41, 0, 0, 0, // tap 0
      2, 12, 22, 32, 42, 0, 0, 0, // tap 1
    ]);
  });

  it('3 channels, 3x3: tap (y, x) at ((y * 3 + x) * C4 + c / 4) * 4 + c % 4', () => {
    const w = seq(27); // w[c][y][x] = c * 9 + y * 3 + x + 1
    const p = packDepthwiseWeights(w, 3, 3, 3);
    expect(p.length).toBe(9 * 4);
    expect(Array.from(p.subarray(0, 4))).toEqual([1, 10, 19, 0]);
    expect(Array.from(p.subarray(4 * 4, 5 * 4))).toEqual([5, 14, 23, 0]); // centre tap (1, 1)
    expect(Array.from(p.subarray(8 * 4, 9 * 4))).toEqual([9, 18, 27, 0]);
    for (let t = 0; t < 9; t++) expect(p[t * 4 + 3]).toBe(0);
  });

  it('8 channels, 1x1: two full vec4s, no padding', () => {
    expect(Array.from(packDepthwiseWeights(seq(8), 8, 1, 1))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });
});

describe('expandGroupedWeights', () => {
  it('groups 2, 4 -> 4, 1x1: block-diagonal', () => {
    // weight [4, 2]: o0 [1, 2], o1 [3, 4] (group 0); o2 [5, 6], o3 [7, 8] (group 1).
    const d = expandGroupedWeights(seq(8), 4, 4, 2, 1, 1);
    expect(Array.from(d)).toEqual([
      1, 2, 0, 0, //
      3, 4, 0, 0, //
      0, 0, 5, 6, //
      0, 0, 7, 8,
    ]);
  });

  it('groups = channels (depthwise) gives a diagonal', () => {
    expect(Array.from(expandGroupedWeights(f32(1, 2, 3), 3, 3, 3, 1, 1))).toEqual([1, 0, 0, 0, 2, 0, 0, 0, 3]);
  });

  it('depthwise with multiplier 2 (2 -> 4, groups 2)', () => {
    // Output channels 0, 1 read input 0; 2, 3 read input 1.
    expect(Array.from(expandGroupedWeights(f32(1, 2, 3, 4), 4, 2, 2, 1, 1))).toEqual([1, 0, 2, 0, 0, 3, 0, 4]);
  });

  it('keeps every tap together: groups 2, 4 -> 2, 1x2 kernel', () => {
    // weight [2, 2, 1, 2]: o0 = i0 [1, 2], i1 [3, 4]; o1 = i0 [5, 6], i1 [7, 8].
    const d = expandGroupedWeights(seq(8), 2, 4, 2, 1, 2);
    expect(Array.from(d)).toEqual([
      1, 2, 3, 4, 0, 0, 0, 0, // o0 reads inputs 0, 1
      0, 0, 0, 0, 5, 6, 7, 8, // o1 reads inputs 2, 3
    ]);
  });

  it('groups 1 is the identity', () => {
    const w = seq(2 * 3 * 2 * 2);
    expect(Array.from(expandGroupedWeights(w, 2, 3, 1, 2, 2))).toEqual(Array.from(w));
  });
});

describe('packBias', () => {
  it('pads to a multiple of four with zeros', () => {
    expect(Array.from(packBias(f32(1, 2, 3, 4, 5), 5))).toEqual([1, 2, 3, 4, 5, 0, 0, 0]);
    expect(Array.from(packBias(f32(-1, 2), 2))).toEqual([-1, 2, 0, 0]);
  });

  it('keeps exact multiples of four unpadded', () => {
    expect(Array.from(packBias(f32(1, 2, 3, 4), 4))).toEqual([1, 2, 3, 4]);
  });

  it('gives zeros for no bias', () => {
    expect(Array.from(packBias(null, 5))).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(packBias(null, 1))).toEqual([0, 0, 0, 0]);
  });
});

describe('deferred packings (what the compiler writes into mapped GPU buffers)', () => {
  const random = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898) * 3);

  it('write into a zero-filled target exactly what the pack functions return, at the stated length', () => {
    const w = random(6 * 5 * 3 * 3);
    const cases = [
      { packing: denseConvPacking(w, 6, 5, 3, 3), expected: packDenseConvWeights(w, 6, 5, 3, 3) },
      { packing: depthwisePacking(random(7 * 9), 7, 3, 3), expected: packDepthwiseWeights(random(7 * 9), 7, 3, 3) },
      { packing: linearRowsPacking(random(10 * 9), 10, 9), expected: packLinearRowsWeights(random(10 * 9), 10, 9) },
    ];
    for (const { packing, expected } of cases) {
      expect(packing.length).toBe(expected.length);
      const out = new Float32Array(packing.length);
      packing.packInto(out);
      expect(Array.from(out)).toEqual(Array.from(expected));
      expect(Array.from(packWeights(packing))).toEqual(Array.from(expected));
    }
  });

  it('grouped packing expands the groups first (and is the dense packing for one group)', () => {
    const w = random(8 * 2 * 3 * 3); // outC 8, inC 4, groups 2: 2 input channels per group
    const grouped = packWeights(groupedConvPacking(w, 8, 4, 2, 3, 3));
    expect(Array.from(grouped)).toEqual(Array.from(packDenseConvWeights(expandGroupedWeights(w, 8, 4, 2, 3, 3), 8, 4, 3, 3)));
    const dense = random(4 * 4 * 1 * 1);
    expect(Array.from(packWeights(groupedConvPacking(dense, 4, 4, 1, 1, 1)))).toEqual(Array.from(packDenseConvWeights(dense, 4, 4, 1, 1)));
  });

  it('refuse a target of the wrong length instead of writing out of place', () => {
    const packing = denseConvPacking(random(4 * 4), 4, 4, 1, 1);
    expect(() => packing.packInto(new Float32Array(packing.length + 4))).toThrow(RangeError);
    expect(() => depthwisePacking(random(4), 4, 1, 1).packInto(new Float32Array(3))).toThrow(/needs an array of 4 values/);
  });
});

describe('packings against their layout formulas (random shapes, with and without output scales)', () => {
  // A seeded walk so that failures repeat.
  let seed = 12345;
  const next = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const int = (lo: number, hi: number): number => lo + Math.floor(next() * (hi - lo + 1));
  const values = (n: number): Float32Array => Float32Array.from({ length: n }, () => next() * 4 - 2);
  const scales = (n: number): Float64Array => Float64Array.from({ length: n }, () => 0.25 + next());

  it('dense: w[o][i][tap] * scale[o] lands at ((tap * inC4 + i/4) * outC4 + o/4) * 16 + (i%4) * 4 + o%4', () => {
    for (let trial = 0; trial < 40; trial++) {
      // Half the trials use multiples of four (the fast path), half any count (the padded path).
      const round = trial % 2 === 0 ? (c: number) => c * 4 : (c: number) => c;
      const outC = round(int(1, 9));
      const inC = round(int(1, 9));
      const [kh, kw] = [int(1, 3), int(1, 3)];
      const taps = kh * kw;
      const w = values(outC * inC * taps);
      const scale = trial % 4 < 2 ? scales(outC) : null;
      const packed = packDenseConvWeights(w, outC, inC, kh, kw, scale);
      const expected = new Float32Array(taps * c4(inC) * c4(outC) * 16);
      for (let o = 0; o < outC; o++) {
        for (let i = 0; i < inC; i++) {
          for (let t = 0; t < taps; t++) {
            const at = ((t * c4(inC) + (i >> 2)) * c4(outC) + (o >> 2)) * 16 + (i & 3) * 4 + (o & 3);
            expected[at] = w[(o * inC + i) * taps + t] * (scale ? scale[o] : 1);
          }
        }
      }
      expect(Array.from(packed), `outC ${outC} inC ${inC} ${kh}x${kw}`).toEqual(Array.from(expected));
    }
  });

  it('depthwise: w[c][tap] * scale[c] lands at (tap * C4 + c/4) * 4 + c%4', () => {
    for (let trial = 0; trial < 20; trial++) {
      const channels = int(1, 20);
      const [kh, kw] = [int(1, 3), int(1, 3)];
      const w = values(channels * kh * kw);
      const scale = trial % 2 === 0 ? scales(channels) : null;
      const packed = packDepthwiseWeights(w, channels, kh, kw, scale);
      const expected = new Float32Array(kh * kw * c4(channels) * 4);
      for (let c = 0; c < channels; c++) {
        for (let t = 0; t < kh * kw; t++) expected[(t * c4(channels) + (c >> 2)) * 4 + (c & 3)] = w[c * kh * kw + t] * (scale ? scale[c] : 1);
      }
      expect(Array.from(packed)).toEqual(Array.from(expected));
    }
  });

  it('linear rows: w[o][i] lands at ((o/4 * inC4 + i/4) * 4 + i%4) * 4 + o%4', () => {
    for (let trial = 0; trial < 20; trial++) {
      const [outC, inC] = [int(1, 20), int(1, 20)];
      const w = values(outC * inC);
      const expected = new Float32Array(c4(outC) * c4(inC) * 16);
      for (let o = 0; o < outC; o++) {
        for (let i = 0; i < inC; i++) expected[((((o >> 2) * c4(inC) + (i >> 2)) * 4 + (i & 3)) * 4) + (o & 3)] = w[o * inC + i];
      }
      expect(Array.from(packLinearRowsWeights(w, outC, inC))).toEqual(Array.from(expected));
    }
  });

  it('a scale multiplies in f64 and rounds once, as folding the weights first and packing them would', () => {
    const w = values(8 * 4);
    const scale = scales(8);
    const folded = Float32Array.from(w, (v, k) => v * scale[Math.floor(k / 4)]);
    expect(Array.from(packDenseConvWeights(w, 8, 4, 1, 1, scale))).toEqual(Array.from(packDenseConvWeights(folded, 8, 4, 1, 1)));
  });
});
