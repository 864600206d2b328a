import { describe, expect, it } from 'vitest';
import { ShapeError } from '../errors.ts';
import type { Activation, Conv2dAttrs, Pads, PoolAttrs, Shape4 } from '../graph/ir.ts';
import { NO_ACTIVATION, RELU, RELU6 } from '../graph/ir.ts';
import {
  activation,
  add,
  avgPool,
  batchNorm,
  conv2d,
  flatten,
  globalAvgPool,
  linear,
  maxPool,
  softmax,
} from './ops.ts';

const f32 = (...v: number[]): Float32Array => Float32Array.from(v);
const range = (from: number, to: number): Float32Array => {
  const out = new Float32Array(to - from + 1);
  for (let i = 0; i < out.length; i++) out[i] = from + i;
  return out;
};

function expectClose(actual: Float32Array, expected: readonly number[], digits = 5): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((v, i) => expect(v, `element ${i}`).toBeCloseTo(expected[i], digits));
}

function convAttrs(o: Partial<Conv2dAttrs> & Pick<Conv2dAttrs, 'outChannels' | 'weight'>): Conv2dAttrs {
  return {
    kernel: [1, 1],
    stride: [1, 1],
    pads: [0, 0, 0, 0],
    dilation: [1, 1],
    groups: 1,
    bias: null,
    activation: NO_ACTIVATION,
    ...o,
  };
}

function poolAttrs(o: Partial<PoolAttrs> & Pick<PoolAttrs, 'kernel'>): PoolAttrs {
  return {
    stride: o.kernel,
    pads: [0, 0, 0, 0],
    dilation: [1, 1],
    ceilMode: false,
    countIncludePad: true,
    ...o,
  };
}

// 3x3 input:  1 2 3 / 4 5 6 / 7 8 9
const X33 = range(1, 9);
const S33: Shape4 = [1, 1, 3, 3];
const ONES33 = new Float32Array(9).fill(1);

