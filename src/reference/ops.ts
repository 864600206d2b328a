/**
 * Plain-TypeScript reference implementations of every graph op, used as the test oracle for the GPU
 * kernels. Tensors are NCHW `Float32Array`s with an explicit `Shape4`. Sums are accumulated in double
 * precision and rounded to float32 once, when the result is stored.
 *
 * Every function checks that the data lengths match the shapes and throws `ShapeError` otherwise; the
 * optional trailing `where` argument (a node name) prefixes those messages.
 */
import { ShapeError } from '../errors.ts';
import type { Activation, BatchNormParams, Conv2dAttrs, LinearAttrs, Pads, PoolAttrs, Shape4 } from '../graph/ir.ts';
import { applyActivationFunction } from '../graph/activations/index.ts';
import { broadcastCombine } from './broadcast.ts';
import { activationBounds, convWeight, elementCount, isClamp, shapeToString } from '../graph/ir.ts';
import {
  broadcastShapes,
  checkReshape,
  checkSoftmaxAxes,
  conv2dOutputShape,
  padOutputShape,
  poolOutputShape,
} from '../graph/shapes.ts';

export interface TensorData {
  readonly data: Float32Array;
  readonly shape: Shape4;
}

function checkLength(data: Float32Array, shape: Shape4, where: string, what: string): void {
  const expected = elementCount(shape);
  if (data.length !== expected) {
    throw new ShapeError(`${where}: ${what} has ${data.length} values, expected ${expected} for shape ${shapeToString(shape)}`);
  }
}

/**
 * Applies an activation, writing into `out` (which may be `x`): a clamp `min(max(v, lo), hi)`, or a function of
 * the activation table (its `reference`).
 */
function clampInto(x: ArrayLike<number>, out: Float32Array, act: Activation): void {
  const n = out.length;
  if (act.kind === 'none' || act.kind === 'function') {
    for (let i = 0; i < n; i++) out[i] = x[i];
    if (act.kind === 'function') applyActivationFunction(act, out);
    return;
  }
  const [lo, hi] = activationBounds(act);
  for (let i = 0; i < n; i++) out[i] = Math.min(Math.max(x[i], lo), hi);
}

/** A table function's values after a loop that applied the clamp part of `act` (a no-op for clamps). */
function finishFunction(out: Float32Array, act: Activation): Float32Array {
  if (act.kind === 'function') applyActivationFunction(act, out);
  return out;
}

/** Valid output range `[lo, hi)` along one axis for kernel tap `k`: positions whose input index is in `[0, inSize)`. */
function tapRange(
  outSize: number,
  inSize: number,
  stride: number,
  padBegin: number,
  tapOffset: number,
): [number, number] {
  // input index = o * stride - padBegin + tapOffset
  const lo = Math.max(0, Math.ceil((padBegin - tapOffset) / stride));
  const hi = Math.min(outSize, Math.floor((inSize - 1 + padBegin - tapOffset) / stride) + 1);
  return [lo, Math.max(lo, hi)];
}

/**
 * General 2-D convolution: groups (depthwise included), stride, explicit pads `[top, left, bottom, right]`,
 * dilation, optional bias and optional residual (same shape as the output), then the activation:
 * `out = act(conv(x) + bias + residual)`.
 */
