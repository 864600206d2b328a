import type { ResizeAttrs } from '../../src/graph/ir.ts';

/** The input coordinate of output coordinate `x` on one axis (ONNX `coordinate_transformation_mode`). */
function sourceCoordinate(attrs: ResizeAttrs, axis: 0 | 1, x: number, inSize: number): number {
  const outSize = attrs.size[axis];
  const scale = attrs.scale[axis];
  switch (attrs.coordinates) {
    case 'half_pixel':
      return (x + 0.5) / scale - 0.5;
    case 'pytorch_half_pixel':
      return outSize > 1 ? (x + 0.5) / scale - 0.5 : 0;
    case 'align_corners': {
      // Divides by the unrounded resized length `inSize * scale` (ONNX Runtime's and ONNX's node tests' rule),
      // or by the output size where that is the same number up to rounding.
      const v = inSize * scale;
      const length = Math.abs(v - outSize) <= 1e-6 * outSize ? outSize : v;
      return length === 1 ? 0 : (x * (inSize - 1)) / (length - 1);
    }
    case 'asymmetric':
      return x / scale;
  }
}

function rounded(v: number, attrs: ResizeAttrs): number {
  const f = Math.floor(v);
  const tie = v - f === 0.5;
  switch (attrs.nearest) {
    case 'round_prefer_floor':
      return tie ? f : Math.round(v);
    case 'round_prefer_ceil':
      return tie ? f + 1 : Math.round(v);
    case 'floor':
      return f;
    case 'ceil':
      return Math.ceil(v);
  }
}

/**
 * The resize kernel's tap table: `outH` row entries then `outW` column entries, each `(lo, hi, t, 0)` as f32
 * (indices are exact). Computed in f64 here so that nearest rounding ties resolve as the definition says.
 */
export function resizeTaps(attrs: ResizeAttrs, inH: number, inW: number): Float32Array {
  const [outH, outW] = attrs.size;
  const table = new Float32Array((outH + outW) * 4);
  const fill = (axis: 0 | 1, count: number, inSize: number, offset: number): void => {
    for (let x = 0; x < count; x++) {
      const v = sourceCoordinate(attrs, axis, x, inSize);
      const k = (offset + x) * 4;
      if (attrs.mode === 'nearest') {
        table[k] = table[k + 1] = Math.min(Math.max(rounded(v, attrs), 0), inSize - 1);
        continue;
      }
      const c = Math.min(Math.max(v, 0), inSize - 1);
      const lo = Math.floor(c);
      table[k] = lo;
      table[k + 1] = Math.min(lo + 1, inSize - 1);
      table[k + 2] = c - lo;
    }
  };
  fill(0, outH, inH, 0);
  fill(1, outW, inW, outH);
  return table;
}