describe('conv2d', () => {
  it('computes a plain 2x2 convolution', () => {
    const r = conv2d(X33, S33, convAttrs({ outChannels: 1, kernel: [2, 2], weight: f32(1, 2, 3, 4) }));
    expect(r.shape).toEqual([1, 1, 2, 2]);
    expectClose(r.data, [37, 47, 67, 77]);
  });

  it('pads symmetrically with zeros', () => {
    const r = conv2d(X33, S33, convAttrs({ outChannels: 1, kernel: [3, 3], pads: [1, 1, 1, 1], weight: ONES33 }));
    expect(r.shape).toEqual([1, 1, 3, 3]);
    expectClose(r.data, [12, 21, 16, 27, 45, 33, 24, 39, 28]);
  });

  it('reads pads as [top, left, bottom, right]', () => {
    const r = conv2d(X33, S33, convAttrs({ outChannels: 1, kernel: [2, 2], pads: [0, 1, 1, 0], weight: f32(1, 1, 1, 1) }));
    expect(r.shape).toEqual([1, 1, 3, 3]);
    expectClose(r.data, [5, 12, 16, 11, 24, 28, 7, 15, 17]);
  });

  it('strides by 2 with padding', () => {
    const r = conv2d(
      X33,
      S33,
      convAttrs({ outChannels: 1, kernel: [3, 3], stride: [2, 2], pads: [1, 1, 1, 1], weight: ONES33 }),
    );
    expect(r.shape).toEqual([1, 1, 2, 2]);
    expectClose(r.data, [12, 16, 24, 28]);
  });

  it('supports different strides per axis', () => {
    // stride [1, 2] on the padded 3x3 sum: rows 0..2, columns 0 and 2.
    const r = conv2d(
      X33,
      S33,
      convAttrs({ outChannels: 1, kernel: [3, 3], stride: [1, 2], pads: [1, 1, 1, 1], weight: ONES33 }),
    );
    expect(r.shape).toEqual([1, 1, 3, 2]);
    expectClose(r.data, [12, 16, 27, 33, 24, 28]);
  });

  it('keeps groups separate (groups = 2) and handles batch > 1', () => {
    // 4 channels of 1x2: [1,2], [3,4], [5,6], [7,8]; batch 1 is batch 0 doubled.
    const x = f32(1, 2, 3, 4, 5, 6, 7, 8, 2, 4, 6, 8, 10, 12, 14, 16);
    const r = conv2d(x, [2, 4, 1, 2], convAttrs({ outChannels: 2, groups: 2, weight: f32(1, 10, 100, 1000) }));
    expect(r.shape).toEqual([2, 2, 1, 2]);
    expectClose(r.data, [31, 42, 7500, 8600, 62, 84, 15000, 17200]);
  });

  it('runs a depthwise 3x3 stride-2 convolution', () => {
    const x = new Float32Array(18);
    x.set(range(1, 9), 0);
    x.set(range(10, 18), 9);
    const w = new Float32Array(18);
    w.set(ONES33, 0);
    w[9 + 4] = 2; // channel 1: centre tap only
    const r = conv2d(
      x,
      [1, 2, 3, 3],
      convAttrs({ outChannels: 2, groups: 2, kernel: [3, 3], stride: [2, 2], pads: [1, 1, 1, 1], weight: w }),
    );
    expect(r.shape).toEqual([1, 2, 2, 2]);
    expectClose(r.data, [12, 16, 24, 28, 20, 24, 32, 36]);
  });

  it('supports a depthwise channel multiplier (groups = C, outC = 2C)', () => {
    // 2 channels of 1x1: [3], [5]; weights per output channel: 1, 2 (from ch 0) and 3, 4 (from ch 1).
    const r = conv2d(f32(3, 5), [1, 2, 1, 1], convAttrs({ outChannels: 4, groups: 2, weight: f32(1, 2, 3, 4) }));
    expectClose(r.data, [3, 6, 15, 20]);
  });

  it('dilates the kernel', () => {
    // 5x5 input with value 5r + c, 3x3 weights 1..9, dilation 2, pad 1.
    const x = range(0, 24);
    const r = conv2d(
      x,
      [1, 1, 5, 5],
      convAttrs({ outChannels: 1, kernel: [3, 3], dilation: [2, 2], pads: [1, 1, 1, 1], weight: range(1, 9) }),
    );
    expect(r.shape).toEqual([1, 1, 3, 3]);
    expectClose(r.data, [368, 521, 320, 519, 732, 447, 224, 305, 176]);
  });

  it('sums input channels and adds bias before relu6', () => {
    const r = conv2d(
      X33,
      S33,
      convAttrs({ outChannels: 1, kernel: [2, 2], weight: f32(1, 2, 3, 4), bias: f32(-42), activation: RELU6 }),
    );
    expectClose(r.data, [0, 5, 6, 6]);

    // Two input channels, two output channels, 1x1: oc0 = x0 + x1, oc1 = x0 - x1 + 0.5.
    const x = f32(1, 2, 10, 20);
    const r2 = conv2d(x, [1, 2, 1, 2], convAttrs({ outChannels: 2, weight: f32(1, 1, 1, -1), bias: f32(0, 0.5) }));
    expectClose(r2.data, [11, 22, -8.5, -17.5]);
  });

  it('adds the residual before the activation', () => {
    const attrs = convAttrs({ outChannels: 1, kernel: [2, 2], weight: f32(1, 2, 3, 4), activation: RELU });
    const residual = f32(1, -50, 0, -100);
    expectClose(conv2d(X33, S33, attrs, residual).data, [38, 0, 67, 0]);
    const clip: Activation = { kind: 'clip', min: -1, max: 40 };
    expectClose(conv2d(X33, S33, { ...attrs, activation: clip }, residual).data, [38, -1, 40, -1]);
  });

  it('sums many input channels (exercises the 4-channel blocked path and its remainder)', () => {
    // 7 channels of 1x1, channel c holds c + 1; weights 1..7 -> sum (c+1)^2 = 140.
    const r = conv2d(range(1, 7), [1, 7, 1, 1], convAttrs({ outChannels: 1, weight: range(1, 7) }));
    expectClose(r.data, [140]);
    // Same with a 3x3 padded kernel over 5 channels of the 3x3 ramp scaled by channel index + 1.
    const x = new Float32Array(45);
    for (let c = 0; c < 5; c++) for (let i = 0; i < 9; i++) x[c * 9 + i] = (c + 1) * (i + 1);
    const w = new Float32Array(45).fill(1);
    const r2 = conv2d(x, [1, 5, 3, 3], convAttrs({ outChannels: 1, kernel: [3, 3], pads: [1, 1, 1, 1], weight: w }));
    expectClose(r2.data, [12, 21, 16, 27, 45, 33, 24, 39, 28].map((v) => v * 15));
  });

  it('rejects wrong input and residual sizes', () => {
    const attrs = convAttrs({ outChannels: 1, kernel: [2, 2], weight: f32(1, 2, 3, 4) });
    expect(() => conv2d(new Float32Array(8), S33, attrs)).toThrow(ShapeError);
    expect(() => conv2d(X33, S33, attrs, new Float32Array(3))).toThrow(ShapeError);
    expect(() => conv2d(X33, S33, { ...attrs, weight: f32(1, 2, 3) })).toThrow(ShapeError);
  });
});