export function conv2d(
  x: Float32Array,
  shape: Shape4,
  attrs: Conv2dAttrs,
  residual: Float32Array | null = null,
  where = 'conv2d',
): TensorData {
  checkLength(x, shape, where, 'input');
  const outShape = conv2dOutputShape(shape, attrs, where);
  if (residual) checkLength(residual, outShape, where, 'residual');
  const [N, C, H, W] = shape;
  const [, OC, OH, OW] = outShape;
  const { groups, bias } = attrs;
  const weight = convWeight(attrs);
  const [KH, KW] = attrs.kernel;
  const [SH, SW] = attrs.stride;
  const [DH, DW] = attrs.dilation;
  const padT = attrs.pads[0];
  const padL = attrs.pads[1];
  const icPerGroup = C / groups;
  const ocPerGroup = OC / groups;
  const planeIn = H * W;
  const planeOut = OH * OW;
  const KK = KH * KW;

  // Per-tap valid output ranges, so the inner loops need no bounds checks.
  const ohLo = new Int32Array(KH);
  const ohHi = new Int32Array(KH);
  for (let kh = 0; kh < KH; kh++) [ohLo[kh], ohHi[kh]] = tapRange(OH, H, SH, padT, kh * DH);
  const owLo = new Int32Array(KW);
  const owHi = new Int32Array(KW);
  for (let kw = 0; kw < KW; kw++) [owLo[kw], owHi[kw]] = tapRange(OW, W, SW, padL, kw * DW);

  const out = new Float32Array(N * OC * planeOut);
  const acc = new Float64Array(planeOut);
  const [lo, hi] = activationBounds(attrs.activation);
  const clamp = isClamp(attrs.activation);

  for (let n = 0; n < N; n++) {
    for (let oc = 0; oc < OC; oc++) {
      const g = (oc / ocPerGroup) | 0;
      acc.fill(bias ? bias[oc] : 0);
      // Four input channels at a time, so each accumulator element is loaded and stored once per four taps.
      let icl = 0;
      for (; icl + 4 <= icPerGroup; icl += 4) {
        const xPlane = (n * C + g * icPerGroup + icl) * planeIn;
        const wBase = (oc * icPerGroup + icl) * KK;
        for (let kh = 0; kh < KH; kh++) {
          const hLo = ohLo[kh];
          const hHi = ohHi[kh];
          const rowOff = kh * DH - padT;
          for (let kw = 0; kw < KW; kw++) {
            const wLo = owLo[kw];
            const wHi = owHi[kw];
            const t = wBase + kh * KW + kw;
            const w0 = weight[t];
            const w1 = weight[t + KK];
            const w2 = weight[t + 2 * KK];
            const w3 = weight[t + 3 * KK];
            const colOff = kw * DW - padL;
            for (let oh = hLo; oh < hHi; oh++) {
              const x0 = xPlane + (oh * SH + rowOff) * W + colOff;
              const x1 = x0 + planeIn;
              const x2 = x1 + planeIn;
              const x3 = x2 + planeIn;
              const aRow = oh * OW;
              if (SW === 1) {
                for (let ow = wLo; ow < wHi; ow++) {
                  acc[aRow + ow] += w0 * x[x0 + ow] + w1 * x[x1 + ow] + w2 * x[x2 + ow] + w3 * x[x3 + ow];
                }
              } else {
                for (let ow = wLo; ow < wHi; ow++) {
                  const o = ow * SW;
                  acc[aRow + ow] += w0 * x[x0 + o] + w1 * x[x1 + o] + w2 * x[x2 + o] + w3 * x[x3 + o];
                }
              }
            }
          }
        }
      }
      for (; icl < icPerGroup; icl++) {
        const xPlane = (n * C + g * icPerGroup + icl) * planeIn;
        const wBase = (oc * icPerGroup + icl) * KK;
        for (let kh = 0; kh < KH; kh++) {
          const hLo = ohLo[kh];
          const hHi = ohHi[kh];
          const rowOff = kh * DH - padT;
          for (let kw = 0; kw < KW; kw++) {
            const wLo = owLo[kw];
            const wHi = owHi[kw];
            const wv = weight[wBase + kh * KW + kw];
            const colOff = kw * DW - padL;
            for (let oh = hLo; oh < hHi; oh++) {
              const xRow = xPlane + (oh * SH + rowOff) * W + colOff;
              const aRow = oh * OW;
              if (SW === 1) {
                for (let ow = wLo; ow < wHi; ow++) acc[aRow + ow] += wv * x[xRow + ow];
              } else {
                for (let ow = wLo; ow < wHi; ow++) acc[aRow + ow] += wv * x[xRow + ow * SW];
              }
            }
          }
        }
      }
      const oBase = (n * OC + oc) * planeOut;
      for (let p = 0; p < planeOut; p++) {
        let v = acc[p];
        if (residual) v += residual[oBase + p];
        if (clamp) v = Math.min(Math.max(v, lo), hi);
        out[oBase + p] = v;
      }
    }
  }
  return { data: finishFunction(out, attrs.activation), shape: outShape };
}

