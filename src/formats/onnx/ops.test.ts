/**
 * Each supported ONNX op and its attribute variants, as a tiny model: written with the ONNX writer, loaded,
 * evaluated with `runGraphReference` and compared with the spec-following implementations in
 * `test/onnx-helpers.ts` (or hand-computed values).
 */
import { describe, expect, it } from 'vitest';
import { ModelFormatError, UnsupportedOpError } from '../../errors.ts';
import type { Conv2dNode, Graph } from '../../graph/ir.ts';
import { optimizeGraph } from '../../graph/passes/index.ts';
import {
  Rng,
  broadcastNaive,
  convNaive,
  expectClose,
  matmulNaive,
  nd,
  onnxModel,
  padNaive,
  poolNaive,
  randomNd,
  runOnnx,
  size,
  softmaxAxis,
  softmaxCoerced,
  thrown,
} from '../../../test/onnx-helpers.ts';
import type { Nd } from '../../../test/onnx-helpers.ts';
import { DataType, attr, makeNode, makeTensor } from './index.ts';

const rng = new Rng(7);
const ops = (g: Graph): string[] => g.nodes.map((n) => n.op);
const init = (name: string, t: Nd) => makeTensor(name, t.dims, t.data);
const ints = (name: string, v: number[]) => makeTensor(name, [v.length], v, DataType.INT64);
const scalar = (name: string, v: number) => makeTensor(name, [], [v]);

/** One-node model: runtime input `x` of `xDims`, output `y`, optional initializers. */
function single(
  node: ReturnType<typeof makeNode>,
  xDims: readonly number[],
  initializers: ReturnType<typeof makeTensor>[] = [],
  opset = 13,
): Uint8Array {
  return onnxModel({ opset, nodes: [node], inputs: [['x', xDims]], outputs: [['y', null]], initializers });
}

describe('Conv', () => {
  const x = randomNd(rng, [1, 4, 7, 6]);

  it('3x3, pads 1, with bias', () => {
    const w = randomNd(rng, [5, 4, 3, 3]);
    const b = randomNd(rng, [5]);
    const bytes = single(makeNode('Conv', ['x', 'w', 'b'], ['y'], { pads: attr.ints([1, 1, 1, 1]), kernel_shape: attr.ints([3, 3]) }), x.dims, [init('w', w), init('b', b)]);
    const { model, outputs } = runOnnx(bytes, [x.data]);
    const want = convNaive(x, w, b.data, { pads: [1, 1, 1, 1] });
    expect(model.outputDims).toEqual([want.dims]);
    expectClose(outputs[0], want.data);
  });

  it('no bias, strides, dilations, rectangular kernel, asymmetric pads', () => {
    const w = randomNd(rng, [3, 4, 2, 3]);
    const spec = { strides: [2, 1], dilations: [2, 2], pads: [0, 1, 2, 1] };
    const node = makeNode('Conv', ['x', 'w'], ['y'], {
      strides: attr.ints(spec.strides),
      dilations: attr.ints(spec.dilations),
      pads: attr.ints(spec.pads),
    });
    const { model, outputs } = runOnnx(single(node, x.dims, [init('w', w)]), [x.data]);
    const want = convNaive(x, w, null, spec);
    expect(model.outputDims).toEqual([want.dims]);
    expectClose(outputs[0], want.data);
  });

  it('group = 2 and depthwise (group = C)', () => {
    for (const [group, M] of [[2, 6], [4, 4], [4, 8]] as const) {
      const w = randomNd(rng, [M, 4 / group, 3, 3]);
      const b = randomNd(rng, [M]);
      const node = makeNode('Conv', ['x', 'w', 'b'], ['y'], { group: attr.int(group), pads: attr.ints([1, 0, 1, 2]) });
      const { outputs } = runOnnx(single(node, x.dims, [init('w', w), init('b', b)]), [x.data]);
      expectClose(outputs[0], convNaive(x, w, b.data, { group, pads: [1, 0, 1, 2] }).data);
    }
  });

  it('auto_pad SAME_UPPER puts the odd padding at the end, SAME_LOWER at the start, VALID none', () => {
    // Input 6x7, kernel 3, stride 2: output ceil(6/2)=3 x ceil(7/2)=4; total pad rows (3-1)*2+3-6 = 1, cols (4-1)*2+3-7 = 2.
    const xi = randomNd(rng, [1, 2, 6, 7]);
    const w = randomNd(rng, [3, 2, 3, 3]);
    const cases = [
      ['SAME_UPPER', [0, 1, 1, 1]],
      ['SAME_LOWER', [1, 1, 0, 1]],
      ['VALID', [0, 0, 0, 0]],
    ] as const;
    const results: Float32Array[] = [];
    for (const [autoPad, pads] of cases) {
      const node = makeNode('Conv', ['x', 'w'], ['y'], { auto_pad: attr.string(autoPad), strides: attr.ints([2, 2]) });
      const { model, outputs } = runOnnx(single(node, xi.dims, [init('w', w)]), [xi.data]);
      const want = convNaive(xi, w, null, { strides: [2, 2], pads: [...pads] });
      expect(model.outputDims, autoPad).toEqual([want.dims]);
      expectClose(outputs[0], want.data);
      results.push(outputs[0]);
    }
    expect(Array.from(results[0])).not.toEqual(Array.from(results[1]));
  });

  it('1-D convolution on a rank-3 input', () => {
    const x1 = randomNd(rng, [2, 3, 11]);
    const w = randomNd(rng, [4, 3, 3]);
    const b = randomNd(rng, [4]);
    const node = makeNode('Conv', ['x', 'w', 'b'], ['y'], { strides: attr.ints([2]), pads: attr.ints([1, 2]), dilations: attr.ints([2]) });
    const { model, outputs } = runOnnx(single(node, x1.dims, [init('w', w), init('b', b)]), [x1.data]);
    const want = convNaive(x1, w, b.data, { strides: [2], pads: [1, 2], dilations: [2] });
    expect(model.inputDims).toEqual([[2, 3, 11]]);
    expect(model.outputDims).toEqual([want.dims]);
    expectClose(outputs[0], want.data);
  });

  it('rejects a kernel_shape that contradicts the weight, and weights computed at run time', () => {
    const w = randomNd(rng, [2, 4, 3, 3]);
    const bad = makeNode('Conv', ['x', 'w'], ['y'], { kernel_shape: attr.ints([5, 5]) });
    expect(thrown(() => runOnnx(single(bad, x.dims, [init('w', w)]), [x.data]))).toBeInstanceOf(ModelFormatError);
    const runtimeW = onnxModel({
      nodes: [makeNode('Conv', ['x', 'w'], ['y'])],
      inputs: [['x', x.dims], ['w', w.dims]],
      outputs: [['y', null]],
    });
    const e = thrown(() => runOnnx(runtimeW, [x.data, w.data]));
    expect(e).toBeInstanceOf(UnsupportedOpError);
    expect(e.message).toMatch(/weight W 'w' must be a constant/);
  });
});

