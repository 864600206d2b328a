/**
 * LayerNormalization, channels-last views (Transpose, MatMul, per-channel constants on NHWC views) and the erf
 * GELU chain, through the CPU reference; ONNX's own LayerNormalization node tests where they normalise one axis.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UnsupportedOpError } from '../../errors.ts';
import { NODE_TEST_ROOT, nodeTestNames, readNodeTest } from '../../../test/helpers/onnx-node-tests.ts';
import { Rng, expectClose, onnxModel, runOnnx, thrown } from '../../../test/onnx-helpers.ts';
import { erf } from '../../graph/activations/erf.ts';
import { attr, makeNode, makeTensor } from './index.ts';
import { decodeMessage, modelProtoType, type TensorProto } from './proto.ts';
import { decodeTensor } from './tensor.ts';

const perm = (p: readonly number[]) => ({ perm: attr.ints(p) });

/** `x` of dims `[a, b, c, d]` permuted to `[a, d, b, c]` (NHWC data -> NCHW data). */
function toNchw(x: Float32Array, [a, b, c, d]: readonly number[]): Float32Array {
  const out = new Float32Array(x.length);
  for (let i0 = 0; i0 < a; i0++)
    for (let i1 = 0; i1 < b; i1++)
      for (let i2 = 0; i2 < c; i2++)
        for (let i3 = 0; i3 < d; i3++) out[((i0 * d + i3) * b + i1) * c + i2] = x[((i0 * b + i1) * c + i2) * d + i3];
  return out;
}

function pbFloats(test: string, file: string): Float32Array {
  const tt = modelProtoType().root.lookupType('onnx.TensorProto');
  const t = decodeMessage(readFileSync(join(NODE_TEST_ROOT, test, 'test_data_set_0', file)), tt) as unknown as TensorProto;
  return decodeTensor(t, file).floats!;
}

function epsilonOf(test: string): number {
  const type = modelProtoType();
  const model = type.toObject(type.decode(readFileSync(join(NODE_TEST_ROOT, test, 'model.onnx')))) as { graph: { node: { attribute: { name: string; f?: number }[] }[] } };
  return model.graph.node[0].attribute.find((a) => a.name === 'epsilon')?.f ?? 1e-5;
}

describe('LayerNormalization', () => {
  // Over the last axis only: rank 2 directly; rank 4 on a channels-last view of an NCHW input.
  const tests = nodeTestNames(['test_layer_normalization_']).filter(
    (t) => !t.endsWith('_expanded') && /^test_layer_normalization_(2d_axis(1|_negative_1)|4d_axis(3|_negative_1))$/.test(t),
  );
  it(`ONNX node tests over the last axis: ${tests.join(', ') || 'none installed'}`, () => {
    for (const t of tests) {
      const { input, inputDims, expected } = readNodeTest(t);
      const last = inputDims[inputDims.length - 1];
      const initializers = [makeTensor('W', [last], pbFloats(t, 'input_1.pb')), makeTensor('B', [last], pbFloats(t, 'input_2.pb'))];
      const ln = makeNode('LayerNormalization', ['X', 'W', 'B'], ['Y'], { axis: attr.int(-1), epsilon: attr.float(epsilonOf(t)) });
      if (inputDims.length === 2) {
        const { outputs } = runOnnx(onnxModel({ opset: 17, nodes: [ln], inputs: [['X', inputDims]], outputs: [['Y', inputDims]], initializers }), [input]);
        expectClose(outputs[0], expected, 1e-5);
        continue;
      }
      const [a, b, c, d] = inputDims;
      const nchw = [a, d, b, c];
      const nodes = [makeNode('Transpose', ['x'], ['X'], perm([0, 2, 3, 1])), ln, makeNode('Transpose', ['Y'], ['y'], perm([0, 3, 1, 2]))];
      const { model, outputs } = runOnnx(onnxModel({ opset: 17, nodes, inputs: [['x', nchw]], outputs: [['y', nchw]], initializers }), [toNchw(input, inputDims)]);
      expect(model.graph.nodes.map((n) => n.op)).toEqual(['layerNorm']);
      expectClose(outputs[0], toNchw(expected, inputDims), 1e-5);
    }
  });

  it('refuses axes that normalise more than the channels, with a typed error naming the node', () => {
    const nodes = [makeNode('LayerNormalization', ['X', 'W'], ['Y'], { axis: attr.int(1) }, 'ln')];
    const bytes = onnxModel({ opset: 17, nodes, inputs: [['X', [1, 3, 4, 5]]], outputs: [['Y', [1, 3, 4, 5]]], initializers: [makeTensor('W', [3, 4, 5], new Float32Array(60).fill(1))] });
    const e = thrown(() => runOnnx(bytes, [new Float32Array(60)]));
    expect(e).toBeInstanceOf(UnsupportedOpError);
    expect(e.message).toMatch(/node 0 'ln' \(LayerNormalization\): axis 1 .* does not normalise over channels only/);
  });
});