/** `y = (x - mean) / sqrt(var + eps) * gamma + beta`, per channel. */
export function batchNorm(x: Float32Array, shape: Shape4, params: BatchNormParams, where = 'batchNorm'): TensorData {
  checkLength(x, shape, where, 'input');
  const [N, C, H, W] = shape;
  for (const key of ['gamma', 'beta', 'mean', 'variance'] as const) {
    if (params[key].length !== C) {
      throw new ShapeError(`${where}: batch norm ${key} has ${params[key].length} values, expected ${C}`);
    }
  }
  const plane = H * W;
  const out = new Float32Array(x.length);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const mean = params.mean[c];
      const scale = params.gamma[c] / Math.sqrt(params.variance[c] + params.epsilon);
      const beta = params.beta[c];
      const base = (n * C + c) * plane;
      for (let p = 0; p < plane; p++) out[base + p] = (x[base + p] - mean) * scale + beta;
    }
  }
  return { data: out, shape };
}

/** Element-wise activation (a clamp or a table function). */
export function activation(x: Float32Array, act: Activation): Float32Array {
  const out = new Float32Array(x.length);
  clampInto(x, out, act);
  return out;
}

/** Element-wise `act(a + b)` of two same-length tensors. */
export function add(a: Float32Array, b: Float32Array, act: Activation, where = 'add'): Float32Array {
  if (a.length !== b.length) {
    throw new ShapeError(`${where}: add operands have ${a.length} and ${b.length} values`);
  }
  const n = a.length;
  const out = new Float32Array(n);
  if (act.kind === 'none') {
    for (let i = 0; i < n; i++) out[i] = a[i] + b[i];
  } else {
    const [lo, hi] = activationBounds(act);
    for (let i = 0; i < n; i++) out[i] = Math.min(Math.max(a[i] + b[i], lo), hi);
  }
  return finishFunction(out, act);
}

interface Window1D {
  /** First tap index inside the real input, per output position. */
  readonly kLo: Int32Array;
  /** One past the last tap index inside the real input. */
  readonly kHi: Int32Array;
  /** Taps inside the padded input `[-padBegin, in + padEnd)` (the `countIncludePad` divisor factor). */
  readonly padded: Int32Array;
}

function window1D(
  outSize: number,
  inSize: number,
  kernel: number,
  stride: number,
  padBegin: number,
  padEnd: number,
  dilation: number,
): Window1D {
  const kLo = new Int32Array(outSize);
  const kHi = new Int32Array(outSize);
  const padded = new Int32Array(outSize);
  for (let o = 0; o < outSize; o++) {
    const start = o * stride - padBegin;
    let lo = kernel;
    let hi = 0;
    let inPadded = 0;
    for (let k = 0; k < kernel; k++) {
      const i = start + k * dilation;
      if (i >= 0 && i < inSize) {
        if (k < lo) lo = k;
        hi = k + 1;
      }
      if (i >= -padBegin && i < inSize + padEnd) inPadded++;
    }
    kLo[o] = lo;
    kHi[o] = Math.max(lo, hi);
    padded[o] = inPadded;
  }
  return { kLo, kHi, padded };
}