describe('BatchNormalization, Relu, Clip and their fusion', () => {
  const x = randomNd(rng, [2, 3, 4, 5]);
  const bn = {
    scale: randomNd(rng, [3], 0.5, 1.5),
    B: randomNd(rng, [3]),
    mean: randomNd(rng, [3]),
    var: randomNd(rng, [3], 0.5, 1.5),
  };
  const bnInits = Object.entries(bn).map(([k, v]) => init(k, v));
  const bnExpected = (input: Nd, eps: number): Float32Array => {
    const out = new Float32Array(input.data.length);
    const plane = input.dims[2] * (input.dims[3] ?? 1);
    for (let i = 0; i < out.length; i++) {
      const c = Math.floor(i / plane) % 3;
      out[i] = ((input.data[i] - bn.mean.data[c]) / Math.sqrt(bn.var.data[c] + eps)) * bn.scale.data[c] + bn.B.data[c];
    }
    return out;
  };

  it('BatchNormalization with epsilon, opsets 7 (spatial), 9 and 15; rank 2 and 3 inputs', () => {
    for (const opset of [7, 9, 15]) {
      const attrs = opset < 9 ? { epsilon: attr.float(0.25), spatial: attr.int(1) } : { epsilon: attr.float(0.25) };
      const node = makeNode('BatchNormalization', ['x', 'scale', 'B', 'mean', 'var'], ['y'], attrs);
      const { outputs } = runOnnx(single(node, x.dims, bnInits, opset), [x.data]);
      expectClose(outputs[0], bnExpected(x, 0.25));
    }
    for (const dims of [[4, 3], [2, 3, 5]]) {
      const xi = randomNd(rng, dims);
      const node = makeNode('BatchNormalization', ['x', 'scale', 'B', 'mean', 'var'], ['y']);
      const { outputs } = runOnnx(single(node, dims, bnInits), [xi.data]);
      expectClose(outputs[0], bnExpected({ dims: [...dims, 1, 1].slice(0, 4), data: xi.data }, 1e-5));
    }
  });

  it('rejects training mode and spatial=0', () => {
    const train = makeNode('BatchNormalization', ['x', 'scale', 'B', 'mean', 'var'], ['y'], { training_mode: attr.int(1) });
    expect(thrown(() => runOnnx(single(train, x.dims, bnInits, 15), [x.data]))).toBeInstanceOf(UnsupportedOpError);
    const spatial0 = makeNode('BatchNormalization', ['x', 'scale', 'B', 'mean', 'var'], ['y'], { spatial: attr.int(0) });
    expect(thrown(() => runOnnx(single(spatial0, x.dims, bnInits, 8), [x.data]))).toBeInstanceOf(UnsupportedOpError);
  });

  it('Relu', () => {
    const { outputs } = runOnnx(single(makeNode('Relu', ['x'], ['y']), x.dims), [x.data]);
    expectClose(outputs[0], x.data.map((v) => Math.max(0, v)));
  });

  it('Clip: opset 10 attributes, opset 11+ inputs (both, max only, none), min > max', () => {
    const clip = (lo: number, hi: number) => x.data.map((v) => Math.min(Math.max(v, lo), hi));
    const attrs = runOnnx(single(makeNode('Clip', ['x'], ['y'], { min: attr.float(-0.25), max: attr.float(0.5) }), x.dims, [], 10), [x.data]);
    expectClose(attrs.outputs[0], clip(-0.25, 0.5));
    const attrMinOnly = runOnnx(single(makeNode('Clip', ['x'], ['y'], { min: attr.float(0.1) }), x.dims, [], 7), [x.data]);
    expectClose(attrMinOnly.outputs[0], clip(0.1, Infinity));

    const both = runOnnx(single(makeNode('Clip', ['x', 'lo', 'hi'], ['y']), x.dims, [scalar('lo', -0.3), scalar('hi', 0.2)], 11), [x.data]);
    expectClose(both.outputs[0], clip(-0.3, 0.2));
    const maxOnly = runOnnx(single(makeNode('Clip', ['x', '', 'hi'], ['y']), x.dims, [scalar('hi', 0.2)], 13), [x.data]);
    expectClose(maxOnly.outputs[0], clip(-Infinity, 0.2));
    const none = runOnnx(single(makeNode('Clip', ['x'], ['y']), x.dims), [x.data]);
    expectClose(none.outputs[0], x.data);
    // Nothing to compute: only the copy that keeps the input's and the output's names apart.
    expect(none.model.graph.nodes.map((n) => n.op === 'activation' && n.attrs.activation.kind)).toEqual(['none']);
    // ONNX: when min > max every value becomes max.
    const crossed = runOnnx(single(makeNode('Clip', ['x', 'lo', 'hi'], ['y']), x.dims, [scalar('lo', 0.5), scalar('hi', -0.5)], 13), [x.data]);
    expectClose(crossed.outputs[0], x.data.map(() => -0.5));
  });

  it('Clip(0, 6) is ReLU6; conv -> BN -> Clip fuses into one conv, conv -> BN -> Relu likewise', () => {
    const w = randomNd(rng, [3, 3, 3, 3]);
    for (const act of ['Clip', 'Relu'] as const) {
      const actNode = act === 'Clip' ? makeNode('Clip', ['z', 'zero', 'six'], ['y']) : makeNode('Relu', ['z'], ['y']);
      const bytes = onnxModel({
        nodes: [makeNode('Conv', ['x', 'w'], ['c'], { pads: attr.ints([1, 1, 1, 1]) }), makeNode('BatchNormalization', ['c', 'scale', 'B', 'mean', 'var'], ['z']), actNode],
        inputs: [['x', x.dims]],
        outputs: [['y', null]],
        initializers: [init('w', w), ...bnInits, scalar('zero', 0), scalar('six', 6)],
      });
      const { model, outputs } = runOnnx(bytes, [x.data]);
      expect(ops(model.graph)).toEqual(['conv2d', 'batchNorm', 'activation']);
      const fused = optimizeGraph(model.graph);
      expect(ops(fused)).toEqual(['conv2d']);
      expect((fused.nodes[0] as Conv2dNode).attrs.activation.kind).toBe(act === 'Clip' ? 'relu6' : 'relu');
      const conv = convNaive(x, w, null, { pads: [1, 1, 1, 1] });
      const z = bnExpected(conv, 1e-5);
      expectClose(outputs[0], z.map((v) => (act === 'Clip' ? Math.min(Math.max(v, 0), 6) : Math.max(v, 0))));
    }
  });
});

