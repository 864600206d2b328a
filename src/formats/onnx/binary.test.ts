/**
 * ONNX Sub / Mul / Div / Pow / Min / Max (and Add with constants that are not per-channel) as `binary` nodes:
 * tiny models through the loader and the CPU reference against `broadcastNaive`, and ONNX's own backend node
 * tests (`/usr/share/libonnx-testdata`, float32 ones) where the package is installed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ModelFormatError, UnsupportedOpError } from '../../errors.ts';
import { GraphBuilder } from '../../graph/builder.ts';
import type { BinaryNode, Graph } from '../../graph/ir.ts';
import { RELU6 } from '../../graph/ir.ts';
import { runGraphReference } from '../../reference/index.ts';
import { Rng, broadcastNaive, expectClose, nd, onnxModel, randomNd, runOnnx, thrown } from '../../../test/onnx-helpers.ts';
import type { Nd } from '../../../test/onnx-helpers.ts';
import { exportOnnx, makeNode, makeTensor } from './index.ts';
import { decodeMessage, modelProtoType } from './proto.ts';
import type { TensorProto } from './proto.ts';
import { decodeTensor } from './tensor.ts';

const rng = new Rng(11);
const ops = (g: Graph): string[] => g.nodes.map((n) => (n.op === 'binary' ? `binary:${n.attrs.op}` : n.op));
const init = (name: string, t: Nd) => makeTensor(name, t.dims, t.data);

function run(op: string, inputs: [string, Nd][], initializers: [string, Nd][], opset = 13) {
  const bytes = onnxModel({
    opset,
    nodes: [makeNode(op, [...inputs, ...initializers].map(([n]) => n).sort(), ['y'])],
    inputs: inputs.map(([n, t]) => [n, t.dims]),
    outputs: [['y', null]],
    initializers: initializers.map(([n, t]) => init(n, t)),
  });
  return runOnnx(bytes, inputs.map(([, t]) => t.data));
}

const F: Record<string, (p: number, q: number) => number> = {
  Add: (p, q) => p + q,
  Sub: (p, q) => p - q,
  Mul: (p, q) => p * q,
  Div: (p, q) => p / q,
  Pow: (p, q) => Math.pow(p, q),
  Min: (p, q) => Math.min(p, q),
  Max: (p, q) => Math.max(p, q),
};

describe('ONNX binary ops of two computed tensors', () => {
  const shapes: [number[], number[]][] = [
    [[2, 3, 4, 5], [2, 3, 4, 5]],
    [[2, 6, 3, 3], [2, 6, 1, 1]],
    [[1, 3, 1, 5], [2, 1, 4, 1]],
    [[2, 6], [6]],
    [[2, 3, 4], [1]],
  ];
  for (const op of ['Sub', 'Mul', 'Div', 'Pow', 'Min', 'Max']) {
    it(`${op} with broadcasting`, () => {
      for (const [ad, bd] of shapes) {
        const a = randomNd(rng, ad, op === 'Pow' ? 0.1 : -1, 2);
        const b = randomNd(rng, bd, op === 'Div' ? 0.5 : -2, 2);
        const { model, outputs } = run(op, [['a', a], ['b', b]], []);
        const want = broadcastNaive(a, b, F[op]);
        expect(model.outputDims).toEqual([want.dims]);
        expect(ops(model.graph).at(-1)).toBe(`binary:${op.toLowerCase()}`);
        expectClose(outputs[0], want.data);
      }
    });
  }
});

describe('ONNX binary ops with a constant operand', () => {
  it('constants that are not one value per channel, in either place, become an embedded constant', () => {
    const x = randomNd(rng, [2, 3, 4, 4], 0.5, 2);
    for (const op of ['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Min', 'Max']) {
      for (const cd of [[4, 4], [2, 3, 4, 4], [1, 1, 4, 1]]) {
        const c = randomNd(rng, cd, 0.5, 2);
        for (const constantFirst of [false, true]) {
          const inputs: [string, Nd][] = [['x', x]];
          const initializers: [string, Nd][] = [[constantFirst ? 'a' : 'z', c]];
          const { model, outputs } = run(op, inputs, initializers);
          const want = constantFirst ? broadcastNaive(c, x, F[op]) : broadcastNaive(x, c, F[op]);
          expect(ops(model.graph), `${op} ${cd}`).toEqual([`binary:${op.toLowerCase()}`]);
          expectClose(outputs[0], want.data);
        }
      }
    }
  });

  it('a constant that broadcasts the computed operand up, and constant / x', () => {
    const x = randomNd(rng, [1, 3, 1, 1], 0.5, 2);
    const c = randomNd(rng, [2, 3, 2, 2]);
    const { model, outputs } = run('Mul', [['x', x]], [['y0', c]]);
    expect(model.outputDims).toEqual([[2, 3, 2, 2]]);
    expectClose(outputs[0], broadcastNaive(x, c, F.Mul).data);
    const s = nd([], [3]);
    const div = run('Div', [['x', x]], [['a', s]]);
    expect(ops(div.model.graph)).toEqual(['binary:div']);
    expectClose(div.outputs[0], broadcastNaive(s, x, F.Div).data);
  });

  it('Pow: exponent 2 is x * x, 0.5 and 3 stay powers (negative bases with integer exponents keep their sign)', () => {
    const x = randomNd(rng, [1, 5, 3, 3], -2, 2);
    for (const e of [2, 3, -1]) {
      const { model, outputs } = run('Pow', [['x', x]], [['z', nd([], [e])]]);
      const g = model.graph;
      expect(ops(g)).toEqual([e === 2 ? 'binary:mul' : 'binary:pow']);
      if (e === 2) expect((g.nodes[0] as BinaryNode).inputs).toEqual([g.inputs[0], g.inputs[0]]);
      expectClose(outputs[0], x.data.map((v) => Math.pow(v, e)));
    }
    const pos = randomNd(rng, [1, 5, 3, 3], 0, 2);
    expectClose(run('Pow', [['x', pos]], [['z', nd([1], [0.5])]]).outputs[0], pos.data.map(Math.sqrt));
  });

  it('per-channel constants still become a mergeable depthwise 1x1 (Add, Mul, Div by a constant)', () => {
    const x = randomNd(rng, [1, 3, 4, 4]);
    for (const op of ['Add', 'Mul', 'Div']) {
      const { model } = run(op, [['x', x]], [['z', randomNd(rng, [3, 1, 1], 0.5, 2)]]);
      expect(ops(model.graph)).toEqual(['conv2d']);
    }
  });
});

describe('ONNX Min / Max are variadic', () => {
  it('three inputs with a constant among them, and one input', () => {
    const a = randomNd(rng, [2, 4, 3, 3]);
    const b = randomNd(rng, [2, 4, 1, 1]);
    const c = randomNd(rng, [4, 1, 1]);
    for (const op of ['Min', 'Max']) {
      const { model, outputs } = run(op, [['a', a], ['b', b]], [['c', c]]);
      expect(ops(model.graph)).toEqual([`binary:${op.toLowerCase()}`, `binary:${op.toLowerCase()}`]);
      expectClose(outputs[0], broadcastNaive(broadcastNaive(a, b, F[op]), c, F[op]).data);
      const one = run(op, [['a', a]], []);
      expectClose(one.outputs[0], a.data);
    }
  });

  it('operands that do not broadcast are a model error', () => {
    const e = thrown(() => run('Max', [['a', randomNd(rng, [1, 3, 2, 2])], ['b', randomNd(rng, [1, 4, 2, 2])]], []));
    expect(e).toBeInstanceOf(ModelFormatError);
    expect(e.message).toMatch(/do not broadcast/);
  });
});

const NODE_TESTS = '/usr/share/libonnx-testdata/data/node';
const CONFORMANCE = [
  'test_add', 'test_add_bcast', 'test_sub', 'test_sub_bcast', 'test_sub_example', 'test_mul', 'test_mul_bcast', 'test_mul_example',
  'test_div', 'test_div_bcast', 'test_div_example', 'test_pow', 'test_pow_bcast_array', 'test_pow_example',
  'test_min_example', 'test_min_float32', 'test_min_one_input', 'test_min_two_inputs',
  'test_max_example', 'test_max_float32', 'test_max_one_input', 'test_max_two_inputs',
];

/** Node tests webcnn refuses for their graph inputs (integer or scalar), not for the op. */
const REFUSED_INPUTS = ['test_pow_bcast_scalar', 'test_pow_types_float', 'test_pow_types_float32_int32', 'test_pow_types_float32_int64'];

