/**
 * Test-only image helpers: a minimal reader for uncompressed 24-bit BMPs and two resizers, enough to feed the
 * shared cat photo to a classifier.
 */
import type { Preprocessing } from '../../src/formats/model.ts';

export interface RgbImage {
  readonly width: number;
  readonly height: number;
  /** Top-down rows, interleaved RGB, 0..255. */
  readonly data: Float32Array;
}

/** Decodes an uncompressed 24-bit BMP (bottom-up or top-down rows). */
export function readBmp24(bytes: Uint8Array): RgbImage {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes[0] !== 0x42 || bytes[1] !== 0x4d) throw new Error('not a BMP file');
  const offset = v.getUint32(10, true);
  const width = v.getInt32(18, true);
  const rawHeight = v.getInt32(22, true);
  const bpp = v.getUint16(28, true);
  const compression = v.getUint32(30, true);
  if (bpp !== 24 || (compression !== 0 && compression !== 3)) throw new Error(`BMP with ${bpp} bpp, compression ${compression}`);
  const height = Math.abs(rawHeight);
  const stride = Math.ceil((width * 3) / 4) * 4;
  if (offset + stride * height > bytes.length) throw new Error('BMP pixel data is truncated');
  const data = new Float32Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const row = offset + (rawHeight > 0 ? height - 1 - y : y) * stride;
    for (let x = 0; x < width; x++) {
      const p = row + 3 * x;
      const q = 3 * (y * width + x);
      data[q] = bytes[p + 2];
      data[q + 1] = bytes[p + 1];
      data[q + 2] = bytes[p];
    }
  }
  return { width, height, data };
}

/** Area (box) resampling: each output pixel averages the source area it covers, with fractional weights. */
export function resizeArea(img: RgbImage, width: number, height: number): RgbImage {
  const out = new Float32Array(width * height * 3);
  const sx = img.width / width;
  const sy = img.height / height;
  for (let oy = 0; oy < height; oy++) {
    const y0 = oy * sy;
    const y1 = y0 + sy;
    for (let ox = 0; ox < width; ox++) {
      const x0 = ox * sx;
      const x1 = x0 + sx;
      let r = 0;
      let g = 0;
      let b = 0;
      let total = 0;
      for (let y = Math.floor(y0); y < Math.min(Math.ceil(y1), img.height); y++) {
        const wy = Math.min(y + 1, y1) - Math.max(y, y0);
        for (let x = Math.floor(x0); x < Math.min(Math.ceil(x1), img.width); x++) {
          const wgt = wy * (Math.min(x + 1, x1) - Math.max(x, x0));
          const p = 3 * (y * img.width + x);
          r += wgt * img.data[p];
          g += wgt * img.data[p + 1];
          b += wgt * img.data[p + 2];
          total += wgt;
        }
      }
      const q = 3 * (oy * width + ox);
      out[q] = r / total;
      out[q + 1] = g / total;
      out[q + 2] = b / total;
    }
  }
  return { width, height, data: out };
}

/** Bilinear resampling with half-pixel centres (no antialiasing). */
export function resizeBilinear(img: RgbImage, width: number, height: number): RgbImage {
  const out = new Float32Array(width * height * 3);
  for (let oy = 0; oy < height; oy++) {
    const fy = Math.min(Math.max((oy + 0.5) * (img.height / height) - 0.5, 0), img.height - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, img.height - 1);
    const ty = fy - y0;
    for (let ox = 0; ox < width; ox++) {
      const fx = Math.min(Math.max((ox + 0.5) * (img.width / width) - 0.5, 0), img.width - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, img.width - 1);
      const tx = fx - x0;
      for (let c = 0; c < 3; c++) {
        const at = (x: number, y: number) => img.data[3 * (y * img.width + x) + c];
        const top = at(x0, y0) * (1 - tx) + at(x1, y0) * tx;
        const bottom = at(x0, y1) * (1 - tx) + at(x1, y1) * tx;
        out[3 * (oy * width + ox) + c] = top * (1 - ty) + bottom * ty;
      }
    }
  }
  return { width, height, data: out };
}

/** The NCHW network input `x = (pixel / 255 - mean) / std`, pixels rounded to integers as a uint8 image would be. */
export function toInputTensor(img: RgbImage, pre: Preprocessing): Float32Array {
  const { width, height } = img;
  const out = new Float32Array(3 * width * height);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < width * height; i++) {
      const pixel = Math.min(255, Math.max(0, Math.round(img.data[3 * i + c])));
      out[c * width * height + i] = (pixel / 255 - pre.mean[c]) / pre.std[c];
    }
  }
  return out;
}

/** Indices of the `k` largest values, largest first. */
export function topK(values: ArrayLike<number>, k: number): number[] {
  return Array.from({ length: values.length }, (_, i) => i)
    .sort((a, b) => values[b] - values[a])
    .slice(0, k);
}