describe('Add (and Sub / Mul / Div with constants)', () => {
  it('two runtime tensors of the same shape; conv + skip -> relu fuses into the conv epilogue', () => {
    const x = randomNd(rng, [1, 4, 5, 5]);
    const w = randomNd(rng, [4, 4, 1, 1]);
    const bytes = onnxModel({
      nodes: [makeNode('Conv', ['x', 'w'], ['c']), makeNode('Add', ['c', 'x'], ['s']), makeNode('Relu', ['s'], ['y'])],
      inputs: [['x', x.dims]],
      outputs: [['y', null]],
      initializers: [init('w', w)],
    });
    const { model, outputs } = runOnnx(bytes, [x.data]);
    const fused = optimizeGraph(model.graph);
    expect(ops(fused)).toEqual(['conv2d']);
    expect(fused.nodes[0].inputs).toHaveLength(2);
    const want = broadcastNaive(convNaive(x, w, null), x, (a, b) => Math.max(0, a + b));
    expectClose(outputs[0], want.data);
  });

  it('two runtime tensors with NumPy broadcasting, including lower-rank operands', () => {
    const cases: [number[], number[]][] = [
      [[2, 3, 4, 5], [3, 1, 1]],
      [[2, 3, 4, 5], [5]],
      [[1, 3, 1, 5], [2, 1, 4, 1]],
      [[2, 6], [6]],
      [[2, 3, 4], [2, 1, 4]],
    ];
    for (const [ad, bd] of cases) {
      const a = randomNd(rng, ad);
      const b = randomNd(rng, bd);
      const bytes = onnxModel({ nodes: [makeNode('Add', ['a', 'b'], ['y'])], inputs: [['a', ad], ['b', bd]], outputs: [['y', null]] });
      const { model, outputs } = runOnnx(bytes, [a.data, b.data]);
      const want = broadcastNaive(a, b, (p, q) => p + q);
      expect(model.outputDims, `${ad} + ${bd}`).toEqual([want.dims]);
      expectClose(outputs[0], want.data);
    }
  });

  it("a per-channel constant folds into the producing conv's bias", () => {
    const x = randomNd(rng, [1, 3, 5, 5]);
    const w = randomNd(rng, [4, 3, 3, 3]);
    const b = randomNd(rng, [4]);
    const c = randomNd(rng, [4, 1, 1]);
    const bytes = onnxModel({
      nodes: [makeNode('Conv', ['x', 'w', 'b'], ['t']), makeNode('Add', ['t', 'c'], ['y'])],
      inputs: [['x', x.dims]],
      outputs: [['y', null]],
      initializers: [init('w', w), init('b', b), init('c', c)],
    });
    const { model, outputs } = runOnnx(bytes, [x.data]);
    expect(ops(model.graph)).toEqual(['conv2d']);
    expectClose(outputs[0], broadcastNaive(convNaive(x, w, b.data), c, (p, q) => p + q).data);
  });

  it('per-channel and scalar constants elsewhere become a depthwise 1x1 (Add, Sub both ways, Mul, Div)', () => {
    const x = randomNd(rng, [2, 3, 4, 4]);
    const c = randomNd(rng, [1, 3, 1, 1], 0.5, 2);
    const s = nd([], [0.75]);
    const cases: [string, string[], Nd, (p: number, q: number) => number, boolean][] = [
      ['Add', ['r', 'c'], c, (p, q) => p + q, false],
      ['Sub', ['r', 'c'], c, (p, q) => p - q, false],
      ['Sub', ['c', 'r'], c, (p, q) => q - p, false],
      ['Mul', ['c', 'r'], c, (p, q) => p * q, false],
      ['Div', ['r', 'c'], c, (p, q) => p / q, false],
      ['Add', ['r', 'c'], s, (p, q) => p + q, true],
      ['Mul', ['r', 'c'], s, (p, q) => p * q, true],
    ];
    for (const [op, inputs, constant, f] of cases) {
      const bytes = onnxModel({
        nodes: [makeNode('Relu', ['x'], ['r']), makeNode(op, inputs, ['y'])],
        inputs: [['x', x.dims]],
        outputs: [['y', null]],
        initializers: [init('c', constant)],
      });
      const { model, outputs } = runOnnx(bytes, [x.data]);
      expect(ops(model.graph), op).toEqual(['activation', 'conv2d']);
      const relu = nd(x.dims, x.data.map((v) => Math.max(0, v)));
      expectClose(outputs[0], broadcastNaive(relu, constant, f).data);
    }
  });

  it('a per-feature constant after Gemm folds into its bias; two constants fold', () => {
    const x = randomNd(rng, [2, 5]);
    const w = randomNd(rng, [5, 3]);
    const c = randomNd(rng, [3]);
    const bytes = onnxModel({
      nodes: [makeNode('Constant', [], ['k'], { value: attr.tensor(makeTensor('', [3], [1, 2, 3])) }), makeNode('Mul', ['c', 'k'], ['ck']), makeNode('MatMul', ['x', 'w'], ['m']), makeNode('Add', ['m', 'ck'], ['y'])],
      inputs: [['x', x.dims]],
      outputs: [['y', null]],
      initializers: [init('w', w), init('c', c)],
    });
    const { model, outputs } = runOnnx(bytes, [x.data]);
    expect(ops(model.graph)).toEqual(['linear']);
    const ck = nd([3], c.data.map((v, i) => v * (i + 1)));
    expectClose(outputs[0], broadcastNaive(matmulNaive(x, w), ck, (p, q) => p + q).data);
  });

  it('constants that are not per-channel and runtime Mul become binary nodes (binary.test.ts tests them)', () => {
    const x = randomNd(rng, [1, 2, 3, 3]);
    const spatial = onnxModel({ nodes: [makeNode('Add', ['x', 'c'], ['y'])], inputs: [['x', x.dims]], outputs: [['y', null]], initializers: [init('c', randomNd(rng, [3, 3]))] });
    expect(ops(runOnnx(spatial, [x.data]).model.graph)).toEqual(['binary']);
    const mul = onnxModel({ nodes: [makeNode('Mul', ['x', 'x'], ['y'])], inputs: [['x', x.dims]], outputs: [['y', null]] });
    expectClose(runOnnx(mul, [x.data]).outputs[0], x.data.map((v) => v * v));
  });
});

