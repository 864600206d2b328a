/**
 * ONNX MatMul / Gemm of computed operands (`ops/matmul-general.ts`: one `matMul` node) and PRelu (`ops/prelu.ts`),
 * through the loader and the CPU reference, against naive NumPy-semantics products.
 */
import { describe, expect, it } from 'vitest';
import { UnsupportedOpError } from '../../errors.ts';
import { Rng, expectClose, onnxModel, randomNd, runOnnx, thrown } from '../../../test/onnx-helpers.ts';
import type { Nd } from '../../../test/onnx-helpers.ts';
import { DataType, attr, makeNode, makeTensor } from './index.ts';
import { loadOnnx } from './loader.ts';

const rng = new Rng(16);

/** `A @ B` with NumPy broadcasting of the leading axes (both ranks >= 2). */
function batchedMatmul(a: Nd, b: Nd): Nd {
  const [M, K] = a.dims.slice(-2);
  const N = b.dims[b.dims.length - 1];
  const rank = Math.max(a.dims.length, b.dims.length);
  const pad = (d: readonly number[]) => [...new Array<number>(rank - d.length).fill(1), ...d];
  const ad = pad(a.dims);
  const bd = pad(b.dims);
  const batch = ad.slice(0, -2).map((d, i) => Math.max(d, bd[i]));
  const count = batch.reduce((x, y) => x * y, 1);
  const out = new Float32Array(count * M * N);
  const offset = (dims: number[], flat: number) => {
    let idx = 0;
    let rest = flat;
    let stride = 1;
    for (let i = batch.length - 1; i >= 0; i--) {
      const coord = rest % batch[i];
      rest = Math.floor(rest / batch[i]);
      if (dims[i] !== 1) idx += coord * stride;
      stride *= dims[i];
    }
    return idx;
  };
  for (let t = 0; t < count; t++) {
    const a0 = offset(ad, t) * M * K;
    const b0 = offset(bd, t) * K * N;
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += a.data[a0 + i * K + k] * b.data[b0 + k * N + j];
        out[(t * M + i) * N + j] = s;
      }
  }
  return { dims: [...batch, M, N], data: out };
}

const transpose = (x: Nd): Nd => {
  const [r, c] = x.dims;
  return { dims: [c, r], data: Float32Array.from({ length: r * c }, (_, i) => x.data[(i % r) * c + Math.floor(i / r)]) };
};

function twoInputs(node: ReturnType<typeof makeNode>, dims: readonly (readonly number[])[]): Uint8Array {
  const names = ['a', 'b', 'c'].slice(0, dims.length);
  return onnxModel({ opset: 13, nodes: [node], inputs: names.map((n, i) => [n, dims[i]] as [string, readonly number[]]), outputs: [['y', null]] });
}

describe('MatMul of two computed operands', () => {
  it('2-D, batched 3-D and 4-D, broadcast batches, vector operands: one matMul node', () => {
    const cases: [number[], number[]][] = [
      [[3, 4], [4, 5]],
      [[2, 3, 4], [2, 4, 5]],
      [[2, 3, 3, 4], [2, 3, 4, 2]],
      [[2, 1, 3, 4], [1, 5, 4, 2]],
      [[3, 4], [2, 4, 6]],
    ];
    for (const [ad, bd] of cases) {
      const a = randomNd(rng, ad);
      const b = randomNd(rng, bd);
      const bytes = twoInputs(makeNode('MatMul', ['a', 'b'], ['y']), [ad, bd]);
      const { model, outputs } = runOnnx(bytes, [a.data, b.data]);
      const want = batchedMatmul(a, b);
      expect(model.outputDims, `${ad} x ${bd}`).toEqual([want.dims]);
      expect(model.graph.nodes.filter((n) => n.op === 'matMul')).toHaveLength(1);
      expectClose(outputs[0], want.data);
    }
    // Vector operands drop their axis again.
    const v = randomNd(rng, [4]);
    const m = randomNd(rng, [4, 3]);
    const r = runOnnx(twoInputs(makeNode('MatMul', ['a', 'b'], ['y']), [[4], [4, 3]]), [v.data, m.data]);
    expect(r.model.outputDims).toEqual([[3]]);
    expectClose(r.outputs[0], batchedMatmul({ dims: [1, 4], data: v.data }, m).data);
  });

  it('refuses more than two batch axes and a constant A, naming the node', () => {
    const deep = twoInputs(makeNode('MatMul', ['a', 'b'], ['y'], {}, 'deep'), [[2, 2, 2, 3, 4], [4, 2]]);
    expect(thrown(() => loadOnnx(deep))).toBeInstanceOf(UnsupportedOpError);
    const constA = onnxModel({
      opset: 13,
      nodes: [makeNode('MatMul', ['k', 'b'], ['y'], {}, 'mm')],
      inputs: [['b', [4, 2]]],
      outputs: [['y', null]],
      initializers: [makeTensor('k', [3, 4], randomNd(rng, [3, 4]).data)],
    });
    expect(thrown(() => loadOnnx(constA)).message).toMatch(/mm.*constant/);
  });
});

