/**
 * Test-only oracle: the TFLite ops in plain NHWC loops with TFLite's own semantics (TF SAME padding, average
 * pool dividing by in-bounds taps, OHWI / 1HWC filters), written independently of the IR and its CPU
 * reference, so the loader's layout conversions are checked against something that never converts.
 */

export interface Nhwc {
  readonly shape: readonly [number, number, number, number];
  readonly data: Float64Array;
}

export type TestAct = 'NONE' | 'RELU' | 'RELU6' | 'RELU_N1_TO_1';

function act(v: number, a: TestAct): number {
  switch (a) {
    case 'NONE':
      return v;
    case 'RELU':
      return Math.max(v, 0);
    case 'RELU6':
      return Math.min(Math.max(v, 0), 6);
    case 'RELU_N1_TO_1':
      return Math.min(Math.max(v, -1), 1);
  }
}

export function nhwc(shape: readonly [number, number, number, number], data: ArrayLike<number>): Nhwc {
  return { shape, data: Float64Array.from(data as ArrayLike<number>) };
}

/** Output size and leading pad along one axis, as TensorFlow computes them. */
function window(inSize: number, k: number, s: number, d: number, padding: 'SAME' | 'VALID'): [number, number] {
  const eff = (k - 1) * d + 1;
  if (padding === 'VALID') return [Math.floor((inSize - eff) / s) + 1, 0];
  const out = Math.ceil(inSize / s);
  const needed = Math.max(0, (out - 1) * s + eff - inSize);
  return [out, Math.floor(needed / 2)];
}

const at = (t: Nhwc, n: number, y: number, x: number, c: number): number =>
  t.data[((n * t.shape[1] + y) * t.shape[2] + x) * t.shape[3] + c];

/** Zero padding `[top, bottom, left, right]`. */
export function zeroPad(t: Nhwc, top: number, bottom: number, left: number, right: number): Nhwc {
  const [n, h, w, c] = t.shape;
  const oh = h + top + bottom;
  const ow = w + left + right;
  const out = new Float64Array(n * oh * ow * c);
  for (let b = 0; b < n; b++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let k = 0; k < c; k++) out[((b * oh + y + top) * ow + x + left) * c + k] = at(t, b, y, x, k);
  return { shape: [n, oh, ow, c], data: out };
}

/** CONV_2D with an OHWI filter (grouped when the filter has fewer input channels than `x`). */
export function conv2d(
  x: Nhwc,
  filter: ArrayLike<number>,
  fshape: readonly [number, number, number, number],
  bias: ArrayLike<number> | null,
  stride: [number, number],
  padding: 'SAME' | 'VALID',
  a: TestAct = 'NONE',
  dilation: [number, number] = [1, 1],
): Nhwc {
  const [n, h, w, c] = x.shape;
  const [oc, kh, kw, ic] = fshape;
  const groups = c / ic;
  const ocPerGroup = oc / groups;
  const [oh, pt] = window(h, kh, stride[0], dilation[0], padding);
  const [ow, pl] = window(w, kw, stride[1], dilation[1], padding);
  const out = new Float64Array(n * oh * ow * oc);
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++)
        for (let o = 0; o < oc; o++) {
          const g = Math.floor(o / ocPerGroup);
          let acc = bias ? bias[o] : 0;
          for (let ky = 0; ky < kh; ky++)
            for (let kx = 0; kx < kw; kx++) {
              const iy = oy * stride[0] - pt + ky * dilation[0];
              const ix = ox * stride[1] - pl + kx * dilation[1];
              if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
              for (let i = 0; i < ic; i++) acc += at(x, b, iy, ix, g * ic + i) * filter[((o * kh + ky) * kw + kx) * ic + i];
            }
          out[((b * oh + oy) * ow + ox) * oc + o] = act(acc, a);
        }
  return { shape: [n, oh, ow, oc], data: out };
}

/** DEPTHWISE_CONV_2D with a `[1, kh, kw, C*m]` filter: output channel `o` reads input channel `o / m`. */
export function depthwise(
  x: Nhwc,
  filter: ArrayLike<number>,
  fshape: readonly [number, number, number, number],
  bias: ArrayLike<number> | null,
  stride: [number, number],
  padding: 'SAME' | 'VALID',
  a: TestAct = 'NONE',
): Nhwc {
  const [n, h, w, c] = x.shape;
  const [, kh, kw, oc] = fshape;
  const m = oc / c;
  const [oh, pt] = window(h, kh, stride[0], 1, padding);
  const [ow, pl] = window(w, kw, stride[1], 1, padding);
  const out = new Float64Array(n * oh * ow * oc);
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++)
        for (let o = 0; o < oc; o++) {
          let acc = bias ? bias[o] : 0;
          for (let ky = 0; ky < kh; ky++)
            for (let kx = 0; kx < kw; kx++) {
              const iy = oy * stride[0] - pt + ky;
              const ix = ox * stride[1] - pl + kx;
              if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
              acc += at(x, b, iy, ix, Math.floor(o / m)) * filter[(ky * kw + kx) * oc + o];
            }
          out[((b * oh + oy) * ow + ox) * oc + o] = act(acc, a);
        }
  return { shape: [n, oh, ow, oc], data: out };
}