// 4x4 input: 1..16 row-major.
const X44 = range(1, 16);
const S44: Shape4 = [1, 1, 4, 4];

describe('maxPool', () => {
  it('pools 2x2 stride 2', () => {
    const r = maxPool(X44, S44, poolAttrs({ kernel: [2, 2] }));
    expect(r.shape).toEqual([1, 1, 2, 2]);
    expectClose(r.data, [6, 8, 14, 16]);
  });

  it('ignores padded positions (all-negative input)', () => {
    const neg = X44.map((v) => -v);
    const r = maxPool(neg, S44, poolAttrs({ kernel: [3, 3], stride: [2, 2], pads: [1, 1, 1, 1] }));
    expect(r.shape).toEqual([1, 1, 2, 2]);
    expectClose(r.data, [-1, -2, -5, -6]);
  });

  it('adds a partial last window with ceilMode', () => {
    const floor = maxPool(X44, S44, poolAttrs({ kernel: [3, 3], stride: [2, 2] }));
    expect(floor.shape).toEqual([1, 1, 1, 1]);
    expectClose(floor.data, [11]);
    const ceil = maxPool(X44, S44, poolAttrs({ kernel: [3, 3], stride: [2, 2], ceilMode: true }));
    expect(ceil.shape).toEqual([1, 1, 2, 2]);
    expectClose(ceil.data, [11, 12, 15, 16]);
  });

  it('handles pads with ceilMode', () => {
    const r = maxPool(X44, S44, poolAttrs({ kernel: [3, 3], stride: [2, 2], pads: [1, 1, 1, 1], ceilMode: true }));
    expect(r.shape).toEqual([1, 1, 3, 3]);
    expectClose(r.data, [6, 8, 8, 14, 16, 16, 14, 16, 16]);
  });

  it('dilates the window', () => {
    const r = maxPool(X44, S44, poolAttrs({ kernel: [2, 2], stride: [1, 1], dilation: [2, 2] }));
    expect(r.shape).toEqual([1, 1, 2, 2]);
    expectClose(r.data, [11, 12, 15, 16]);
  });

  it('pools each channel separately', () => {
    const x = new Float32Array(32);
    x.set(X44, 0);
    x.set(X44.map((v) => 100 - v), 16);
    const r = maxPool(x, [1, 2, 4, 4], poolAttrs({ kernel: [2, 2] }));
    expectClose(r.data, [6, 8, 14, 16, 99, 97, 91, 89]);
  });
});

