/**
 * Test helpers for the ONNX loader: tiny models written with the ONNX writer, and plain N-d reference
 * implementations that follow the ONNX operator specification directly (independent of `src/reference`), so
 * that loader tests compare `runGraphReference` on the loaded graph with what the spec says.
 */
import { expect } from 'vitest';
import type { LoadOnnxOptions } from '../src/formats/onnx/index.ts';
import type { NodeInit, TensorInit } from '../src/formats/onnx/index.ts';
import { attr, encodeModel, loadOnnx, makeGraph, makeModel, makeNode, makeTensor, makeValueInfo } from '../src/formats/onnx/index.ts';
import type { LoadedModel } from '../src/formats/model.ts';
import { runGraphReference } from '../src/reference/index.ts';
import { Rng } from '../src/util/random.ts';
import { ModelFormatError, UnsupportedOpError } from '../src/errors.ts';
import { runNodeTestOnReference } from './helpers/onnx-node-tests.ts';

/** A row-major N-d float tensor. */
export interface Nd {
  readonly dims: readonly number[];
  readonly data: Float32Array;
}

export const size = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

export function nd(dims: readonly number[], data: ArrayLike<number>): Nd {
  if (data.length !== size(dims)) throw new Error(`nd: ${data.length} values for dims [${dims.join(', ')}]`);
  return { dims: [...dims], data: Float32Array.from(data) };
}

export function randomNd(rng: Rng, dims: readonly number[], lo = -1, hi = 1): Nd {
  return { dims: [...dims], data: rng.fill(size(dims), lo, hi) };
}

/** Row-major strides. */
function strides(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length).fill(1);
  for (let i = dims.length - 2; i >= 0; i--) s[i] = s[i + 1] * dims[i + 1];
  return s;
}

/** Multi-index of a flat position. */
function unravel(i: number, dims: readonly number[]): number[] {
  const idx = new Array<number>(dims.length);
  for (let k = dims.length - 1; k >= 0; k--) {
    idx[k] = i % dims[k];
    i = Math.floor(i / dims[k]);
  }
  return idx;
}

export interface ConvSpec {
  strides?: number[];
  /** ONNX order: begins for each spatial axis, then ends. */
  pads?: number[];
  dilations?: number[];
  group?: number;
}

/**
 * ONNX Conv for rank-3 or rank-4 X with weight [M, C/group, k...] and optional bias, explicit pads:
 * `Y[n, m, o...] = B[m] + sum_{c, j...} X[n, g*C/group + c, o*s - pb + j*d] * W[m, c, j...]` (outside = 0).
 */
export function convNaive(x: Nd, w: Nd, bias: Float32Array | null, spec: ConvSpec = {}): Nd {
  const sp = x.dims.length - 2;
  const [N, C, ...inS] = x.dims;
  const [M, Cg, ...K] = w.dims;
  const S = spec.strides ?? new Array<number>(sp).fill(1);
  const D = spec.dilations ?? new Array<number>(sp).fill(1);
  const P = spec.pads ?? new Array<number>(2 * sp).fill(0);
  const group = spec.group ?? 1;
  const outS = inS.map((n, i) => Math.floor((n + P[i] + P[i + sp] - ((K[i] - 1) * D[i] + 1)) / S[i]) + 1);
  const outDims = [N, M, ...outS];
  const out = new Float32Array(size(outDims));
  const xs = strides(x.dims);
  const ws = strides(w.dims);
  const mPerGroup = M / group;
  for (let o = 0; o < out.length; o++) {
    const [n, m, ...pos] = unravel(o, outDims);
    const g = Math.floor(m / mPerGroup);
    let acc = bias ? bias[m] : 0;
    for (let c = 0; c < Cg; c++) {
      for (let t = 0; t < size(K); t++) {
        const j = unravel(t, K);
        let xi = n * xs[0] + (g * Cg + c) * xs[1];
        let inside = true;
        for (let a = 0; a < sp; a++) {
          const p = pos[a] * S[a] - P[a] + j[a] * D[a];
          if (p < 0 || p >= inS[a]) inside = false;
          xi += p * xs[2 + a];
        }
        if (!inside) continue;
        let wi = m * ws[0] + c * ws[1];
        for (let a = 0; a < sp; a++) wi += j[a] * ws[2 + a];
        acc += x.data[xi] * w.data[wi];
      }
    }
    out[o] = acc;
  }
  void C;
  return { dims: outDims, data: out };
}