function pool(x: Float32Array, shape: Shape4, attrs: PoolAttrs, isMax: boolean, where: string): TensorData {
  checkLength(x, shape, where, 'input');
  const outShape = poolOutputShape(shape, attrs, where);
  const [N, C, H, W] = shape;
  const [, , OH, OW] = outShape;
  const [SH, SW] = attrs.stride;
  const [DH, DW] = attrs.dilation;
  const wh = window1D(OH, H, attrs.kernel[0], SH, attrs.pads[0], attrs.pads[2], DH);
  const ww = window1D(OW, W, attrs.kernel[1], SW, attrs.pads[1], attrs.pads[3], DW);
  const padT = attrs.pads[0];
  const padL = attrs.pads[1];
  const out = new Float32Array(N * C * OH * OW);
  let o = 0;
  for (let nc = 0; nc < N * C; nc++) {
    const plane = nc * H * W;
    for (let oh = 0; oh < OH; oh++) {
      const khLo = wh.kLo[oh];
      const khHi = wh.kHi[oh];
      const hStart = oh * SH - padT;
      for (let ow = 0; ow < OW; ow++) {
        const kwLo = ww.kLo[ow];
        const kwHi = ww.kHi[ow];
        const wStart = ow * SW - padL;
        if (isMax) {
          let m = -Infinity;
          for (let kh = khLo; kh < khHi; kh++) {
            const row = plane + (hStart + kh * DH) * W + wStart;
            for (let kw = kwLo; kw < kwHi; kw++) {
              const v = x[row + kw * DW];
              // NaN propagates, as in PyTorch.
              if (v > m || v !== v) m = v;
            }
          }
          out[o++] = m;
        } else {
          let s = 0;
          for (let kh = khLo; kh < khHi; kh++) {
            const row = plane + (hStart + kh * DH) * W + wStart;
            for (let kw = kwLo; kw < kwHi; kw++) s += x[row + kw * DW];
          }
          const count = attrs.countIncludePad
            ? wh.padded[oh] * ww.padded[ow]
            : (khHi - khLo) * (kwHi - kwLo);
          out[o++] = s / count;
        }
      }
    }
  }
  return { data: out, shape: outShape };
}

/** Max pool; padded positions are ignored (never win). */
export function maxPool(x: Float32Array, shape: Shape4, attrs: PoolAttrs, where = 'maxPool'): TensorData {
  return pool(x, shape, attrs, true, where);
}

/**
 * Average pool (PyTorch semantics). With `countIncludePad` the divisor is the number of window positions
 * inside the padded input `[-padBegin, in + padEnd)` (positions past the end padding, reachable with
 * `ceilMode`, do not count); without it, the number of positions inside the real input.
 */
export function avgPool(x: Float32Array, shape: Shape4, attrs: PoolAttrs, where = 'avgPool'): TensorData {
  return pool(x, shape, attrs, false, where);
}

/** Mean over each `h x w` plane: `[n, c, h, w]` -> `[n, c, 1, 1]`. */
export function globalAvgPool(x: Float32Array, shape: Shape4, where = 'globalAvgPool'): TensorData {
  checkLength(x, shape, where, 'input');
  const [N, C, H, W] = shape;
  const plane = H * W;
  const out = new Float32Array(N * C);
  for (let nc = 0; nc < N * C; nc++) {
    let s = 0;
    const base = nc * plane;
    for (let p = 0; p < plane; p++) s += x[base + p];
    out[nc] = s / plane;
  }
  return { data: out, shape: [N, C, 1, 1] };
}

/** `[n, c, h, w]` -> `[n, c*h*w, 1, 1]`; NCHW order is unchanged, so this copies the data. */
export function flatten(x: Float32Array, shape: Shape4, where = 'flatten'): TensorData {
  checkLength(x, shape, where, 'input');
  const [N, C, H, W] = shape;
  return { data: x.slice(), shape: [N, C * H * W, 1, 1] };
}

/**
 * Fully connected layer: `y = act(x W^T + b)` with `W` of shape `[out, in]`. The input is `[n, in, 1, 1]`
 * (any `[n, c, h, w]` with `c*h*w = in` is read in flattened NCHW order). With `attrs.poolInput` (a fused global
 * average pool) the input is a `[n, in, h, w]` map and the layer runs on `globalAvgPool(x)`, computed exactly as
 * the separate op computes it, so a fused graph gives the unfused graph's values bit for bit.
 */