describe('pooling', () => {
  const x = randomNd(rng, [2, 3, 7, 8]);

  it('GlobalAveragePool and GlobalMaxPool on rank 4 and rank 3', () => {
    for (const dims of [x.dims, [2, 3, 9]]) {
      const xi = dims === x.dims ? x : randomNd(rng, dims);
      const plane = size(dims.slice(2));
      for (const op of ['GlobalAveragePool', 'GlobalMaxPool']) {
        const { model, outputs } = runOnnx(single(makeNode(op, ['x'], ['y']), dims), [xi.data]);
        expect(model.outputDims).toEqual([[2, 3, ...dims.slice(2).map(() => 1)]]);
        const want = Array.from({ length: 6 }, (_, i) => {
          const v = Array.from(xi.data.slice(i * plane, (i + 1) * plane));
          return op === 'GlobalMaxPool' ? Math.max(...v) : v.reduce((a, b) => a + b, 0) / plane;
        });
        expectClose(outputs[0], want);
      }
    }
  });

  it('AveragePool: pads with count_include_pad 0 and 1, strides (default 1), ceil_mode', () => {
    const cases = [
      { kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], countIncludePad: false },
      { kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], countIncludePad: true },
      { kernel: [2, 3], pads: [0, 1, 1, 0], countIncludePad: false },
      { kernel: [3, 2], strides: [2, 3], ceil: true, countIncludePad: false },
      { kernel: [2, 2], strides: [2, 2], pads: [1, 0, 0, 1], ceil: true, countIncludePad: false },
    ];
    for (const c of cases) {
      const attrs = {
        kernel_shape: attr.ints(c.kernel),
        ...(c.strides ? { strides: attr.ints(c.strides) } : {}),
        ...(c.pads ? { pads: attr.ints(c.pads) } : {}),
        ...(c.ceil ? { ceil_mode: attr.int(1) } : {}),
        count_include_pad: attr.int(c.countIncludePad ? 1 : 0),
      };
      const { model, outputs } = runOnnx(single(makeNode('AveragePool', ['x'], ['y'], attrs), x.dims), [x.data]);
      const want = poolNaive('avg', x, c);
      expect(model.outputDims, JSON.stringify(c)).toEqual([want.dims]);
      expectClose(outputs[0], want.data);
    }
  });

  it('AveragePool count_include_pad defaults to 0; auto_pad SAME_UPPER', () => {
    const node = makeNode('AveragePool', ['x'], ['y'], { kernel_shape: attr.ints([3, 3]), pads: attr.ints([1, 1, 1, 1]) });
    expectClose(runOnnx(single(node, x.dims), [x.data]).outputs[0], poolNaive('avg', x, { kernel: [3, 3], pads: [1, 1, 1, 1] }).data);
    // 7x8, kernel 2, stride 2: output 4x4, pad rows (4-1)*2+2-7 = 1 at the end, cols 0.
    const same = makeNode('AveragePool', ['x'], ['y'], { kernel_shape: attr.ints([2, 2]), strides: attr.ints([2, 2]), auto_pad: attr.string('SAME_UPPER') });
    const { model, outputs } = runOnnx(single(same, x.dims), [x.data]);
    const want = poolNaive('avg', x, { kernel: [2, 2], strides: [2, 2], pads: [0, 0, 1, 0] });
    expect(model.outputDims).toEqual([[2, 3, 4, 4]]);
    expectClose(outputs[0], want.data);
  });

  it('MaxPool: pads, strides, dilations, ceil_mode, SAME_LOWER, 1-D', () => {
    const cases = [
      { kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] },
      { kernel: [2, 2], strides: [1, 2], dilations: [2, 3] },
      { kernel: [3, 3], strides: [2, 2], ceil: true },
      { kernel: [2, 3], strides: [3, 2], pads: [1, 2, 0, 1], dilations: [1, 2], ceil: true },
    ];
    for (const c of cases) {
      const attrs = {
        kernel_shape: attr.ints(c.kernel),
        strides: attr.ints(c.strides),
        ...(c.pads ? { pads: attr.ints(c.pads) } : {}),
        ...(c.dilations ? { dilations: attr.ints(c.dilations) } : {}),
        ...(c.ceil ? { ceil_mode: attr.int(1) } : {}),
      };
      const { model, outputs } = runOnnx(single(makeNode('MaxPool', ['x'], ['y'], attrs), x.dims), [x.data]);
      const want = poolNaive('max', x, c);
      expect(model.outputDims, JSON.stringify(c)).toEqual([want.dims]);
      expectClose(outputs[0], want.data);
    }
    // SAME_LOWER, 3x3 stride 2 on 7x8: output 4x4; rows pad (4-1)*2+3-7 = 2 -> 1/1, cols (4-1)*2+3-8 = 1 -> 1 at the start.
    const lower = makeNode('MaxPool', ['x'], ['y'], { kernel_shape: attr.ints([3, 3]), strides: attr.ints([2, 2]), auto_pad: attr.string('SAME_LOWER') });
    expectClose(runOnnx(single(lower, x.dims), [x.data]).outputs[0], poolNaive('max', x, { kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 0] }).data);
    const x1 = randomNd(rng, [1, 2, 10]);
    const oneD = makeNode('MaxPool', ['x'], ['y'], { kernel_shape: attr.ints([3]), strides: attr.ints([2]), pads: attr.ints([1, 1]) });
    const r1 = runOnnx(single(oneD, x1.dims), [x1.data]);
    expect(r1.model.outputDims).toEqual([[1, 2, 5]]);
    expectClose(r1.outputs[0], poolNaive('max', x1, { kernel: [3], strides: [2], pads: [1, 1] }).data);
  });

  it('MaxPool Indices output: fine unused, unsupported when used', () => {
    const unused = makeNode('MaxPool', ['x'], ['y', 'idx'], { kernel_shape: attr.ints([2, 2]) });
    expect(() => runOnnx(single(unused, x.dims), [x.data])).not.toThrow();
    const used = onnxModel({
      nodes: [makeNode('MaxPool', ['x'], ['y', 'idx'], { kernel_shape: attr.ints([2, 2]) })],
      inputs: [['x', x.dims]],
      outputs: [['y', null], ['idx', null]],
    });
    expect(thrown(() => runOnnx(used, [x.data])).message).toMatch(/Indices/);
  });
});

