import type { Preprocessing } from '../formats/model.ts';
import type { CropRect } from '../../shaders/preprocess.ts';
import { MAX_TAPS } from '../../shaders/preprocess.ts';

/**
 * CPU twin of the GPU preprocessing kernel (shaders/preprocess.ts): crop, triangle-filter resample widened by
 * the downscale factor, `(p - mean) / std`, NCHW f32 output. The test oracle for that kernel.
 */
export function preprocessReference(
  rgba: Uint8Array | Uint8ClampedArray,
  width: number,
  height: number,
  crop: CropRect,
  p: Preprocessing,
): Float32Array {
  const [outH, outW] = p.size;
  const out = new Float32Array(3 * outH * outW);
  const axis = (o: number, start: number, scale: number, size: number) => {
    const center = start + (o + 0.5) * scale - 0.5;
    const support = Math.max(1, scale);
    const first = Math.ceil(center - support);
    const count = Math.min(Math.floor(center + support) - first + 1, MAX_TAPS);
    const taps: { index: number; weight: number }[] = [];
    for (let i = 0; i < count; i++) {
      const s = first + i;
      const weight = Math.max(0, 1 - Math.abs(s - center) / support);
      taps.push({ index: Math.min(Math.max(s, 0), size - 1), weight });
    }
    return taps;
  };
  for (let oy = 0; oy < outH; oy++) {
    const ty = axis(oy, crop.y, crop.height / outH, height);
    for (let ox = 0; ox < outW; ox++) {
      const tx = axis(ox, crop.x, crop.width / outW, width);
      const sum = [0, 0, 0];
      let weightSum = 0;
      for (const y of ty) {
        if (y.weight === 0) continue;
        for (const x of tx) {
          const w = x.weight * y.weight;
          const i = (y.index * width + x.index) * 4;
          for (let c = 0; c < 3; c++) sum[c] += (w * rgba[i + c]) / 255;
          weightSum += w;
        }
      }
      for (let c = 0; c < 3; c++) {
        out[(c * outH + oy) * outW + ox] = (sum[c] / Math.max(weightSum, 1e-8) - p.mean[c]) / p.std[c];
      }
    }
  }
  return out;
}