describe('Gemm beyond a linear layer', () => {
  it('transA / transB on computed inputs, a computed or per-element bias, alpha and beta', () => {
    const [M, K, N] = [3, 5, 4];
    const a = randomNd(rng, [M, K]);
    const b = randomNd(rng, [K, N]);
    const c = randomNd(rng, [M, N]);
    const ab = batchedMatmul(a, b).data;
    const attrs = { transA: attr.int(1), transB: attr.int(1), alpha: attr.float(0.5), beta: attr.float(-2) };
    const bytes = twoInputs(makeNode('Gemm', ['a', 'b', 'c'], ['y'], attrs), [[K, M], [N, K], [M, N]]);
    const { model, outputs } = runOnnx(bytes, [transpose(a).data, transpose(b).data, c.data]);
    expect(model.outputDims).toEqual([[M, N]]);
    expectClose(outputs[0], ab.map((v, i) => Math.fround(0.5) * v - 2 * c.data[i]));
    // A computed column bias [M, 1].
    const col = randomNd(rng, [M, 1]);
    const r = runOnnx(twoInputs(makeNode('Gemm', ['a', 'b', 'c'], ['y']), [[M, K], [K, N], [M, 1]]), [a.data, b.data, col.data]);
    expectClose(r.outputs[0], ab.map((v, i) => v + col.data[Math.floor(i / N)]));
  });
});

describe('PRelu', () => {
  const x = randomNd(rng, [2, 3, 4, 5]);
  const prelu = (v: number, s: number) => (v < 0 ? v * s : v);

  it('a single slope (or equal ones) is the table leaky-relu (fusable); per channel and trailing-axis slopes are binary prelu', () => {
    const scalar = onnxModel({ opset: 13, nodes: [makeNode('PRelu', ['x', 's'], ['y'])], inputs: [['x', x.dims]], outputs: [['y', null]], initializers: [makeTensor('s', [1], [0.25])] });
    const r = runOnnx(scalar, [x.data]);
    expect(r.model.graph.nodes.map((n) => n.op)).toEqual(['activation']);
    expectClose(r.outputs[0], Array.from(x.data, (v) => prelu(v, 0.25)));
    const equal = onnxModel({ opset: 13, nodes: [makeNode('PRelu', ['x', 's'], ['y'])], inputs: [['x', x.dims]], outputs: [['y', null]], initializers: [makeTensor('s', [3, 1, 1], [0.5, 0.5, 0.5])] });
    expect(runOnnx(equal, [x.data]).model.graph.nodes.map((n) => n.op)).toEqual(['activation']);
    for (const dims of [[3, 1, 1], [5], [2, 3, 4, 5]]) {
      const s = randomNd(rng, dims);
      const model = onnxModel({ opset: 13, nodes: [makeNode('PRelu', ['x', 's'], ['y'])], inputs: [['x', x.dims]], outputs: [['y', null]], initializers: [makeTensor('s', dims, s.data)] });
      const out = runOnnx(model, [x.data]);
      const [, C, H, W] = x.dims;
      const slope = (i: number) => (dims.length === 1 ? s.data[i % W] : dims.length === 3 ? s.data[Math.floor(i / (H * W)) % C] : s.data[i]);
      expectClose(out.outputs[0], Array.from(x.data, (v, i) => prelu(v, slope(i))));
    }
  });

  it('a computed slope, and one that does not broadcast to X', () => {
    const s = randomNd(rng, [3, 1, 1]);
    const r = runOnnx(twoInputs(makeNode('PRelu', ['a', 'b'], ['y']), [x.dims, [3, 1, 1]]), [x.data, s.data]);
    expectClose(r.outputs[0], Array.from(x.data, (v, i) => prelu(v, s.data[Math.floor(i / 20) % 3])));
    expect(() => loadOnnx(twoInputs(makeNode('PRelu', ['a', 'b'], ['y']), [[1, 3], [2, 3]]))).toThrow(/does not broadcast/);
  });

  it('Neg and Abs of integer constants fold to integers (shape arithmetic)', () => {
    const model = onnxModel({
      opset: 13,
      nodes: [makeNode('Neg', ['k'], ['nk']), makeNode('Abs', ['nk'], ['ak']), makeNode('Reshape', ['x', 'ak'], ['y'])],
      inputs: [['x', [2, 6]]],
      outputs: [['y', null]],
      initializers: [makeTensor('k', [2], [-3, 4], DataType.INT64)],
    });
    expect(runOnnx(model, [new Float32Array(12)]).model.outputDims).toEqual([[3, 4]]);
  });
});