describe('avgPool', () => {
  it('pools 2x2 stride 2', () => {
    const r = avgPool(X44, S44, poolAttrs({ kernel: [2, 2] }));
    expectClose(r.data, [3.5, 5.5, 11.5, 13.5]);
  });

  const padded = poolAttrs({ kernel: [3, 3], stride: [2, 2], pads: [1, 1, 1, 1] });

  it('divides by the full window with countIncludePad', () => {
    const r = avgPool(X44, S44, { ...padded, countIncludePad: true });
    expect(r.shape).toEqual([1, 1, 2, 2]);
    expectClose(r.data, [14 / 9, 30 / 9, 57 / 9, 11]);
  });

  it('divides by the real positions without countIncludePad', () => {
    const r = avgPool(X44, S44, { ...padded, countIncludePad: false });
    expectClose(r.data, [3.5, 5, 9.5, 11]);
  });

  it('does not count positions past the end padding with ceilMode (countIncludePad)', () => {
    // Windows per axis start at -1, 1, 3; the last covers 3, 4, 5 of which 3..4 lie in [-1, 5).
    const r = avgPool(X44, S44, { ...padded, ceilMode: true, countIncludePad: true });
    expect(r.shape).toEqual([1, 1, 3, 3]);
    expectClose(r.data, [14 / 9, 30 / 9, 2, 57 / 9, 11, 6, 4.5, 7.5, 4]);
  });

  it('counts only real positions with ceilMode without countIncludePad', () => {
    const r = avgPool(X44, S44, { ...padded, ceilMode: true, countIncludePad: false });
    expect(r.shape).toEqual([1, 1, 3, 3]);
    expectClose(r.data, [3.5, 5, 6, 9.5, 11, 12, 13.5, 15, 16]);
  });

  it('handles ceilMode without pads', () => {
    const r = avgPool(X44, S44, poolAttrs({ kernel: [3, 3], stride: [2, 2], ceilMode: true }));
    expect(r.shape).toEqual([1, 1, 2, 2]);
    // (0,0): rows 0-2, cols 0-2 = 54/9; (0,1): cols 2-3 = 45/6; (1,0): rows 2-3 = 72/6; (1,1): 11+12+15+16 = 54/4.
    expectClose(r.data, [6, 7.5, 12, 13.5]);
  });
});

describe('globalAvgPool, flatten', () => {
  it('averages each plane', () => {
    const r = globalAvgPool(f32(1, 2, 3, 4, 10, 20, 30, 40), [1, 2, 2, 2]);
    expect(r.shape).toEqual([1, 2, 1, 1]);
    expectClose(r.data, [2.5, 25]);
  });

  it('flattens in NCHW order', () => {
    const r = flatten(f32(1, 2, 3, 4, 5, 6, 7, 8), [2, 2, 1, 2]);
    expect(r.shape).toEqual([2, 4, 1, 1]);
    expectClose(r.data, [1, 2, 3, 4, 5, 6, 7, 8]);
  });
});

describe('linear', () => {
  it('computes x W^T + b, then the activation', () => {
    const attrs = { outFeatures: 2, weight: f32(1, 0, -1, 0.5, 0.5, 0.5), bias: f32(10, -4), activation: RELU };
    const r = linear(f32(1, 2, 3, 4, 5, 6), [2, 3, 1, 1], attrs);
    expect(r.shape).toEqual([2, 2, 1, 1]);
    expectClose(r.data, [8, 0, 8, 3.5]);
    const noBias = linear(f32(1, 2, 3), [1, 3, 1, 1], { ...attrs, bias: null, activation: NO_ACTIVATION });
    expectClose(noBias.data, [-2, 3]);
  });

  it('rejects a weight of the wrong size', () => {
    const attrs = { outFeatures: 2, weight: f32(1, 2, 3), bias: null, activation: NO_ACTIVATION };
    expect(() => linear(f32(1, 2, 3), [1, 3, 1, 1], attrs)).toThrow(ShapeError);
  });
});

describe('softmax', () => {
  it('matches known values, sums to 1 and is shift invariant', () => {
    const expected = [0.09003057, 0.24472847, 0.66524096];
    const r = softmax(f32(1, 2, 3, 1000, 1001, 1002), [2, 3, 1, 1]);
    expectClose(r.data, [...expected, ...expected], 6);
    expect(r.data[0] + r.data[1] + r.data[2]).toBeCloseTo(1, 6);
    expect(r.data[3] + r.data[4] + r.data[5]).toBeCloseTo(1, 6);
  });
});

