/**
 * Reference implementations of the upsampling ops, written from the ONNX operator definitions (Resize,
 * ArgMax, ConvTranspose). NCHW `Float32Array`s; sums in double precision, rounded to f32 once when stored.
 */
import { ShapeError } from '../errors.ts';
import type { ConvTransposeAttrs, NearestRounding, ResizeAttrs, ResizeCoordinates, Shape4 } from '../graph/ir.ts';
import { elementCount, shapeToString } from '../graph/ir.ts';
import { argMaxOutputShape, convTransposeOutputShape, resizeOutputShape } from '../graph/shapes-upsample.ts';
import type { TensorData } from './ops.ts';

function checkLength(data: Float32Array, shape: Shape4, where: string): void {
  if (data.length !== elementCount(shape)) {
    throw new ShapeError(`${where}: input has ${data.length} values, expected ${elementCount(shape)} for shape ${shapeToString(shape)}`);
  }
}

/**
 * The resized length align_corners divides by: `inSize * scale`, unrounded (ONNX's node tests and ONNX Runtime
 * use it so when scales are given: 4 * 0.6 gives 2.4, not 2), and the output size itself when that is the same
 * number up to rounding (scales derived from sizes).
 */
export function resizedLength(inSize: number, scale: number, outSize: number): number {
  const v = inSize * scale;
  return Math.abs(v - outSize) <= 1e-6 * outSize ? outSize : v;
}

/** ONNX `coordinate_transformation_mode`: the input coordinate of output coordinate `x` on one axis. */
export function originalCoordinate(x: number, mode: ResizeCoordinates, scale: number, inSize: number, outSize: number): number {
  switch (mode) {
    case 'half_pixel':
      return (x + 0.5) / scale - 0.5;
    case 'pytorch_half_pixel':
      return outSize > 1 ? (x + 0.5) / scale - 0.5 : 0;
    case 'align_corners':
      return resizedLength(inSize, scale, outSize) === 1 ? 0 : (x * (inSize - 1)) / (resizedLength(inSize, scale, outSize) - 1);
    case 'asymmetric':
      return x / scale;
  }
}

/** ONNX `nearest_mode`. */
export function roundNearest(v: number, mode: NearestRounding): number {
  const f = Math.floor(v);
  switch (mode) {
    case 'round_prefer_floor':
      return v - f === 0.5 ? f : Math.round(v);
    case 'round_prefer_ceil':
      return v - f === 0.5 ? f + 1 : Math.round(v);
    case 'floor':
      return f;
    case 'ceil':
      return Math.ceil(v);
  }
}

/** Per output coordinate of one axis: the two input taps and the weight of the second. */
function axisTaps(attrs: ResizeAttrs, axis: 0 | 1, inSize: number): { lo: Int32Array; hi: Int32Array; t: Float64Array } {
  const outSize = attrs.size[axis];
  const lo = new Int32Array(outSize);
  const hi = new Int32Array(outSize);
  const t = new Float64Array(outSize);
  for (let x = 0; x < outSize; x++) {
    const orig = originalCoordinate(x, attrs.coordinates, attrs.scale[axis], inSize, outSize);
    if (attrs.mode === 'nearest') {
      lo[x] = hi[x] = Math.min(Math.max(roundNearest(orig, attrs.nearest), 0), inSize - 1);
      continue;
    }
    // Out-of-range coordinates read the edge (ONNX pads with the edge values), i.e. clamp.
    const c = Math.min(Math.max(orig, 0), inSize - 1);
    lo[x] = Math.floor(c);
    hi[x] = Math.min(lo[x] + 1, inSize - 1);
    t[x] = c - lo[x];
  }
  return { lo, hi, t };
}

