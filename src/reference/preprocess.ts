import type { Preprocessing } from '../formats/model.ts';

/**
 * The test oracle for image preprocessing, written from the definitions of the libraries the models were
 * trained with, not from webcnn's kernel (shaders/preprocess.ts), which must match it:
 *
 * - Resampling is PIL's `Image.resize(..., BILINEAR)` (Pillow's Resample.c) and torchvision's
 *   `resize(..., antialias=True)`, which uses the same weights: per axis, output pixel `o` of `out` covering
 *   `[start, start + length)` of the source has its centre at `start + (o + 0.5) * scale` (pixel `i` covers
 *   `[i, i + 1)`), `scale = length / out`. Its value is the average of the source pixels inside the image,
 *   weighted by the triangle `max(0, 1 - |i + 0.5 - centre| / s)` with `s = max(scale, 1)` (the filter widened
 *   by the downscale factor; upscaling is plain bilinear), the weights normalised over those in-range pixels
 *   only (no edge replication). Both axes in turn, in float64 (no rounding to 8 bits between them).
 * - 'stretch' resizes the whole image to `size`. 'center-crop' is torchvision's `Resize(S)` then
 *   `CenterCrop(size)` with `S = round(min(size) / cropFraction)`: the short side becomes `S`, the long side
 *   `floor(S * long / short)`, and the crop starts at `round((resized - size) / 2)` (Python's round: half to
 *   even). Where the crop is larger than the resized image on an axis (a non-square `size`), that axis is
 *   resized straight to the output size (torchvision would pad with zeros; webcnn stretches).
 * - Then `(p / 255 - mean) / std` per channel, NCHW float32.
 */
export function preprocessReference(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number, p: Preprocessing): Float32Array {
  const [outH, outW] = p.size;
  let x: AxisResample;
  let y: AxisResample;
  if (p.resize === 'stretch') {
    x = resampleAxis(width, 0, width, outW);
    y = resampleAxis(height, 0, height, outH);
  } else {
    const short = Math.round(Math.min(outH, outW) / p.cropFraction);
    const [resizedW, resizedH] = width <= height ? [short, Math.floor((short * height) / width)] : [Math.floor((short * width) / height), short];
    x = cropAxis(width, resizedW, outW);
    y = cropAxis(height, resizedH, outH);
  }
  // Horizontal pass (rows of the source to `outW` columns, RGB), then vertical.
  const rows = new Float64Array(height * outW * 3);
  for (let sy = 0; sy < height; sy++) {
    for (let ox = 0; ox < outW; ox++) {
      const { first, weights } = x[ox];
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let k = 0; k < weights.length; k++) sum += weights[k] * rgba[(sy * width + first + k) * 4 + c];
        rows[(sy * outW + ox) * 3 + c] = sum;
      }
    }
  }
  const out = new Float32Array(3 * outH * outW);
  for (let oy = 0; oy < outH; oy++) {
    const { first, weights } = y[oy];
    for (let ox = 0; ox < outW; ox++) {
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let k = 0; k < weights.length; k++) sum += weights[k] * rows[((first + k) * outW + ox) * 3 + c];
        out[(c * outH + oy) * outW + ox] = (sum / 255 - p.mean[c]) / p.std[c];
      }
    }
  }
  return out;
}

/** Per output pixel of one axis: the first source pixel it reads and the normalised weights from there on. */
type AxisResample = { first: number; weights: number[] }[];

/**
 * Resampling of source pixels `[0, size)`, of which `[start, start + length)` maps onto `out` output pixels
 * (PIL's `box`; pixels outside the box but inside the image still contribute near its edges).
 */
function resampleAxis(size: number, start: number, length: number, out: number): AxisResample {
  const scale = length / out;
  const s = Math.max(scale, 1);
  const result: AxisResample = [];
  for (let o = 0; o < out; o++) {
    const centre = start + (o + 0.5) * scale;
    const taps: { i: number; w: number }[] = [];
    for (let i = Math.max(0, Math.floor(centre - s - 0.5)); i < size && i + 0.5 < centre + s; i++) {
      const w = Math.max(0, 1 - Math.abs(i + 0.5 - centre) / s);
      if (w > 0) taps.push({ i, w });
    }
    if (taps.length === 0) throw new RangeError(`output pixel ${o} of ${out} covers no source pixel of ${size}`);
    const total = taps.reduce((a, t) => a + t.w, 0);
    const first = taps[0].i;
    const weights = new Array<number>(taps[taps.length - 1].i - first + 1).fill(0);
    for (const t of taps) weights[t.i - first] = t.w / total;
    result.push({ first, weights });
  }
  return result;
}

/** torchvision's Resize of one axis to `resized` pixels followed by a centred crop of `out` of them. */
function cropAxis(size: number, resized: number, out: number): AxisResample {
  if (out > resized) return resampleAxis(size, 0, size, out);
  const offset = roundHalfEven((resized - out) / 2);
  // Resizing the whole axis and keeping outputs [offset, offset + out) is the same as resampling the box that
  // those outputs cover in source pixels; done the long way here, as torchvision does it.
  return resampleAxis(size, 0, size, resized).slice(offset, offset + out);
}

/** Python 3's `round` of a number that is a whole number or halfway between two. */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