describe('Gemm, MatMul, Flatten, Reshape', () => {
  it('Gemm: transA/transB, alpha/beta, bias C of shape [N], [1, N], scalar, [M, N] with M = 1, none', () => {
    const M = 3;
    const K = 4;
    const N = 5;
    const a = randomNd(rng, [M, K]);
    const bKN = randomNd(rng, [K, N]);
    const bNK = nd([N, K], Array.from({ length: N * K }, (_, i) => bKN.data[(i % K) * N + Math.floor(i / K)]));
    const ab = matmulNaive(a, bKN);
    const cN = randomNd(rng, [N]);
    const cases: { transB: number; b: Nd; c?: Nd; alpha?: number; beta?: number; opset?: number }[] = [
      { transB: 0, b: bKN, c: cN, alpha: 0.5, beta: 2 },
      { transB: 1, b: bNK, c: nd([1, N], cN.data) },
      { transB: 1, b: bNK, c: nd([], [0.3]), beta: -1 },
      { transB: 0, b: bKN, opset: 11 },
      { transB: 0, b: bKN, c: cN, beta: 0 },
    ];
    for (const c of cases) {
      const attrs = {
        transB: attr.int(c.transB),
        ...(c.alpha !== undefined ? { alpha: attr.float(c.alpha) } : {}),
        ...(c.beta !== undefined ? { beta: attr.float(c.beta) } : {}),
      };
      const inits = [init('b', c.b), ...(c.c ? [init('c', c.c)] : [])];
      const node = makeNode('Gemm', c.c ? ['x', 'b', 'c'] : ['x', 'b'], ['y'], attrs);
      const { model, outputs } = runOnnx(single(node, a.dims, inits, c.opset ?? 13), [a.data]);
      expect(model.outputDims).toEqual([[M, N]]);
      const alpha = c.alpha ?? 1;
      const beta = c.beta ?? 1;
      const want = ab.data.map((v, i) => alpha * v + (c.c ? beta * c.c.data[c.c.data.length === 1 ? 0 : i % N] : 0));
      expectClose(outputs[0], want);
    }
    // transA on a [K, 1] column, and C [1, N] with M = 1.
    const col = randomNd(rng, [K, 1]);
    const r = runOnnx(single(makeNode('Gemm', ['x', 'b', 'c'], ['y'], { transA: attr.int(1) }), col.dims, [init('b', bKN), init('c', nd([1, N], cN.data))]), [col.data]);
    expectClose(r.outputs[0], matmulNaive(nd([1, K], col.data), bKN).data.map((v, i) => v + cN.data[i]));
    // A bias that differs between rows is not a linear layer's: the general product (matmul-general.ts) takes it.
    const cMN = randomNd(rng, [M, N]);
    const rows = single(makeNode('Gemm', ['x', 'b', 'c'], ['y']), a.dims, [init('b', bKN), init('c', cMN)]);
    expectClose(runOnnx(rows, [a.data]).outputs[0], ab.data.map((v, i) => v + cMN.data[i]));
  });

  it('MatMul: [M, K] x [K, N], rank-3 and rank-4 A, vector B, vector A', () => {
    const cases: [number[], number[]][] = [
      [[3, 4], [4, 6]],
      [[2, 3, 4], [4, 5]],
      [[1, 2, 3, 4], [4, 2]],
      [[2, 5], [5]],
      [[5], [5, 3]],
      [[2, 3, 4], [1, 4, 5]],
    ];
    for (const [ad, bd] of cases) {
      const a = randomNd(rng, ad);
      const b = randomNd(rng, bd);
      const { model, outputs } = runOnnx(single(makeNode('MatMul', ['x', 'b'], ['y']), ad, [init('b', b)]), [a.data]);
      const want = matmulNaive(a, bd.length === 3 ? nd(bd.slice(1), b.data) : b);
      expect(model.outputDims, `${ad} x ${bd}`).toEqual([want.dims]);
      expectClose(outputs[0], want.data);
    }
  });

  it("MatMul: a B of higher rank (leading 1s) gives the result B's rank, as NumPy broadcasting does", () => {
    // Found by a differential run against ONNX Runtime: the result used to keep A's rank.
    const cases: [number[], number[], number[]][] = [
      [[2, 3], [1, 3, 4], [1, 2, 4]],
      [[2, 3], [1, 1, 3, 4], [1, 1, 2, 4]],
      [[2, 2, 3], [1, 1, 3, 4], [1, 2, 2, 4]],
      [[3], [1, 3, 4], [1, 4]],
    ];
    for (const [ad, bd, dims] of cases) {
      const a = randomNd(rng, ad);
      const b = randomNd(rng, bd);
      const { model, outputs } = runOnnx(single(makeNode('MatMul', ['x', 'b'], ['y']), ad, [init('b', b)]), [a.data]);
      expect(model.outputDims, `${ad} x ${bd}`).toEqual([dims]);
      expectClose(outputs[0], matmulNaive(a, nd(bd.slice(-2), b.data)).data);
    }
    // Downstream ops see the right axes: a softmax over axis 1 of [1, 2, 4] normalizes over the 2 rows.
    const a = randomNd(rng, [2, 3]);
    const b = randomNd(rng, [1, 3, 4]);
    const graph = onnxModel({
      opset: 13,
      nodes: [makeNode('MatMul', ['x', 'b'], ['m']), makeNode('Softmax', ['m'], ['y'], { axis: attr.int(1) })],
      inputs: [['x', [2, 3]]],
      outputs: [['y', null]],
      initializers: [init('b', b)],
    });
    const { outputs } = runOnnx(graph, [a.data]);
    const m = matmulNaive(a, nd([3, 4], b.data)).data;
    for (let col = 0; col < 4; col++) {
      const e0 = Math.exp(m[col]);
      const e1 = Math.exp(m[4 + col]);
      expect(outputs[0][col]).toBeCloseTo(e0 / (e0 + e1), 5);
      expect(outputs[0][4 + col]).toBeCloseTo(e1 / (e0 + e1), 5);
    }
  });

  it('Flatten with axis 0, 1, 2, 3 and -1 keeps element order', () => {
    const x = randomNd(rng, [2, 3, 4, 5]);
    const want: Record<number, number[]> = { 0: [1, 120], 1: [2, 60], 2: [6, 20], 3: [24, 5], [-1]: [24, 5] };
    for (const [axis, dims] of Object.entries(want)) {
      const { model, outputs } = runOnnx(single(makeNode('Flatten', ['x'], ['y'], { axis: attr.int(Number(axis)) }), x.dims), [x.data]);
      expect(model.outputDims, `axis ${axis}`).toEqual([dims]);
      expectClose(outputs[0], x.data, 0);
    }
  });

  it('Reshape: 0 copies a dim, -1 is inferred; allowzero; shape from a Constant node', () => {
    const x = randomNd(rng, [2, 3, 4, 5]);
    const cases: [number[], number[], number?][] = [
      [[0, -1], [2, 60]],
      [[0, 0, -1], [2, 3, 20]],
      [[-1, 4, 5], [6, 4, 5]],
      [[2, 0, 2, 10], [2, 3, 2, 10]],
      [[120], [120]],
      [[4, 3, 5, 2], [4, 3, 5, 2], 1],
    ];
    for (const [shape, dims, allowZero] of cases) {
      const attrs = allowZero !== undefined ? { allowzero: attr.int(allowZero) } : {};
      const bytes = single(makeNode('Reshape', ['x', 's'], ['y'], attrs), x.dims, [ints('s', shape)], 14);
      const { model, outputs } = runOnnx(bytes, [x.data]);
      expect(model.outputDims, `${shape}`).toEqual([dims]);
      expectClose(outputs[0], x.data, 0);
    }
    const fromConstant = onnxModel({
      nodes: [makeNode('Constant', [], ['s'], { value: attr.tensor(makeTensor('', [2], [-1, 10], DataType.INT64)) }), makeNode('Reshape', ['x', 's'], ['y'])],
      inputs: [['x', x.dims]],
      outputs: [['y', null]],
    });
    expect(runOnnx(fromConstant, [x.data]).model.outputDims).toEqual([[12, 10]]);
    const zero = single(makeNode('Reshape', ['x', 's'], ['y'], { allowzero: attr.int(1) }), x.dims, [ints('s', [0, -1])], 14);
    expect(thrown(() => runOnnx(zero, [x.data]))).toBeInstanceOf(UnsupportedOpError);
    const twoInferred = single(makeNode('Reshape', ['x', 's'], ['y']), x.dims, [ints('s', [-1, -1])]);
    expect(thrown(() => runOnnx(twoInferred, [x.data]))).toBeInstanceOf(ModelFormatError);
    const wrongCount = single(makeNode('Reshape', ['x', 's'], ['y']), x.dims, [ints('s', [7, -1])]);
    expect(thrown(() => runOnnx(wrongCount, [x.data]))).toBeInstanceOf(ModelFormatError);
  });
});

