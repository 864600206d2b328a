import type { ConvInputTransform, Shape4 } from '../graph/ir.ts';
import { activationBounds } from '../graph/ir.ts';
import { GraphError } from '../errors.ts';

/**
 * A convolution's input after its `ConvInputTransform` (NCHW, f32 rounding after each operation): `x * s[n, c]`
 * for a channel scale (`scale` is the `[n, c, 1, 1]` tensor), `clamp(x * scale[c] + shift[c])` for an affine.
 * The convolution then pads this map with zeros, as the GPU kernels' padded taps do.
 */
export function convInputTransformed(
  x: Float32Array,
  shape: Shape4,
  transform: ConvInputTransform,
  scale: Float32Array | null,
  where: string,
): Float32Array {
  const [n, c, h, w] = shape;
  const plane = h * w;
  const out = new Float32Array(x.length);
  if (transform.kind === 'channelScale') {
    if (!scale || scale.length !== n * c) throw new GraphError(`${where}: channel scale has ${scale?.length ?? 0} values, expected ${n * c}`);
    for (let nc = 0; nc < n * c; nc++) {
      const s = scale[nc];
      for (let i = nc * plane; i < (nc + 1) * plane; i++) out[i] = x[i] * s;
    }
    return out;
  }
  const [lo, hi] = activationBounds(transform.activation);
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      const s = transform.scale[ch];
      const t = transform.shift[ch];
      const from = (b * c + ch) * plane;
      for (let i = from; i < from + plane; i++) out[i] = Math.min(Math.max(Math.fround(x[i] * s) + t, lo), hi);
    }
  }
  return out;
}