describe('batchNorm, activation, add', () => {
  it('normalizes per channel', () => {
    const params = {
      gamma: f32(2, 1),
      beta: f32(1, -1),
      mean: f32(2, 1),
      variance: f32(3.75, 0),
      epsilon: 0.25,
    };
    const r = batchNorm(f32(1, 3, 0, 4), [1, 2, 1, 2], params);
    expectClose(r.data, [0, 2, -3, 5]);
  });

  it('clamps for each activation kind', () => {
    const x = f32(-2, 0.5, 7);
    expectClose(activation(x, NO_ACTIVATION), [-2, 0.5, 7]);
    expectClose(activation(x, RELU), [0, 0.5, 7]);
    expectClose(activation(x, RELU6), [0, 0.5, 6]);
    expectClose(activation(x, { kind: 'clip', min: -1, max: 0.25 }), [-1, 0.25, 0.25]);
  });

  it('adds, then applies the activation', () => {
    expectClose(add(f32(1, 2, 3), f32(4, -5, 6), RELU6), [5, 0, 6]);
    expectClose(add(f32(1, 2, 3), f32(4, -5, 6), NO_ACTIVATION), [5, -3, 9]);
    expect(() => add(f32(1), f32(1, 2), NO_ACTIVATION)).toThrow(ShapeError);
  });
});

/** Textbook direct convolution with explicit bounds checks, to cross-check the optimized loops. */
function naiveConv(x: Float32Array, s: Shape4, a: Conv2dAttrs, residual: Float32Array | null): Float32Array {
  const [N, C, H, W] = s;
  const [KH, KW] = a.kernel;
  const OH = Math.floor((H + a.pads[0] + a.pads[2] - a.dilation[0] * (KH - 1) - 1) / a.stride[0]) + 1;
  const OW = Math.floor((W + a.pads[1] + a.pads[3] - a.dilation[1] * (KW - 1) - 1) / a.stride[1]) + 1;
  const cg = C / a.groups;
  const og = a.outChannels / a.groups;
  const out = new Float32Array(N * a.outChannels * OH * OW);
  let i = 0;
  for (let n = 0; n < N; n++)
    for (let oc = 0; oc < a.outChannels; oc++)
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++) {
          let sum = a.bias ? a.bias[oc] : 0;
          for (let k = 0; k < cg; k++) {
            const ic = Math.floor(oc / og) * cg + k;
            for (let kh = 0; kh < KH; kh++)
              for (let kw = 0; kw < KW; kw++) {
                const ih = oh * a.stride[0] - a.pads[0] + kh * a.dilation[0];
                const iw = ow * a.stride[1] - a.pads[1] + kw * a.dilation[1];
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                sum += x[((n * C + ic) * H + ih) * W + iw] * a.weight[((oc * cg + k) * KH + kh) * KW + kw];
              }
          }
          if (residual) sum += residual[i];
          if (a.activation.kind === 'relu') sum = Math.max(sum, 0);
          out[i++] = sum;
        }
  return out;
}

describe('conv2d against a naive implementation', () => {
  it('agrees on random configurations', () => {
    let seed = 12345;
    const rand = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 4294967296;
    };
    const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
    for (let t = 0; t < 60; t++) {
      const groups = int(1, 3);
      const C = groups * int(1, 6);
      const OC = groups * int(1, 3);
      const KH = int(1, 4);
      const KW = int(1, 4);
      const dilation: [number, number] = [int(1, 2), int(1, 2)];
      const pads: Pads = [int(0, 2), int(0, 2), int(0, 2), int(0, 2)];
      const H = int(1, 9) + (KH - 1) * dilation[0];
      const W = int(1, 9) + (KW - 1) * dilation[1];
      const s: Shape4 = [int(1, 2), C, H, W];
      const fill = (n: number): Float32Array => Float32Array.from({ length: n }, () => rand() * 2 - 1);
      const a: Conv2dAttrs = {
        outChannels: OC,
        kernel: [KH, KW],
        stride: [int(1, 3), int(1, 3)],
        pads,
        dilation,
        groups,
        weight: fill(OC * (C / groups) * KH * KW),
        bias: rand() < 0.5 ? fill(OC) : null,
        activation: rand() < 0.5 ? RELU : NO_ACTIVATION,
      };
      const x = fill(s[0] * C * H * W);
      const plain = naiveConv(x, s, a, null);
      const residual = rand() < 0.5 ? fill(plain.length) : null;
      const want = naiveConv(x, s, a, residual);
      const got = conv2d(x, s, a, residual).data;
      expect(got.length, `case ${t}`).toBe(want.length);
      for (let i = 0; i < want.length; i++) expect(got[i], `case ${t} element ${i}`).toBeCloseTo(want[i], 4);
    }
  });
});
