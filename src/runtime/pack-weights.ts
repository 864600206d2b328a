/**
 * Weight layout transforms from PyTorch's layouts to the packed vec4 layouts the kernels read (see the
 * comments in `shaders/`). Channel counts pad to multiples of four with zeros, so padding lanes contribute
 * nothing. Pure functions: unit-tested on the CPU.
 */

export const c4 = (channels: number): number => Math.ceil(channels / 4);

/**
 * Dense conv weights `[outC, inC, kh, kw]` -> `[kh][kw][inC4][outC4][4 in][4 out]`. A 1x1 kernel gives the
 * pointwise layout `[inC4][outC4][4][4]`.
 */
export function packDenseConvWeights(weight: Float32Array, outC: number, inC: number, kh: number, kw: number): Float32Array {
  const inC4 = c4(inC);
  const outC4 = c4(outC);
  const taps = kh * kw;
  const packed = new Float32Array(taps * inC4 * outC4 * 16);
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
  return packed;
}

/** Depthwise weights `[C, 1, kh, kw]` -> `[kh][kw][C4][4]`. */
export function packDepthwiseWeights(weight: Float32Array, channels: number, kh: number, kw: number): Float32Array {
  const C4 = c4(channels);
  const packed = new Float32Array(kh * kw * C4 * 4);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < kh; y++) {
      for (let x = 0; x < kw; x++) {
        packed[((y * kw + x) * C4 + (c >> 2)) * 4 + (c & 3)] = weight[(c * kh + y) * kw + x];
      }
    }
  }
  return packed;
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
  const inC4 = c4(inC);
  const packed = new Float32Array(c4(outC) * inC4 * 16);
  for (let o = 0; o < outC; o++) {
    for (let i = 0; i < inC; i++) {
      packed[((((o >> 2) * inC4 + (i >> 2)) * 4 + (i & 3)) * 4) + (o & 3)] = weight[o * inC + i];
    }
  }
  return packed;
}
