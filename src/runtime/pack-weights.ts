/**
 * Weight layout transforms from PyTorch's layouts to the packed vec4 layouts the kernels read (see the
 * comments in `shaders/`). Channel counts pad to multiples of four with zeros, so padding lanes contribute
 * nothing. Pure functions: unit-tested on the CPU.
 */

export const c4 = (channels: number): number => Math.ceil(channels / 4);

/**
 * A weight layout transform not yet run: its packed length, and a function that writes the packed values into a
 * zero-filled array of that length. The compiler hands it a GPU buffer's mapped range, so ResNet-50's 100 MB of
 * weights are written once, where they go, instead of into a fresh array that is then copied.
 */
export interface WeightPacking {
  readonly length: number;
  readonly packInto: (out: Float32Array) => void;
}

/** Runs a packing into a fresh array. */
export function packWeights(packing: WeightPacking): Float32Array {
  const out = new Float32Array(packing.length);
  packing.packInto(out);
  return out;
}

function checkTarget(out: Float32Array, length: number): void {
  if (out.length !== length) throw new RangeError(`packing needs an array of ${length} values, got ${out.length}`);
}

/**
 * Per-output-channel factors a packing multiplies the weights by (a batch norm folded lazily, see
 * `Conv2dAttrs.weightScale`), or null for none. Kept in f64 so each packed weight rounds to f32 once.
 */
export type OutputScale = Float64Array | null;

/**
 * Dense conv weights `[outC, inC, kh, kw]` -> `[kh][kw][inC4][outC4][4 in][4 out]`. A 1x1 kernel gives the
 * pointwise layout `[inC4][outC4][4][4]`.
 */
export function packDenseConvWeights(weight: Float32Array, outC: number, inC: number, kh: number, kw: number, scale: OutputScale = null): Float32Array {
  return packWeights(denseConvPacking(weight, outC, inC, kh, kw, scale));
}

/** `packDenseConvWeights`, deferred. */
export function denseConvPacking(weight: Float32Array, outC: number, inC: number, kh: number, kw: number, scale: OutputScale = null): WeightPacking {
  const length = kh * kw * c4(inC) * c4(outC) * 16;
  return { length, packInto: (out) => packDenseInto(out, weight, outC, inC, kh, kw, scale) };
}

/**
 * Writes the packed array front to back, one 4 x 4 block (64 bytes) after another, gathering from the source.
 * The target is often a GPU buffer's mapped range, which a driver may place in uncached, write-combined memory
 * where scattered 4-byte stores are many times slower than sequential ones; on plain memory this order is
 * also faster than walking the source (figures: docs/decisions/cold-start-cpu-side.md).
 */
function packDenseInto(
  packed: Float32Array,
  weight: Float32Array,
  outC: number,
  inC: number,
  kh: number,
  kw: number,
  scale: OutputScale,
): void {
  const inC4 = c4(inC);
  const outC4 = c4(outC);
  const taps = kh * kw;
  checkTarget(packed, taps * inC4 * outC4 * 16);
  const factors = scale ?? unitScale(outC);
  if (inC % 4 !== 0 || outC % 4 !== 0) {
    packDenseIntoPadded(packed, weight, outC, inC, taps, factors);
    return;
  }
  // Source index of (o, i, tap) is (o * inC + i) * taps + tap; a block reads 4 rows o at 4 inputs i. Its 16
  // stores are written out, as a loop was slower (docs/decisions/cold-start-cpu-side.md).
  const row = inC * taps;
  const t1 = taps;
  const t2 = 2 * taps;
  const t3 = 3 * taps;
  let d = 0;
  for (let tap = 0; tap < taps; tap++) {
    for (let i4 = 0; i4 < inC4; i4++) {
      let s0 = i4 * 4 * taps + tap;
      for (let o = 0; o < outC; o += 4, s0 += 4 * row, d += 16) {
        const s1 = s0 + row;
        const s2 = s1 + row;
        const s3 = s2 + row;
        const a0 = factors[o];
        const a1 = factors[o + 1];
        const a2 = factors[o + 2];
        const a3 = factors[o + 3];
        packed[d] = weight[s0] * a0;
        packed[d + 1] = weight[s1] * a1;
        packed[d + 2] = weight[s2] * a2;
        packed[d + 3] = weight[s3] * a3;
        packed[d + 4] = weight[s0 + t1] * a0;
        packed[d + 5] = weight[s1 + t1] * a1;
        packed[d + 6] = weight[s2 + t1] * a2;
        packed[d + 7] = weight[s3 + t1] * a3;
        packed[d + 8] = weight[s0 + t2] * a0;
        packed[d + 9] = weight[s1 + t2] * a1;
        packed[d + 10] = weight[s2 + t2] * a2;
        packed[d + 11] = weight[s3 + t2] * a3;
        packed[d + 12] = weight[s0 + t3] * a0;
        packed[d + 13] = weight[s1 + t3] * a1;
        packed[d + 14] = weight[s2 + t3] * a2;
        packed[d + 15] = weight[s3 + t3] * a3;
      }
    }
  }
}

