import type { LayerNormAttrs, Shape4 } from '../graph/ir.ts';

/**
 * Layer normalisation over the channel axis of an NCHW tensor, per (n, y, x): `(x - mean) / sqrt(var + eps) *
 * gamma + beta` with the biased variance (ONNX LayerNormalization on the last axis of the NHWC view), in f64.
 */
export function layerNorm(x: Float32Array, shape: Shape4, attrs: LayerNormAttrs): Float32Array {
  const [n, c, h, w] = shape;
  const plane = h * w;
  const out = new Float32Array(x.length);
  for (let b = 0; b < n; b++) {
    for (let p = 0; p < plane; p++) {
      const at = (ch: number): number => (b * c + ch) * plane + p;
      let sum = 0;
      for (let ch = 0; ch < c; ch++) sum += x[at(ch)];
      const mean = sum / c;
      let sq = 0;
      for (let ch = 0; ch < c; ch++) sq += (x[at(ch)] - mean) ** 2;
      const inv = 1 / Math.sqrt(sq / c + attrs.epsilon);
      for (let ch = 0; ch < c; ch++) out[at(ch)] = (x[at(ch)] - mean) * inv * attrs.gamma[ch] + (attrs.beta ? attrs.beta[ch] : 0);
    }
  }
  return out;
}