/** ONNX Resize on H and W, nearest or (bi)linear. */
export function resize(x: Float32Array, shape: Shape4, attrs: ResizeAttrs, where = 'resize'): TensorData {
  checkLength(x, shape, where);
  const outShape = resizeOutputShape(shape, attrs, where);
  const [N, C, H, W] = shape;
  const [, , OH, OW] = outShape;
  const ys = axisTaps(attrs, 0, H);
  const xs = axisTaps(attrs, 1, W);
  const out = new Float32Array(N * C * OH * OW);
  let o = 0;
  for (let nc = 0; nc < N * C; nc++) {
    const base = nc * H * W;
    for (let y = 0; y < OH; y++) {
      const r0 = base + ys.lo[y] * W;
      const r1 = base + ys.hi[y] * W;
      const ty = ys.t[y];
      for (let xx = 0; xx < OW; xx++) {
        const a = xs.lo[xx];
        const b = xs.hi[xx];
        const tx = xs.t[xx];
        const top = x[r0 + a] * (1 - tx) + x[r0 + b] * tx;
        const bottom = x[r1 + a] * (1 - tx) + x[r1 + b] * tx;
        out[o++] = top * (1 - ty) + bottom * ty;
      }
    }
  }
  return { data: out, shape: outShape };
}

/** ONNX ArgMax over the channel axis (keepdims 1, select_last_index 0): the first largest channel's index. */
export function argMax(x: Float32Array, shape: Shape4, where = 'argMax'): TensorData {
  checkLength(x, shape, where);
  const outShape = argMaxOutputShape(shape, where);
  const [N, C, H, W] = shape;
  const plane = H * W;
  const out = new Float32Array(N * plane);
  for (let n = 0; n < N; n++) {
    for (let p = 0; p < plane; p++) {
      let best = 0;
      let bestValue = x[n * C * plane + p];
      for (let c = 1; c < C; c++) {
        const v = x[(n * C + c) * plane + p];
        if (v > bestValue) {
          bestValue = v;
          best = c;
        }
      }
      out[n * plane + p] = best;
    }
  }
  return { data: out, shape: outShape };
}

/**
 * ConvTranspose as its definition scatters it: input pixel `(iy, ix)` of channel `ic` adds
 * `x * w[ic, oc, ky, kx]` to output `(iy * stride - padTop + ky * dilation, ...)`, for the output channels of
 * `ic`'s group; positions outside the output (cropped by the pads) are dropped.
 */
export function convTranspose(x: Float32Array, shape: Shape4, attrs: ConvTransposeAttrs, where = 'convTranspose'): TensorData {
  checkLength(x, shape, where);
  const outShape = convTransposeOutputShape(shape, attrs, where);
  const [N, C, H, W] = shape;
  const [, OC, OH, OW] = outShape;
  const [KH, KW] = attrs.kernel;
  const [SH, SW] = attrs.stride;
  const [DH, DW] = attrs.dilation;
  const inPerGroup = C / attrs.groups;
  const outPerGroup = OC / attrs.groups;
  const acc = new Float64Array(N * OC * OH * OW);
  for (let n = 0; n < N; n++) {
    for (let ic = 0; ic < C; ic++) {
      const g = Math.floor(ic / inPerGroup);
      for (let iy = 0; iy < H; iy++) {
        for (let ix = 0; ix < W; ix++) {
          const v = x[((n * C + ic) * H + iy) * W + ix];
          for (let j = 0; j < outPerGroup; j++) {
            const oc = g * outPerGroup + j;
            for (let ky = 0; ky < KH; ky++) {
              const oy = iy * SH - attrs.pads[0] + ky * DH;
              if (oy < 0 || oy >= OH) continue;
              for (let kx = 0; kx < KW; kx++) {
                const ox = ix * SW - attrs.pads[1] + kx * DW;
                if (ox < 0 || ox >= OW) continue;
                acc[((n * OC + oc) * OH + oy) * OW + ox] += v * attrs.weight[((ic * outPerGroup + j) * KH + ky) * KW + kx];
              }
            }
          }
        }
      }
    }
  }
  const out = new Float32Array(acc.length);
  for (let i = 0; i < acc.length; i++) out[i] = acc[i] + (attrs.bias ? attrs.bias[Math.floor(i / (OH * OW)) % OC] : 0);
  return { data: out, shape: outShape };
}