/** `packDenseInto` for channel counts that pad (the 3-channel stem): same order, zeros in the padding lanes. */
function packDenseIntoPadded(
  packed: Float32Array,
  weight: Float32Array,
  outC: number,
  inC: number,
  taps: number,
  factors: Float64Array,
): void {
  const inC4 = c4(inC);
  const outC4 = c4(outC);
  let d = 0;
  for (let tap = 0; tap < taps; tap++) {
    for (let i4 = 0; i4 < inC4; i4++) {
      for (let o4 = 0; o4 < outC4; o4++) {
        for (let k = 0; k < 4; k++) {
          const i = i4 * 4 + k;
          for (let j = 0; j < 4; j++, d++) {
            const o = o4 * 4 + j;
            packed[d] = i < inC && o < outC ? weight[(o * inC + i) * taps + tap] * factors[o] : 0;
          }
        }
      }
    }
  }
}

const unitScales = new Map<number, Float64Array>();

/** Factors of one, shared per length: multiplying by 1 is exact, so the packing loops need no second copy. */
function unitScale(length: number): Float64Array {
  let ones = unitScales.get(length);
  if (!ones) {
    ones = new Float64Array(length).fill(1);
    unitScales.set(length, ones);
  }
  return ones;
}

/** Depthwise weights `[C, 1, kh, kw]` -> `[kh][kw][C4][4]`. */
export function packDepthwiseWeights(weight: Float32Array, channels: number, kh: number, kw: number, scale: OutputScale = null): Float32Array {
  return packWeights(depthwisePacking(weight, channels, kh, kw, scale));
}

/** `packDepthwiseWeights`, deferred. */
export function depthwisePacking(weight: Float32Array, channels: number, kh: number, kw: number, scale: OutputScale = null): WeightPacking {
  return { length: kh * kw * c4(channels) * 4, packInto: (out) => packDepthwiseInto(out, weight, channels, kh, kw, scale) };
}

function packDepthwiseInto(packed: Float32Array, weight: Float32Array, channels: number, kh: number, kw: number, scale: OutputScale): void {
  const lanes = c4(channels) * 4;
  const taps = kh * kw;
  checkTarget(packed, taps * lanes);
  const factors = scale ?? unitScale(channels);
  // Front to back, as `packDenseInto` (why there).
  let d = 0;
  for (let tap = 0; tap < taps; tap++) {
    for (let c = 0; c < lanes; c++, d++) packed[d] = c < channels ? weight[c * taps + tap] * factors[c] : 0;
  }
}

/**
 * Grouped conv weights `[outC, inC / groups, kh, kw]` -> dense `[outC, inC, kh, kw]` with zeros outside each
 * group's block, so any group count runs on the dense kernel.
 */
export function expandGroupedWeights(
  weight: Float32Array,
  outC: number,
  inC: number,
  groups: number,
  kh: number,
  kw: number,
): Float32Array {
  const inPerGroup = inC / groups;
  const outPerGroup = outC / groups;
  const taps = kh * kw;
  const dense = new Float32Array(outC * inC * taps);
  for (let o = 0; o < outC; o++) {
    const g = Math.floor(o / outPerGroup);
    for (let i = 0; i < inPerGroup; i++) {
      const src = (o * inPerGroup + i) * taps;
      const dst = (o * inC + g * inPerGroup + i) * taps;
      dense.set(weight.subarray(src, src + taps), dst);
    }
  }
  return dense;
}

/** Grouped conv weights packed densely (`expandGroupedWeights`, then `packDenseConvWeights`), deferred. */
export function groupedConvPacking(
  weight: Float32Array,
  outC: number,
  inC: number,
  groups: number,
  kh: number,
  kw: number,
  scale: OutputScale = null,
): WeightPacking {
  if (groups === 1) return denseConvPacking(weight, outC, inC, kh, kw, scale);
  return {
    length: kh * kw * c4(inC) * c4(outC) * 16,
    packInto: (out) => packDenseInto(out, expandGroupedWeights(weight, outC, inC, groups, kh, kw), outC, inC, kh, kw, scale),
  };
}

/** Bias `[outC]` (or none) -> `[outC4 * 4]`. */
export function packBias(bias: Float32Array | null, outC: number): Float32Array {
  const packed = new Float32Array(c4(outC) * 4);
  if (bias) packed.set(bias.subarray(0, outC));
  return packed;
}

/**
 * Fully connected weights `[outC, inC]` for the split-K kernel (shaders/linear/wgsl.ts): `[outC4][inC4][4][4]`, so
 * that the invocations of one output vec4, which walk consecutive input vec4s, read consecutive memory.
 */
export function packLinearRowsWeights(weight: Float32Array, outC: number, inC: number): Float32Array {
  return packWeights(linearRowsPacking(weight, outC, inC));
}

/** `packLinearRowsWeights`, deferred. */
export function linearRowsPacking(weight: Float32Array, outC: number, inC: number): WeightPacking {
  return { length: c4(outC) * c4(inC) * 16, packInto: (out) => packLinearRowsInto(out, weight, outC, inC) };
}

function packLinearRowsInto(packed: Float32Array, weight: Float32Array, outC: number, inC: number): void {
  const inC4 = c4(inC);
  const outC4 = c4(outC);
  checkTarget(packed, outC4 * inC4 * 16);
  // Front to back, as `packDenseInto` (why there): block (o4, i4) holds w[o][i] at (i & 3) * 4 + (o & 3).
  let d = 0;
  for (let o4 = 0; o4 < outC4; o4++) {
    for (let i4 = 0; i4 < inC4; i4++) {
      for (let k = 0; k < 4; k++) {
        const i = i4 * 4 + k;
        for (let j = 0; j < 4; j++, d++) {
          const o = o4 * 4 + j;
          packed[d] = i < inC && o < outC ? weight[o * inC + i] : 0;
        }
      }
    }
  }
}
