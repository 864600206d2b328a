/**
 * CPU oracle of shaders/segment-mask.ts: a segmentation model's output -> a class mask of the source image's
 * size. Scores `[C, H, W]` are interpolated bilinearly at each destination pixel's centre (PyTorch's
 * `interpolate(mode='bilinear', align_corners=False)`, coordinates clamped to the edges) and the first largest
 * class wins; a class map `[H, W]` is sampled at the nearest pixel.
 */
import type { CropRect } from '../../shaders/preprocess.ts';

export interface SegmentMaskInput {
  /** NCHW f32 output of the model: `classes` planes of scores, or one plane of class indices. */
  readonly values: Float32Array;
  readonly kind: 'scores' | 'mask';
  readonly classes: number;
  readonly width: number;
  readonly height: number;
}

/** The mask of a `dstW x dstH` source whose `crop` went into the model, row-major. */
export function segmentMaskReference(input: SegmentMaskInput, dstW: number, dstH: number, crop: CropRect = { x: 0, y: 0, width: dstW, height: dstH }): Int32Array {
  const { values, classes, width: w, height: h } = input;
  const scaleX = w / crop.width;
  const scaleY = h / crop.height;
  const out = new Int32Array(dstW * dstH);
  const f = Math.fround;
  for (let y = 0; y < dstH; y++) {
    for (let x = 0; x < dstW; x++) {
      if (input.kind === 'mask') {
        const sx = Math.min(Math.max(Math.floor((x + 0.5 - crop.x) * scaleX), 0), w - 1);
        const sy = Math.min(Math.max(Math.floor((y + 0.5 - crop.y) * scaleY), 0), h - 1);
        out[y * dstW + x] = Math.max(values[sy * w + sx], 0);
        continue;
      }
      const u = Math.min(Math.max(f((x + 0.5 - crop.x) * scaleX - 0.5), 0), w - 1);
      const v = Math.min(Math.max(f((y + 0.5 - crop.y) * scaleY - 0.5), 0), h - 1);
      const x0 = Math.floor(u);
      const y0 = Math.floor(v);
      const x1 = Math.min(x0 + 1, w - 1);
      const y1 = Math.min(y0 + 1, h - 1);
      const lx = u - x0;
      const ly = v - y0;
      let best = -Infinity;
      let label = 0;
      for (let c = 0; c < classes; c++) {
        const p = values.subarray(c * w * h);
        const top = (1 - lx) * p[y0 * w + x0] + lx * p[y0 * w + x1];
        const bottom = (1 - lx) * p[y1 * w + x0] + lx * p[y1 * w + x1];
        const score = (1 - ly) * top + ly * bottom;
        if (score > best || c === 0) {
          best = score;
          label = c;
        }
      }
      out[y * dstW + x] = label;
    }
  }
  return out;
}
