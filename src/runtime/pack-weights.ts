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
 * Dense conv weights `[outC, inC, kh, kw]` -> `[kh][kw][inC4][outC4][4 in][4 out]`. A 1x1 kernel gives the
 * pointwise layout `[inC4][outC4][4][4]`.
 */
export function packDenseConvWeights(weight: Float32Array, outC: number, inC: number, kh: number, kw: number): Float32Array {
  return packWeights(denseConvPacking(weight, outC, inC, kh, kw));
}

/** `packDenseConvWeights`, deferred. */
export function denseConvPacking(weight: Float32Array, outC: number, inC: number, kh: number, kw: number): WeightPacking {
  const length = kh * kw * c4(inC) * c4(outC) * 16;
  return { length, packInto: (out) => packDenseInto(out, weight, outC, inC, kh, kw) };
}

function packDenseInto(packed: Float32Array, weight: Float32Array, outC: number, inC: number, kh: number, kw: number): void {
  const inC4 = c4(inC);
  const outC4 = c4(outC);
  const taps = kh * kw;
  checkTarget(packed, taps * inC4 * outC4 * 16);
  // Source order (o, i, tap) with the destination offset hoisted: one add per element, which keeps ResNet-50's
  // 25M weights to a few tens of milliseconds of a cold start.
  const tapStride = inC4 * outC4 * 16;
  let src = 0;
  for (let o = 0; o < outC; o++) {
    const outBase = (o >> 2) * 16 + (o & 3);
    for (let i = 0; i < inC; i++) {
      let dst = (i >> 2) * outC4 * 16 + (i & 3) * 4 + outBase;
      for (let tap = 0; tap < taps; tap++, dst += tapStride) packed[dst] = weight[src++];
    }
  }
}

/** Depthwise weights `[C, 1, kh, kw]` -> `[kh][kw][C4][4]`. */
export function packDepthwiseWeights(weight: Float32Array, channels: number, kh: number, kw: number): Float32Array {
  return packWeights(depthwisePacking(weight, channels, kh, kw));
}

/** `packDepthwiseWeights`, deferred. */
export function depthwisePacking(weight: Float32Array, channels: number, kh: number, kw: number): WeightPacking {
  return { length: kh * kw * c4(channels) * 4, packInto: (out) => packDepthwiseInto(out, weight, channels, kh, kw) };
}

function packDepthwiseInto(packed: Float32Array, weight: Float32Array, channels: number, kh: number, kw: number): void {
  const C4 = c4(channels);
  checkTarget(packed, kh * kw * C4 * 4);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < kh; y++) {
      for (let x = 0; x < kw; x++) {
        packed[((y * kw + x) * C4 + (c >> 2)) * 4 + (c & 3)] = weight[(c * kh + y) * kw + x];
      }
    }
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
): WeightPacking {
  if (groups === 1) return denseConvPacking(weight, outC, inC, kh, kw);
  return {
    length: kh * kw * c4(inC) * c4(outC) * 16,
    packInto: (out) => packDenseInto(out, expandGroupedWeights(weight, outC, inC, groups, kh, kw), outC, inC, kh, kw),
  };
}

/** Bias `[outC]` (or none) -> `[outC4 * 4]`. */
export function packBias(bias: Float32Array | null, outC: number): Float32Array {
  const packed = new Float32Array(c4(outC) * 4);
  if (bias) packed.set(bias.subarray(0, outC));
  return packed;
}

/**
 * Fully connected weights `[outC, inC]` for the split-K kernel (shaders/linear.ts): `[outC4][inC4][4][4]`, so
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
  checkTarget(packed, c4(outC) * inC4 * 16);
  for (let o = 0; o < outC; o++) {
    for (let i = 0; i < inC; i++) {
      packed[((((o >> 2) * inC4 + (i >> 2)) * 4 + (i & 3)) * 4) + (o & 3)] = weight[o * inC + i];
    }
  }
}