export interface PoolSpec {
  kernel: number[];
  strides?: number[];
  pads?: number[];
  dilations?: number[];
  ceil?: boolean;
  countIncludePad?: boolean;
}

/**
 * ONNX MaxPool / AveragePool with explicit pads. Output size `floor` (or `ceil` with ceil_mode, dropping a last
 * window that would start in the end padding) of `(in + pads - ((k - 1) * d + 1)) / s + 1`. Max ignores
 * padding; average divides by the window positions inside the input, or with count_include_pad by those
 * inside the padded extent.
 */
export function poolNaive(kind: 'max' | 'avg', x: Nd, spec: PoolSpec): Nd {
  const sp = x.dims.length - 2;
  const [N, C, ...inS] = x.dims;
  const K = spec.kernel;
  const S = spec.strides ?? new Array<number>(sp).fill(1);
  const D = spec.dilations ?? new Array<number>(sp).fill(1);
  const P = spec.pads ?? new Array<number>(2 * sp).fill(0);
  const outS = inS.map((n, i) => {
    const v = (n + P[i] + P[i + sp] - ((K[i] - 1) * D[i] + 1)) / S[i];
    let o = (spec.ceil ? Math.ceil(v) : Math.floor(v)) + 1;
    if (spec.ceil && (o - 1) * S[i] >= n + P[i]) o--;
    return o;
  });
  const outDims = [N, C, ...outS];
  const out = new Float32Array(size(outDims));
  const xs = strides(x.dims);
  for (let o = 0; o < out.length; o++) {
    const [n, c, ...pos] = unravel(o, outDims);
    let max = -Infinity;
    let sum = 0;
    let valid = 0;
    let padded = 0;
    for (let t = 0; t < size(K); t++) {
      const j = unravel(t, K);
      let xi = n * xs[0] + c * xs[1];
      let inside = true;
      let inPadded = true;
      for (let a = 0; a < sp; a++) {
        const p = pos[a] * S[a] - P[a] + j[a] * D[a];
        if (p < 0 || p >= inS[a]) inside = false;
        if (p < -P[a] || p >= inS[a] + P[a + sp]) inPadded = false;
        xi += p * xs[2 + a];
      }
      if (inPadded) padded++;
      if (!inside) continue;
      valid++;
      max = Math.max(max, x.data[xi]);
      sum += x.data[xi];
    }
    out[o] = kind === 'max' ? max : sum / (spec.countIncludePad ? padded : valid);
  }
  return { dims: outDims, data: out };
}

/** Softmax over one axis (opset >= 13). */
export function softmaxAxis(x: Nd, axis: number): Nd {
  const a = axis < 0 ? axis + x.dims.length : axis;
  const outer = size(x.dims.slice(0, a));
  const len = x.dims[a];
  const inner = size(x.dims.slice(a + 1));
  return { dims: x.dims, data: softmaxBlocks(x.data, outer, len, inner) };
}

/** Softmax of the input coerced to 2-D at `axis` (opset < 13): over all of axes axis..rank-1 jointly. */
export function softmaxCoerced(x: Nd, axis: number): Nd {
  const outer = size(x.dims.slice(0, axis));
  return { dims: x.dims, data: softmaxBlocks(x.data, outer, size(x.dims) / outer, 1) };
}