export function add(p: Nhwc, q: Nhwc, a: TestAct = 'NONE'): Nhwc {
  return { shape: p.shape, data: p.data.map((v, i) => act(v + q.data[i], a)) };
}

/** AVERAGE_POOL_2D / MAX_POOL_2D; the average divides by the taps inside the input (TFLite). */
export function pool(x: Nhwc, kind: 'avg' | 'max', k: [number, number], stride: [number, number], padding: 'SAME' | 'VALID'): Nhwc {
  const [n, h, w, c] = x.shape;
  const [oh, pt] = window(h, k[0], stride[0], 1, padding);
  const [ow, pl] = window(w, k[1], stride[1], 1, padding);
  const out = new Float64Array(n * oh * ow * c);
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++)
        for (let ch = 0; ch < c; ch++) {
          let sum = 0;
          let count = 0;
          let max = -Infinity;
          for (let ky = 0; ky < k[0]; ky++)
            for (let kx = 0; kx < k[1]; kx++) {
              const iy = oy * stride[0] - pt + ky;
              const ix = ox * stride[1] - pl + kx;
              if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
              const v = at(x, b, iy, ix, ch);
              sum += v;
              count++;
              max = Math.max(max, v);
            }
          out[((b * oh + oy) * ow + ox) * c + ch] = kind === 'avg' ? sum / count : max;
        }
  return { shape: [n, oh, ow, c], data: out };
}

/** MEAN over H and W, kept as `[n, 1, 1, c]`. */
export function meanHW(x: Nhwc): Nhwc {
  const [n, h, w, c] = x.shape;
  const out = new Float64Array(n * c);
  for (let b = 0; b < n; b++)
    for (let y = 0; y < h; y++)
      for (let xx = 0; xx < w; xx++) for (let ch = 0; ch < c; ch++) out[b * c + ch] += at(x, b, y, xx, ch) / (h * w);
  return { shape: [n, 1, 1, c], data: out };
}

/** FULLY_CONNECTED on `[n, in]` (any `[n, 1, 1, in]`), weights `[out, in]`; result `[n, 1, 1, out]`. */
export function fullyConnected(x: Nhwc, weights: ArrayLike<number>, outF: number, bias: ArrayLike<number> | null, a: TestAct = 'NONE'): Nhwc {
  const n = x.shape[0];
  const inF = x.data.length / n;
  const out = new Float64Array(n * outF);
  for (let b = 0; b < n; b++)
    for (let o = 0; o < outF; o++) {
      let acc = bias ? bias[o] : 0;
      for (let i = 0; i < inF; i++) acc += x.data[b * inF + i] * weights[o * inF + i];
      out[b * outF + o] = act(acc, a);
    }
  return { shape: [n, 1, 1, outF], data: out };
}

export function softmax(x: Nhwc): Nhwc {
  const n = x.shape[0];
  const c = x.data.length / n;
  const out = new Float64Array(x.data.length);
  for (let b = 0; b < n; b++) {
    let m = -Infinity;
    for (let i = 0; i < c; i++) m = Math.max(m, x.data[b * c + i]);
    let s = 0;
    for (let i = 0; i < c; i++) s += Math.exp(x.data[b * c + i] - m);
    for (let i = 0; i < c; i++) out[b * c + i] = Math.exp(x.data[b * c + i] - m) / s;
  }
  return { shape: x.shape, data: out };
}

/** NHWC values → the IR's NCHW order. */
export function toNchw(t: Nhwc): Float32Array {
  const [n, h, w, c] = t.shape;
  const out = new Float32Array(n * c * h * w);
  for (let b = 0; b < n; b++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) out[((b * c + k) * h + y) * w + x] = at(t, b, y, x, k);
  return out;
}

/** Largest `|a - b|` relative to `max |b|`. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < b.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
    maxRef = Math.max(maxRef, Math.abs(b[i]));
  }
  return maxDiff / Math.max(maxRef, 1e-30);
}