describe('channels-last views (ConvNeXt)', () => {
  const rng = new Rng(7);
  const [n, c, h, w, k] = [2, 3, 2, 3, 5];
  const x = rng.fill(n * c * h * w, -1, 1);
  const B = rng.fill(c * k, -1, 1);
  const bias = rng.fill(k, -1, 1);
  const scale = rng.fill(k, -1, 1);

  it('Transpose, MatMul [C, K], Add [K], Mul [K], Transpose back: a 1x1 conv with no data movement', () => {
    const nodes = [
      makeNode('Transpose', ['x'], ['t'], perm([0, 2, 3, 1])),
      makeNode('MatMul', ['t', 'B'], ['m']),
      makeNode('Add', ['m', 'bias'], ['a']),
      makeNode('Mul', ['scale', 'a'], ['s']),
      makeNode('Transpose', ['s'], ['y'], perm([0, 3, 1, 2])),
    ];
    const initializers = [makeTensor('B', [c, k], B), makeTensor('bias', [k], bias), makeTensor('scale', [k], scale)];
    const { model, outputs } = runOnnx(onnxModel({ opset: 13, nodes, inputs: [['x', [n, c, h, w]]], outputs: [['y', [n, k, h, w]]], initializers }), [x]);
    expect(model.graph.nodes.map((nd) => nd.op)).toEqual(['conv2d']);
    const want = new Float32Array(n * k * h * w);
    for (let b = 0; b < n; b++)
      for (let o = 0; o < k; o++)
        for (let p = 0; p < h * w; p++) {
          let s = bias[o];
          for (let i = 0; i < c; i++) s += x[(b * c + i) * h * w + p] * B[i * k + o];
          want[(b * k + o) * h * w + p] = s * scale[o];
        }
    expectClose(outputs[0], want, 1e-5);
  });

  it('refuses an op that does not read views, and a view as a graph output', () => {
    const relu = onnxModel({ nodes: [makeNode('Transpose', ['x'], ['t'], perm([0, 2, 3, 1])), makeNode('Relu', ['t'], ['y'], {}, 'r')], inputs: [['x', [1, 2, 3, 4]]], outputs: [['y', [1, 3, 4, 2]]] });
    const e = thrown(() => runOnnx(relu, [new Float32Array(24)]));
    expect(e).toBeInstanceOf(UnsupportedOpError);
    expect(e.message).toMatch(/node 1 'r' \(Relu\): input 0 't' is a channels-last view/);
    const out = onnxModel({ nodes: [makeNode('Transpose', ['x'], ['y'], perm([0, 2, 3, 1]))], inputs: [['x', [1, 2, 3, 4]]], outputs: [['y', [1, 3, 4, 2]]] });
    expect(thrown(() => runOnnx(out, [new Float32Array(24)])).message).toMatch(/graph output 'y' is a channels-last view/);
  });

  it('a permutation that moves only size-1 axes is a reshape; others are refused', () => {
    const ok = onnxModel({ nodes: [makeNode('Transpose', ['x'], ['y'], perm([1, 0, 2]))], inputs: [['x', [1, 4, 3]]], outputs: [['y', [4, 1, 3]]] });
    const data = rng.fill(12, -1, 1);
    expectClose(runOnnx(ok, [data]).outputs[0], data, 0);
    const bad = onnxModel({ nodes: [makeNode('Transpose', ['x'], ['y'], perm([0, 1, 3, 2]), 'tr')], inputs: [['x', [1, 2, 3, 4]]], outputs: [['y', [1, 2, 4, 3]]] });
    expect(thrown(() => runOnnx(bad, [new Float32Array(24)])).message).toMatch(/node 0 'tr' \(Transpose\): perm \[0, 1, 3, 2\]/);
  });
});