describe('Softmax', () => {
  it('opset < 13 coerces to 2-D at axis (default 1); opset 13 normalizes one axis (default -1)', () => {
    const x = randomNd(rng, [2, 3, 4, 5], -3, 3);
    for (const [opset, axis, want] of [
      [11, undefined, softmaxCoerced(x, 1)],
      [11, 2, softmaxCoerced(x, 2)],
      [11, 0, softmaxCoerced(x, 0)],
      [11, -1, softmaxCoerced(x, 3)],
      [13, undefined, softmaxAxis(x, -1)],
      [13, 1, softmaxAxis(x, 1)],
      [13, 2, softmaxAxis(x, 2)],
      [13, 0, softmaxAxis(x, 0)],
    ] as const) {
      const attrs = axis !== undefined ? { axis: attr.int(axis) } : {};
      const { outputs } = runOnnx(single(makeNode('Softmax', ['x'], ['y'], attrs), x.dims, [], opset), [x.data]);
      expectClose(outputs[0], want.data);
    }
  });

  it('over the features of a rank-2 tensor (both opsets) it is the plain softmax node', () => {
    const x = randomNd(rng, [3, 10], -5, 5);
    for (const opset of [9, 13]) {
      const { model, outputs } = runOnnx(single(makeNode('Softmax', ['x'], ['y'], { axis: attr.int(1) }), x.dims, [], opset), [x.data]);
      expect(model.graph.nodes.map((n) => [n.op, n.attrs])).toEqual([['softmax', {}]]);
      expect(model.outputsProbabilities).toBe(true);
      expectClose(outputs[0], softmaxAxis(x, 1).data);
    }
  });
});