describe.skipIf(!existsSync(NODE_TESTS))('ONNX backend node tests (libonnx-testdata)', () => {
  for (const name of REFUSED_INPUTS) {
    it(`${name} is refused for its graph input, by name`, () => {
      const e = thrown(() => runOnnx(readFileSync(`${NODE_TESTS}/${name}/model.onnx`), []));
      expect(e).toBeInstanceOf(UnsupportedOpError);
      expect(e.message).toMatch(/graph input '\w+' (has data type|is a scalar)/);
    });
  }

  const tensorType = () => modelProtoType().root.lookupType('onnx.TensorProto');
  const load = (path: string) => decodeTensor(decodeMessage(readFileSync(path), tensorType()) as unknown as TensorProto, path);
  for (const name of CONFORMANCE) {
    it(name, () => {
      const dir = `${NODE_TESTS}/${name}`;
      const data = `${dir}/test_data_set_0`;
      const inputs: Float32Array[] = [];
      for (let k = 0; existsSync(`${data}/input_${k}.pb`); k++) {
        const t = load(`${data}/input_${k}.pb`);
        inputs.push(t.floats ?? Float32Array.from(t.ints ?? []));
      }
      const want = load(`${data}/output_0.pb`);
      const { outputs } = runOnnx(readFileSync(`${dir}/model.onnx`), inputs);
      expectClose(outputs[0], want.floats ?? Float32Array.from(want.ints ?? []));
    });
  }
});

describe('exporting binary nodes', () => {
  it('round-trips every op, constants in either place and a fused clamp through exportOnnx and loadOnnx', () => {
    const b = new GraphBuilder();
    const x = b.input('x', [2, 3, 4, 4]);
    const s = b.input('s', [2, 3, 1, 1]);
    let t = b.binary('mul', x, s, 'scale');
    t = b.binary('squaredDifference', t, x, 'sqdiff', RELU6);
    t = b.binary('div', { shape: [1, 3, 1, 4], values: rng.fill(12, 0.5, 2) }, b.binary('max', t, { shape: [1, 1, 1, 1], values: Float32Array.of(0.5) }, 'floor'), 'recip');
    t = b.binary('pow', t, { shape: [1, 1, 4, 4], values: rng.fill(16, -2, 2) }, 'pow');
    for (const op of ['add', 'sub', 'min'] as const) t = b.binary(op, t, x, op);
    b.output(t);
    const graph = b.build();
    const inputs = [randomNd(rng, [2, 3, 4, 4]).data, randomNd(rng, [2, 3, 1, 1]).data];
    const { model, outputs } = runOnnx(exportOnnx(graph), inputs);
    expectClose(outputs[0], runGraphReference(graph, inputs)[0]);
    // Squared difference comes back as Sub and Mul; Add of two computed tensors as the residual add.
    expect(model.graph.nodes.filter((n) => n.op === 'binary')).toHaveLength(8);
  });
});