describe('the erf GELU chain', () => {
  const gelu = (v: number): number => 0.5 * v * (1 + erf(v / Math.SQRT2));
  const scalar = (name: string, v: number) => makeTensor(name, [], [v]);
  const x = Float32Array.from({ length: 24 }, (_, i) => (i - 12) * 0.4);

  for (const form of ['x * p * 0.5', '(x * 0.5) * p']) {
    it(`becomes one exact gelu (${form})`, () => {
      const nodes = [
        makeNode('Div', ['x', 'sqrt2'], ['d']),
        makeNode('Erf', ['d'], ['e']),
        makeNode('Add', ['e', 'one'], ['p']),
        ...(form === 'x * p * 0.5'
          ? [makeNode('Mul', ['x', 'p'], ['m']), makeNode('Mul', ['m', 'half'], ['y'])]
          : [makeNode('Mul', ['half', 'x'], ['m']), makeNode('Mul', ['p', 'm'], ['y'])]),
      ];
      const initializers = [scalar('sqrt2', Math.SQRT2), scalar('one', 1), scalar('half', 0.5)];
      const { model, outputs } = runOnnx(onnxModel({ nodes, inputs: [['x', [1, 2, 3, 4]]], outputs: [['y', [1, 2, 3, 4]]], initializers }), [x]);
      expect(model.graph.nodes.map((nd) => (nd.op === 'activation' && nd.attrs.activation.kind === 'function' ? nd.attrs.activation.name : nd.op))).toEqual(['gelu']);
      expectClose(outputs[0], Array.from(x, gelu), 1e-6);
    });
  }

  it('is left alone when an intermediate value is read elsewhere (then Erf runs as its own function)', () => {
    const nodes = [
      makeNode('Div', ['x', 'sqrt2'], ['d']),
      makeNode('Erf', ['d'], ['e']),
      makeNode('Add', ['e', 'one'], ['p']),
      makeNode('Mul', ['x', 'p'], ['m']),
      makeNode('Mul', ['m', 'half'], ['y']),
    ];
    const initializers = [scalar('sqrt2', Math.SQRT2), scalar('one', 1), scalar('half', 0.5)];
    const bytes = onnxModel({ nodes, inputs: [['x', [1, 2, 3, 4]]], outputs: [['y', [1, 2, 3, 4]], ['e', [1, 2, 3, 4]]], initializers });
    const { outputs } = runOnnx(bytes, [x]);
    expectClose(outputs[0], Array.from(x, gelu), 1e-5);
    expectClose(outputs[1], Array.from(x, (v) => erf(v / Math.SQRT2)), 1e-6);
  });
});

describe('the decomposed LayerNorm (opset < 17)', () => {
  const rng = new Rng(11);
  const [n, c, h, w] = [2, 5, 2, 3];
  const x = rng.fill(n * c * h * w, -2, 2);
  const gamma = rng.fill(c, 0.5, 1.5);
  const beta = rng.fill(c, -0.5, 0.5);
  const axes = { axes: attr.ints([-1]) };
  const chain = (tail: 'beta' | 'no beta', shared = false) => [
    makeNode('Transpose', ['x'], ['t'], perm([0, 2, 3, 1])),
    makeNode('ReduceMean', ['t'], ['mu'], axes),
    makeNode('Sub', ['t', 'mu'], ['d']),
    makeNode('Pow', ['d', 'two'], ['p']),
    makeNode('ReduceMean', ['p'], ['v'], axes),
    makeNode('Add', ['v', 'eps'], ['ve']),
    makeNode('Sqrt', ['ve'], ['s']),
    makeNode('Div', ['d', 's'], ['nrm']),
    makeNode('Identity', ['gamma'], [shared ? 'gamma_shared' : 'gamma_id']),
    makeNode('Mul', ['nrm', shared ? 'gamma_shared' : 'gamma_id'], ['m']),
    ...(tail === 'beta' ? [makeNode('Add', ['m', 'beta'], ['a']), makeNode('Transpose', ['a'], ['y'], perm([0, 3, 1, 2]))] : [makeNode('Transpose', ['m'], ['y'], perm([0, 3, 1, 2]))]),
  ];
  const initializers = [makeTensor('two', [], [2]), makeTensor('eps', [], [1e-6]), makeTensor('gamma', [c], gamma), makeTensor('beta', [c], beta)];
  const want = (withBeta: boolean): Float32Array => {
    const out = new Float32Array(x.length);
    for (let b = 0; b < n; b++)
      for (let p = 0; p < h * w; p++) {
        const at = (ch: number) => (b * c + ch) * h * w + p;
        let mean = 0;
        for (let ch = 0; ch < c; ch++) mean += x[at(ch)] / c;
        let v = 0;
        for (let ch = 0; ch < c; ch++) v += (x[at(ch)] - mean) ** 2 / c;
        for (let ch = 0; ch < c; ch++) out[at(ch)] = ((x[at(ch)] - mean) / Math.sqrt(v + 1e-6)) * gamma[ch] + (withBeta ? beta[ch] : 0);
      }
    return out;
  };

  for (const tail of ['beta', 'no beta'] as const) {
    it(`becomes one layerNorm on the channels-last view (${tail}; gamma through an Identity)`, () => {
      const { model, outputs } = runOnnx(onnxModel({ nodes: chain(tail), inputs: [['x', [n, c, h, w]]], outputs: [['y', [n, c, h, w]]], initializers }), [x]);
      expect(model.graph.nodes.map((nd) => nd.op)).toEqual(['layerNorm']);
      expectClose(outputs[0], want(tail === 'beta'), 1e-5);
    });
  }

  it('is left alone when an intermediate value is read elsewhere (ReduceMean then meets the view: a typed refusal)', () => {
    const bytes = onnxModel({ nodes: chain('beta'), inputs: [['x', [n, c, h, w]]], outputs: [['y', [n, c, h, w]], ['v', [n, h, w, 1]]], initializers });
    expect(thrown(() => runOnnx(bytes, [x]))).toBeInstanceOf(UnsupportedOpError);
  });
});