function softmaxBlocks(data: Float32Array, outer: number, len: number, inner: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let o = 0; o < outer; o++) {
    for (let r = 0; r < inner; r++) {
      const at = (k: number) => (o * len + k) * inner + r;
      let m = -Infinity;
      for (let k = 0; k < len; k++) m = Math.max(m, data[at(k)]);
      let s = 0;
      for (let k = 0; k < len; k++) s += Math.exp(data[at(k)] - m);
      for (let k = 0; k < len; k++) out[at(k)] = Math.exp(data[at(k)] - m) / s;
    }
  }
  return out;
}

/** Constant-mode Pad with per-axis begins and ends (negative crops). */
export function padNaive(x: Nd, begins: number[], ends: number[], value: number): Nd {
  const dims = x.dims.map((d, i) => d + begins[i] + ends[i]);
  const out = new Float32Array(size(dims)).fill(value);
  const xs = strides(x.dims);
  for (let o = 0; o < out.length; o++) {
    const idx = unravel(o, dims).map((v, i) => v - begins[i]);
    if (idx.every((v, i) => v >= 0 && v < x.dims[i])) out[o] = x.data[idx.reduce((acc, v, i) => acc + v * xs[i], 0)];
  }
  return { dims, data: out };
}

/** NumPy-broadcast elementwise op. */
export function broadcastNaive(a: Nd, b: Nd, f: (x: number, y: number) => number): Nd {
  const rank = Math.max(a.dims.length, b.dims.length);
  const pad = (d: readonly number[]) => [...new Array<number>(rank - d.length).fill(1), ...d];
  const ad = pad(a.dims);
  const bd = pad(b.dims);
  const dims = ad.map((d, i) => Math.max(d, bd[i]));
  const as = strides(ad);
  const bs = strides(bd);
  const out = new Float32Array(size(dims));
  for (let o = 0; o < out.length; o++) {
    const idx = unravel(o, dims);
    let ai = 0;
    let bi = 0;
    idx.forEach((v, i) => {
      if (ad[i] !== 1) ai += v * as[i];
      if (bd[i] !== 1) bi += v * bs[i];
    });
    out[o] = f(a.data[ai], b.data[bi]);
  }
  return { dims, data: out };
}

/** MatMul with NumPy semantics for a rank >= 1 A and a rank 1 or 2 B. */
export function matmulNaive(a: Nd, b: Nd): Nd {
  const A = a.dims.length === 1 ? { dims: [1, a.dims[0]], data: a.data } : a;
  const B = b.dims.length === 1 ? { dims: [b.dims[0], 1], data: b.data } : b;
  const K = A.dims[A.dims.length - 1];
  const N = B.dims[1];
  const rows = size(A.dims) / K;
  const out = new Float32Array(rows * N);
  for (let r = 0; r < rows; r++)
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += A.data[r * K + k] * B.data[k * N + n];
      out[r * N + n] = s;
    }
  let dims = [...A.dims.slice(0, -1), N];
  if (a.dims.length === 1) dims = dims.slice(1);
  if (b.dims.length === 1) dims = dims.slice(0, -1);
  return { dims, data: out };
}

/** Max |actual - expected| <= tol * max(1, max|expected|), with matching lengths. */
export function expectClose(actual: Float32Array, expected: ArrayLike<number>, tol = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  let at = -1;
  let scale = 1;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= worst)) {
      worst = Number.isNaN(d) ? Infinity : d;
      at = i;
    }
  }
  expect(worst, `worst error at ${at}: ${actual[at]} vs ${expected[at]}`).toBeLessThanOrEqual(tol * scale);
}

export interface ModelSpec {
  opset?: number;
  nodes: NodeInit[];
  /** Runtime inputs: name and dims (strings are symbolic dims). */
  inputs: readonly (readonly [string, readonly (number | string | null)[]])[];
  /** Outputs: name and declared dims (null: no shape). */
  outputs: readonly (readonly [string, readonly (number | string)[] | null])[];
  initializers?: TensorInit[];
  /** Initializer names also listed as graph inputs (allowed by ONNX, not runtime inputs). */
  initializersAsInputs?: boolean;
}