describe('Identity, Dropout, Constant', () => {
  const x = randomNd(rng, [1, 2, 3, 3]);

  it('Identity and Dropout pass values through (opset 10 ratio attribute, opset 13 inputs, unused mask)', () => {
    const identity = runOnnx(single(makeNode('Identity', ['x'], ['y']), x.dims), [x.data]);
    expectClose(identity.outputs[0], x.data, 0);
    const d10 = onnxModel({
      opset: 10,
      nodes: [makeNode('Dropout', ['x'], ['d', 'mask'], { ratio: attr.float(0.3) }), makeNode('Relu', ['d'], ['y'])],
      inputs: [['x', x.dims]],
      outputs: [['y', null]],
    });
    expectClose(runOnnx(d10, [x.data]).outputs[0], x.data.map((v) => Math.max(0, v)));
    const d13 = single(makeNode('Dropout', ['x', 'ratio', 'train'], ['y']), x.dims, [scalar('ratio', 0.5), makeTensor('train', [], [0], DataType.BOOL)], 13);
    expectClose(runOnnx(d13, [x.data]).outputs[0], x.data, 0);
  });

  it('Dropout in training mode or with a used mask is unsupported', () => {
    const train = single(makeNode('Dropout', ['x', '', 'train'], ['y']), x.dims, [makeTensor('train', [], [1], DataType.BOOL)], 13);
    expect(thrown(() => runOnnx(train, [x.data]))).toBeInstanceOf(UnsupportedOpError);
    const mask = onnxModel({ nodes: [makeNode('Dropout', ['x'], ['y', 'm'])], inputs: [['x', x.dims]], outputs: [['y', null], ['m', null]] });
    expect(thrown(() => runOnnx(mask, [x.data])).message).toMatch(/dropout mask/);
  });

  it('Constant value_float / value_floats / value_ints feed other ops', () => {
    const bytes = onnxModel({
      opset: 13,
      nodes: [
        makeNode('Constant', [], ['two'], { value_float: attr.float(2) }),
        makeNode('Constant', [], ['c'], { value_floats: attr.floats([1, -1]) }),
        makeNode('Constant', [], ['c_shape'], { value_ints: attr.ints([2, 1]) }),
        makeNode('Reshape', ['c', 'c_shape'], ['c21']),
        makeNode('Constant', [], ['shape'], { value_ints: attr.ints([1, 2, 9]) }),
        makeNode('Mul', ['two', 'c21'], ['c2']),
        makeNode('Reshape', ['x', 'shape'], ['r']),
        makeNode('Add', ['r', 'c2'], ['y']),
      ],
      inputs: [['x', x.dims]],
      outputs: [['y', null]],
    });
    const { model, outputs } = runOnnx(bytes, [x.data]);
    expect(model.outputDims).toEqual([[1, 2, 9]]);
    expectClose(outputs[0], x.data.map((v, i) => v + (i < 9 ? 2 : -2)));
  });
});

describe('Pad', () => {
  const x = randomNd(rng, [1, 3, 4, 5]);

  it('opset 10 attributes (pads, value) and opset 13 inputs (pads, constant_value), negative pads crop', () => {
    const pads = [0, 0, 1, 2, 0, 0, 2, 0];
    const want = padNaive(x, pads.slice(0, 4), pads.slice(4), 1.5);
    const v10 = runOnnx(single(makeNode('Pad', ['x'], ['y'], { pads: attr.ints(pads), value: attr.float(1.5) }), x.dims, [], 10), [x.data]);
    expect(v10.model.outputDims).toEqual([want.dims]);
    expectClose(v10.outputs[0], want.data, 0);
    const v13 = runOnnx(single(makeNode('Pad', ['x', 'p', 'v'], ['y']), x.dims, [ints('p', pads), scalar('v', 1.5)], 13), [x.data]);
    expectClose(v13.outputs[0], want.data, 0);
    const defaultValue = runOnnx(single(makeNode('Pad', ['x', 'p'], ['y'], { mode: attr.string('constant') }), x.dims, [ints('p', pads)], 11), [x.data]);
    expectClose(defaultValue.outputs[0], padNaive(x, pads.slice(0, 4), pads.slice(4), 0).data, 0);
    const crop = [0, 0, -1, 1, 0, 0, 0, -2];
    const c = runOnnx(single(makeNode('Pad', ['x', 'p'], ['y']), x.dims, [ints('p', crop)], 13), [x.data]);
    expectClose(c.outputs[0], padNaive(x, crop.slice(0, 4), crop.slice(4), 0).data, 0);
  });

  it('opset 18 axes input', () => {
    const r = runOnnx(single(makeNode('Pad', ['x', 'p', '', 'axes'], ['y']), x.dims, [ints('p', [2, 1, 0, 3]), ints('axes', [-1, 2])], 18), [x.data]);
    expectClose(r.outputs[0], padNaive(x, [0, 0, 1, 2], [0, 0, 3, 0], 0).data, 0);
  });

  it('a zero Pad folds into the next Conv and into an AveragePool; a MaxPool keeps an explicit pad', () => {
    const w = randomNd(rng, [2, 3, 3, 3]);
    const pads = [0, 0, 1, 2, 0, 0, 2, 1];
    const conv = onnxModel({
      nodes: [makeNode('Pad', ['x', 'p'], ['xp']), makeNode('Conv', ['xp', 'w'], ['y'], { pads: attr.ints([1, 0, 0, 1]) })],
      inputs: [['x', x.dims]],
      outputs: [['y', null]],
      initializers: [ints('p', pads), init('w', w)],
    });
    const rc = runOnnx(conv, [x.data]);
    expect(ops(rc.model.graph)).toEqual(['conv2d']);
    expect((rc.model.graph.nodes[0] as Conv2dNode).attrs.pads).toEqual([2, 2, 2, 2]);
    expectClose(rc.outputs[0], convNaive(padNaive(x, pads.slice(0, 4), pads.slice(4), 0), w, null, { pads: [1, 0, 0, 1] }).data);

    for (const [op, folds] of [['AveragePool', true], ['MaxPool', false]] as const) {
      const bytes = onnxModel({
        nodes: [makeNode('Pad', ['x', 'p'], ['xp']), makeNode(op, ['xp'], ['y'], { kernel_shape: attr.ints([3, 3]), strides: attr.ints([2, 2]) })],
        inputs: [['x', x.dims]],
        outputs: [['y', null]],
        initializers: [ints('p', [0, 0, 1, 1, 0, 0, 1, 1])],
      });
      const r = runOnnx(bytes, [x.data]);
      expect(ops(r.model.graph), op).toEqual(folds ? ['avgPool'] : ['pad', 'maxPool']);
      const padded = padNaive(x, [0, 0, 1, 1], [0, 0, 1, 1], 0);
      expectClose(r.outputs[0], poolNaive(op === 'MaxPool' ? 'max' : 'avg', padded, { kernel: [3, 3], strides: [2, 2] }).data);
    }
  });

  it('a non-zero pad value stays an explicit pad; shared pads serve several consumers', () => {
    const w = randomNd(rng, [2, 3, 1, 1]);
    const bytes = onnxModel({
      nodes: [
        makeNode('Pad', ['x', 'p', 'v'], ['xp']),
        makeNode('Conv', ['xp', 'w'], ['a']),
        makeNode('Relu', ['xp'], ['b']),
      ],
      inputs: [['x', x.dims]],
      outputs: [['a', null], ['b', null]],
      initializers: [ints('p', [0, 0, 1, 1, 0, 0, 1, 1]), scalar('v', 0.5), init('w', w)],
    });
    const r = runOnnx(bytes, [x.data]);
    expect(ops(r.model.graph)).toEqual(['pad', 'conv2d', 'activation']);
    const padded = padNaive(x, [0, 0, 1, 1], [0, 0, 1, 1], 0.5);
    expectClose(r.outputs[0], convNaive(padded, w, null).data);
    expectClose(r.outputs[1], padded.data.map((v) => Math.max(0, v)));
  });

  it("mode 'reflect' / 'edge' and padding the channel axis are unsupported", () => {
    for (const mode of ['reflect', 'edge', 'wrap']) {
      const e = thrown(() => runOnnx(single(makeNode('Pad', ['x', 'p'], ['y'], { mode: attr.string(mode) }), x.dims, [ints('p', [0, 0, 1, 1, 0, 0, 1, 1])], 19), [x.data]));
      expect(e).toBeInstanceOf(UnsupportedOpError);
      expect(e.message).toContain(`'${mode}'`);
      expect(e.message).toMatch(/node 0 \(unnamed Pad\)/);
    }
    const channels = single(makeNode('Pad', ['x', 'p'], ['y']), x.dims, [ints('p', [0, 1, 0, 0, 0, 0, 0, 0])]);
    expect(thrown(() => runOnnx(channels, [x.data]))).toBeInstanceOf(UnsupportedOpError);
  });
});