export function linear(x: Float32Array, shape: Shape4, attrs: LinearAttrs, where = 'linear'): TensorData {
  checkLength(x, shape, where, 'input');
  if (attrs.poolInput) {
    const pooled = globalAvgPool(x, shape, where);
    return linear(pooled.data, pooled.shape, { ...attrs, poolInput: false }, where);
  }
  const [N, C, H, W] = shape;
  const inF = C * H * W;
  const outF = attrs.outFeatures;
  if (attrs.weight.length !== outF * inF) {
    throw new ShapeError(
      `${where}: linear weight has ${attrs.weight.length} values, expected ${outF * inF} ([${outF}, ${inF}])`,
    );
  }
  if (attrs.bias && attrs.bias.length !== outF) {
    throw new ShapeError(`${where}: linear bias has ${attrs.bias.length} values, expected ${outF}`);
  }
  const { weight, bias } = attrs;
  const acc = new Float64Array(N * outF);
  for (let n = 0; n < N; n++) {
    const xBase = n * inF;
    for (let o = 0; o < outF; o++) {
      let s = bias ? bias[o] : 0;
      const wBase = o * inF;
      for (let i = 0; i < inF; i++) s += x[xBase + i] * weight[wBase + i];
      acc[n * outF + o] = s;
    }
  }
  const out = new Float32Array(N * outF);
  clampInto(acc, out, attrs.activation);
  return { data: out, shape: [N, outF, 1, 1] };
}

/**
 * Numerically stable softmax over the channel axis (for each `n`, `h`, `w`; normally `[n, c, 1, 1]`), or with
 * `axes = [first, last]` jointly over the NCHW axes `first..last` for each index of the others.
 */
export function softmax(x: Float32Array, shape: Shape4, where = 'softmax', axes: readonly [number, number] = [1, 1]): TensorData {
  checkLength(x, shape, where, 'input');
  checkSoftmaxAxes(axes, where);
  // NCHW index = (outer * len + k) * inner + r.
  let outer = 1;
  let len = 1;
  let inner = 1;
  shape.forEach((d, i) => {
    if (i < axes[0]) outer *= d;
    else if (i <= axes[1]) len *= d;
    else inner *= d;
  });
  const out = new Float32Array(x.length);
  const e = new Float64Array(len);
  for (let o = 0; o < outer; o++) {
    for (let r = 0; r < inner; r++) {
      const base = o * len * inner + r;
      let m = -Infinity;
      for (let k = 0; k < len; k++) m = Math.max(m, x[base + k * inner]);
      let s = 0;
      for (let k = 0; k < len; k++) {
        e[k] = Math.exp(x[base + k * inner] - m);
        s += e[k];
      }
      for (let k = 0; k < len; k++) out[base + k * inner] = e[k] / s;
    }
  }
  return { data: out, shape };
}

/** `act(a + b)` with NumPy-style broadcasting over the four NCHW axes. */
export function addBroadcast(
  a: Float32Array,
  aShape: Shape4,
  b: Float32Array,
  bShape: Shape4,
  act: Activation,
  where = 'add',
): TensorData {
  checkLength(a, aShape, where, 'first operand');
  checkLength(b, bShape, where, 'second operand');
  const shape = broadcastShapes(aShape, bShape);
  if (!shape) {
    throw new ShapeError(`${where}: add operands ${shapeToString(aShape)} and ${shapeToString(bShape)} do not broadcast`);
  }
  const out = broadcastCombine(a, aShape, b, bShape, shape, (x, y) => x + y, activationBounds(act));
  return { data: finishFunction(out, act), shape };
}

/** Reinterprets the data as `outShape` (same element count); NCHW order is unchanged, so this copies. */
export function reshape(x: Float32Array, shape: Shape4, outShape: Shape4, where = 'reshape'): TensorData {
  checkLength(x, shape, where, 'input');
  return { data: x.slice(), shape: checkReshape(shape, outShape, where) };
}

/** Constant spatial padding, `pads` = `[top, left, bottom, right]`; negative pads crop. */
export function pad(x: Float32Array, shape: Shape4, pads: Pads, value: number, where = 'pad'): TensorData {
  checkLength(x, shape, where, 'input');
  const outShape = padOutputShape(shape, pads, where);
  const [N, C, H, W] = shape;
  const [, , OH, OW] = outShape;
  const out = new Float32Array(N * C * OH * OW);
  let o = 0;
  for (let nc = 0; nc < N * C; nc++) {
    for (let y = 0; y < OH; y++) {
      const iy = y - pads[0];
      for (let xx = 0; xx < OW; xx++) {
        const ix = xx - pads[1];
        out[o++] = iy >= 0 && iy < H && ix >= 0 && ix < W ? x[(nc * H + iy) * W + ix] : value;
      }
    }
  }
  return { data: out, shape: outShape };
}