export function onnxModel(spec: ModelSpec): Uint8Array {
  const inits = spec.initializers ?? [];
  const inputs = spec.inputs.map(([name, dims]) => makeValueInfo(name, dims));
  if (spec.initializersAsInputs) for (const t of inits) inputs.push(makeValueInfo(t.name!, t.dims));
  return encodeModel(
    makeModel({
      opset: spec.opset ?? 13,
      graph: makeGraph({
        nodes: spec.nodes,
        inputs,
        outputs: spec.outputs.map(([name, dims]) => makeValueInfo(name, dims)),
        initializers: inits,
      }),
    }),
  );
}

/** The weights of `convHeadModel`, random from `seed`: conv `w` [4, 3, 3, 3], `b`, and the head's `fc_w` [5, 4], `fc_b`. */
export function convHeadWeights(seed: number): TensorInit[] {
  const rng = new Rng(seed);
  return [
    makeTensor('w', [4, 3, 3, 3], rng.fill(108, -1, 1)),
    makeTensor('b', [4], rng.fill(4, -1, 1)),
    makeTensor('fc_w', [5, 4], rng.fill(20, -1, 1)),
    makeTensor('fc_b', [5], rng.fill(5, -1, 1)),
  ];
}

/** A small valid model over `initializers` (`convHeadWeights`): Conv -> Relu -> GlobalAveragePool -> Flatten -> Gemm, input `x` [1, 3, 8, 8]. */
export function convHeadModel(initializers: TensorInit[]): Uint8Array {
  return onnxModel({
    nodes: [
      makeNode('Conv', ['x', 'w', 'b'], ['c'], { pads: attr.ints([1, 1, 1, 1]) }, 'conv'),
      makeNode('Relu', ['c'], ['r'], {}, 'relu'),
      makeNode('GlobalAveragePool', ['r'], ['g'], {}, 'gap'),
      makeNode('Flatten', ['g'], ['f'], {}, 'flatten'),
      makeNode('Gemm', ['f', 'fc_w', 'fc_b'], ['y'], { transB: attr.int(1) }, 'fc'),
    ],
    inputs: [['x', [1, 3, 8, 8]]],
    outputs: [['y', [1, 5]]],
    initializers,
  });
}

/** Loads a model and evaluates it on the CPU reference. */
export function runOnnx(bytes: Uint8Array, inputs: readonly Float32Array[], options?: LoadOnnxOptions): { model: LoadedModel; outputs: Float32Array[] } {
  const model = loadOnnx(bytes, options);
  return { model, outputs: runGraphReference(model.graph, inputs) };
}

/** The error `fn` throws (fails the test when it returns). */
export function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an exception');
}

export { Rng };

/**
 * ONNX's backend node test `name` (test/helpers/onnx-node-tests.ts) loaded and run on the CPU reference: a
 * `supported` test must give the test's outputs exactly, any other must be refused with a one-line typed error.
 */
export function expectNodeTestOnReference(name: string, supported: boolean): void {
  const outcome = runNodeTestOnReference(name, loadOnnx, runGraphReference);
  if (!supported) {
    expect(outcome.kind).toBe('refused');
    const e = outcome.kind === 'refused' ? outcome.error : null;
    expect(e instanceof UnsupportedOpError || e instanceof ModelFormatError, String(e)).toBe(true);
    expect((e as Error).message).not.toContain('\n');
    return;
  }
  if (outcome.kind === 'refused') throw outcome.error;
  const { outputs, expected } = outcome;
  expect(outputs.length).toBe(expected.length);
  expected.forEach((w, k) => expect(Array.from(outputs[k])).toEqual(Array.from(w)));
}