describe('graph inputs, outputs and initializers', () => {
  it('several runtime inputs; initializers listed as graph inputs are weights', () => {
    const a = randomNd(rng, [1, 2, 3, 3]);
    const b = randomNd(rng, [1, 2, 3, 3]);
    const w = randomNd(rng, [2, 2, 1, 1]);
    const bytes = onnxModel({
      nodes: [makeNode('Conv', ['a', 'w'], ['c']), makeNode('Add', ['c', 'b'], ['y'])],
      inputs: [['a', a.dims], ['b', b.dims]],
      outputs: [['y', [1, 2, 3, 3]]],
      initializers: [init('w', w)],
      initializersAsInputs: true,
    });
    const { model, outputs } = runOnnx(bytes, [a.data, b.data]);
    expect(model.graph.inputs.map((id) => model.graph.tensors[id].name)).toEqual(['a', 'b']);
    expect(model.inputDims).toEqual([[1, 2, 3, 3], [1, 2, 3, 3]]);
    expect(model.graph.tensors[model.graph.outputs[0]].name).toBe('y');
    expectClose(outputs[0], broadcastNaive(convNaive(a, w, null), b, (p, q) => p + q).data);
  });

  it('rank 1, 2 and 3 inputs map to [1, c, 1, 1], [n, c, 1, 1], [n, c, h, 1] and keep their declared dims', () => {
    for (const [dims, ir] of [
      [[6], [1, 6, 1, 1]],
      [[2, 6], [2, 6, 1, 1]],
      [[2, 6, 5], [2, 6, 5, 1]],
    ] as const) {
      const x = randomNd(rng, dims);
      const { model, outputs } = runOnnx(single(makeNode('Relu', ['x'], ['y']), dims), [x.data]);
      expect(model.graph.tensors[model.graph.inputs[0]].shape).toEqual(ir);
      expect(model.inputDims).toEqual([dims]);
      expect(model.outputDims).toEqual([dims]);
      expectClose(outputs[0], x.data.map((v) => Math.max(0, v)));
    }
  });

  it('a symbolic batch dim becomes 1; other symbolic dims need options.inputDims', () => {
    const dynamicBatch = onnxModel({ nodes: [makeNode('Relu', ['x'], ['y'])], inputs: [['x', ['batch', 3, 4, 4]]], outputs: [['y', ['batch', 3, 4, 4]]] });
    const m = runOnnx(dynamicBatch, [new Float32Array(48)]).model;
    expect(m.inputDims).toEqual([[1, 3, 4, 4]]);
    expect(m.preprocessing?.size).toEqual([4, 4]);
    const dynamicSize = onnxModel({ nodes: [makeNode('Relu', ['x'], ['y'])], inputs: [['x', [1, 3, 'height', 'width']]], outputs: [['y', null]] });
    const e = thrown(() => runOnnx(dynamicSize, [new Float32Array(48)]));
    expect(e).toBeInstanceOf(UnsupportedOpError);
    expect(e.message).toMatch(/'height' at axis 2.*inputDims/);
    const overridden = runOnnx(dynamicSize, [new Float32Array(2 * 3 * 5 * 6)], { inputDims: { x: [2, 3, 5, 6] } }).model;
    expect(overridden.inputDims).toEqual([[2, 3, 5, 6]]);
    expect(overridden.graph.tensors[overridden.graph.inputs[0]].shape).toEqual([2, 3, 5, 6]);
  });

  it('reads float16, double and float_data initializers', () => {
    const x = randomNd(rng, [1, 2, 2, 2]);
    const w = [0.5, -2, 0.25, 1];
    for (const t of [
      makeTensor('w', [2, 2, 1, 1], [0x3800, 0xc000, 0x3400, 0x3c00], DataType.FLOAT16),
      makeTensor('w', [2, 2, 1, 1], w, DataType.DOUBLE),
      makeTensor('w', [2, 2, 1, 1], w, DataType.FLOAT, { raw: false }),
    ]) {
      const { outputs } = runOnnx(single(makeNode('Conv', ['x', 'w'], ['y']), x.dims, [t]), [x.data]);
      expectClose(outputs[0], convNaive(x, nd([2, 2, 1, 1], w), null).data);
    }
  });
});
