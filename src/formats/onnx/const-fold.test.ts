/**
 * Load-time folding of shape arithmetic (const-fold.ts, ops/shape.ts): each converter against ONNX's own node
 * tests with every input a constant (Shape's data a computed tensor, as in real models), the fold helpers on
 * hand-checked cases, and end to end the subgraphs torchvision exports (Shape -> Gather -> Unsqueeze -> Concat
 * -> Reshape, Shape -> Slice -> Concat -> Resize sizes).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelFormatError, UnsupportedOpError } from '../../errors.ts';
import { GraphBuilder } from '../../graph/builder.ts';
import { LoadBudget } from '../limits.ts';
import { expectClose, onnxModel, runOnnx, thrown } from '../../../test/onnx-helpers.ts';
import { NODE_TEST_ROOT, readTensorProto } from '../../../test/helpers/onnx-node-tests.ts';
import { concatTensors, gatherTensor, shapeTensor, sliceTensor, squeezeDims, unsqueezeDims, valuesOf } from './const-fold.ts';
import type { ImporterState } from './context.ts';
import { NodeContext } from './context.ts';
import { DataType, attr, makeNode, makeTensor } from './index.ts';
import { CONVERTERS } from './ops/index.ts';
import type { ValueInfoProto } from './proto.ts';
import { decodeModelProto, int64 } from './proto.ts';
import type { ConstantTensor } from './tensor.ts';
import { decodeTensor } from './tensor.ts';
import type { Value } from './values.ts';

const NODE_TESTS = NODE_TEST_ROOT;
const PREFIX = /^test_(shape|gather_|unsqueeze|squeeze|slice|cast_|constantofshape|range)/;
/** Node tests refused with a typed error (strings are not numbers), or built from ops outside the table. */
const REFUSED = new Set(['test_cast_FLOAT_to_STRING', 'test_cast_STRING_to_FLOAT']);

const fail = (m: string) => new Error(m);
const env = { fail, reserve: () => {} };

/** An importer with nothing but `values` (converters of constants touch no graph). */
function importer(opset: number, values: Map<string, Value>): ImporterState {
  return {
    b: new GraphBuilder(),
    values,
    opset,
    uses: new Map(),
    tensorNames: new Map(),
    affineOutputs: new Set(),
    budget: new LoadBudget(1 << 20),
    reshapeTo: () => {
      throw new Error('no reshapes in a fold');
    },
    readers: () => [],
  };
}

/**
 * The test data stores bfloat16 tensors as uint16 bit patterns under a BFLOAT16 graph type: decoded here to the
 * values they stand for.
 */
function declared(c: ConstantTensor, info: ValueInfoProto): ConstantTensor {
  if (info.type?.tensor_type?.elem_type !== DataType.BFLOAT16 || !c.ints) return c;
  const bits = new Uint32Array(c.ints.map((b) => b << 16));
  return { dims: c.dims, dataType: DataType.BFLOAT16, floats: new Float32Array(bits.buffer) };
}

const nodeTests = existsSync(NODE_TESTS)
  ? readdirSync(NODE_TESTS).filter((d) => PREFIX.test(d) && !d.endsWith('_expanded') && !d.startsWith('test_gather_elements'))
  : [];

describe('ONNX node tests, every input a constant', () => {
  it('are installed (libonnx-testdata)', () => {
    expect(nodeTests.length).toBeGreaterThan(40);
  });
  for (const name of nodeTests) {
    it(name, () => {
      const dir = join(NODE_TESTS, name);
      const model = decodeModelProto(new Uint8Array(readFileSync(join(dir, 'model.onnx'))));
      const graph = model.graph!;
      expect(graph.node.length).toBe(1);
      const node = graph.node[0];
      const opset = Math.max(...model.opset_import.filter((o) => !o.domain).map((o) => int64(o.version)));
      const values = new Map<string, Value>();
      const evaluate = () => {
        graph.input.forEach((input, k) => {
          const t = readTensorProto(join(dir, 'test_data_set_0', `input_${k}.pb`));
          if (node.op_type === 'Shape') {
            values.set(input.name!, { kind: 'runtime', dims: t.dims.map((d) => int64(d)), id: 0 as never });
            return;
          }
          const c = declared(decodeTensor(t, `${name} input ${k}`), input);
          values.set(input.name!, { kind: 'constant', dims: c.dims, tensor: c });
        });
        CONVERTERS[node.op_type!](new NodeContext(importer(opset, values), node, 0));
      };
      if (REFUSED.has(name)) {
        const e = thrown(evaluate);
        expect(e instanceof UnsupportedOpError || e instanceof ModelFormatError, e.message).toBe(true);
        return;
      }
      evaluate();
      const out = values.get(node.output[0]);
      expect(out?.kind).toBe('constant');
      if (out?.kind !== 'constant') return;
      const want = declared(decodeTensor(readTensorProto(join(dir, 'test_data_set_0', 'output_0.pb')), `${name} output`), graph.output[0]);
      expect(out.dims).toEqual(want.dims);
      expect(Boolean(out.tensor.floats)).toBe(Boolean(want.floats));
      expect(Array.from(valuesOf(out.tensor))).toEqual(Array.from(valuesOf(want)));
    });
  }
});

describe('fold helpers', () => {
  const t = (dims: number[], v: number[]) => ({ dims, dataType: DataType.INT64, ints: v });
  it('Shape with start / end clamps like a Python slice', () => {
    expect(shapeTensor([1, 3, 96, 96]).ints).toEqual([1, 3, 96, 96]);
    expect(shapeTensor([1, 3, 96, 96], -2).ints).toEqual([96, 96]);
    expect(shapeTensor([1, 3, 96, 96], 2, 1).ints).toEqual([]);
    expect(shapeTensor([1, 3, 96, 96], -9, 99).ints).toEqual([1, 3, 96, 96]);
    expect(shapeTensor([]).dims).toEqual([0]);
  });
  it('Gather along a middle axis with 2-D and negative indices', () => {
    const data = t([2, 3, 2], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    const g = gatherTensor(data, t([2, 2], [-1, 0, 1, 1]), 1, env);
    expect(g.dims).toEqual([2, 2, 2, 2]);
    expect(g.ints).toEqual([4, 5, 0, 1, 2, 3, 2, 3, 10, 11, 6, 7, 8, 9, 8, 9]);
    expect(gatherTensor(t([4], [7, 8, 9, 10]), t([], [2]), 0, env)).toEqual({ dims: [], dataType: DataType.INT64, ints: [9] });
    expect(() => gatherTensor(t([4], [1, 2, 3, 4]), t([], [4]), 0, env)).toThrow(/out of range/);
  });
  it('Slice with negative steps and INT64 extremes', () => {
    const data = t([2, 4], [0, 1, 2, 3, 4, 5, 6, 7]);
    expect(sliceTensor(data, [-1], [-(2 ** 63)], [1], [-2], env)).toEqual({ dims: [2, 2], dataType: DataType.INT64, ints: [3, 1, 7, 5] });
    expect(sliceTensor(data, [1, 1], [2 ** 63, 3], [0, 1], [1, 1], env).ints).toEqual([5, 6]);
    expect(sliceTensor(data, [3], [1], [1], [1], env).dims).toEqual([2, 0]);
  });
  it('Concat along axis 0 and a middle axis', () => {
    expect(concatTensors([t([2], [1, 3]), t([1], [5])], 0, env).ints).toEqual([1, 3, 5]);
    expect(concatTensors([t([2, 1, 2], [1, 2, 3, 4]), t([2, 2, 2], [5, 6, 7, 8, 9, 10, 11, 12])], -2, env).ints).toEqual([
      1, 2, 5, 6, 7, 8, 3, 4, 9, 10, 11, 12,
    ]);
    expect(() => concatTensors([t([2], [1, 3]), t([1, 1], [5])], 0, env)).toThrow(/does not match/);
  });
  it('Unsqueeze / Squeeze dims', () => {
    expect(unsqueezeDims([], [0], fail)).toEqual([1]);
    expect(unsqueezeDims([3, 4], [-1, 0], fail)).toEqual([1, 3, 4, 1]);
    expect(() => unsqueezeDims([3], [0, 0], fail)).toThrow(/repeat/);
    expect(squeezeDims([1, 3, 1, 4], undefined, fail)).toEqual([3, 4]);
    expect(squeezeDims([1, 3, 1, 4], [-2], fail)).toEqual([1, 3, 4]);
    expect(() => squeezeDims([1, 3], [1], fail)).toThrow(/not 1/);
  });
});

const int64s = (name: string, v: number[]) => makeTensor(name, [v.length], v, DataType.INT64);
const scalar64 = (name: string, v: number) => makeTensor(name, [], [v], DataType.INT64);

describe('torchvision shape subgraphs fold into constants', () => {
  it('Shape -> Gather -> Unsqueeze -> Concat -> Reshape (flatten in a classifier)', () => {
    const bytes = onnxModel({
      nodes: [
        makeNode('Shape', ['x'], ['s']),
        makeNode('Gather', ['s', 'zero'], ['n'], { axis: attr.int(0) }),
        makeNode('Unsqueeze', ['n', 'axes0'], ['n1']),
        makeNode('Concat', ['n1', 'minus1'], ['shape'], { axis: attr.int(0) }),
        makeNode('Reshape', ['x', 'shape'], ['y']),
      ],
      inputs: [['x', [2, 3, 2, 2]]],
      outputs: [['y', [2, 12]]],
      initializers: [scalar64('zero', 0), int64s('axes0', [0]), int64s('minus1', [-1])],
    });
    const x = Float32Array.from({ length: 24 }, (_, i) => i);
    const { model, outputs } = runOnnx(bytes, [x]);
    expect(model.outputDims[0]).toEqual([2, 12]);
    expectClose(outputs[0], x);
  });
  it('opset 11: Unsqueeze / Squeeze axes as attributes, Shape ignores start / end before opset 15', () => {
    const bytes = onnxModel({
      opset: 11,
      nodes: [
        makeNode('Shape', ['x'], ['s'], { start: attr.int(2) }),
        makeNode('Slice', ['s', 'zero1', 'one1'], ['n1']),
        makeNode('Squeeze', ['n1'], ['n'], { axes: attr.ints([0]) }),
        makeNode('Unsqueeze', ['n'], ['n2'], { axes: attr.ints([0]) }),
        makeNode('Concat', ['n2', 'minus1'], ['shape'], { axis: attr.int(0) }),
        makeNode('Reshape', ['x', 'shape'], ['y']),
      ],
      inputs: [['x', [2, 3, 2, 2]]],
      outputs: [['y', [2, 12]]],
      initializers: [int64s('zero1', [0]), int64s('one1', [1]), int64s('minus1', [-1])],
    });
    expect(runOnnx(bytes, [new Float32Array(24)]).model.outputDims[0]).toEqual([2, 12]);
  });
  it('Shape(start=2) -> Cast -> Concat with [N, C] -> Resize sizes (a segmentation head upsampling to the input)', () => {
    const bytes = onnxModel({
      opset: 15,
      nodes: [
        makeNode('Shape', ['img'], ['hw'], { start: attr.int(2) }),
        makeNode('Shape', ['x'], ['sx']),
        makeNode('Slice', ['sx', 'begin', 'end', 'axis0'], ['nc']),
        makeNode('Cast', ['hw'], ['hwf'], { to: attr.int(DataType.FLOAT) }),
        makeNode('Cast', ['hwf'], ['hwi'], { to: attr.int(DataType.INT64) }),
        makeNode('Concat', ['nc', 'hwi'], ['sizes'], { axis: attr.int(0) }),
        makeNode('Resize', ['x', '', '', 'sizes'], ['y'], { mode: attr.string('nearest') }),
        makeNode('Add', ['y', 'img'], ['z']),
      ],
      inputs: [['img', [1, 2, 4, 4]], ['x', [1, 2, 2, 2]]],
      outputs: [['z', [1, 2, 4, 4]]],
      initializers: [int64s('begin', [0]), int64s('end', [2]), int64s('axis0', [0])],
    });
    const img = new Float32Array(32);
    const x = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    const { outputs } = runOnnx(bytes, [img, x]);
    expectClose(outputs[0], [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4, 5, 5, 6, 6, 5, 5, 6, 6, 7, 7, 8, 8, 7, 7, 8, 8]);
  });
  it('ConstantOfShape and Range fold; shape ops on computed tensors that webcnn cannot map are refused in one line', () => {
    const refused = (nodes: ReturnType<typeof makeNode>[], inits: ReturnType<typeof makeTensor>[] = []) =>
      thrown(() => runOnnx(onnxModel({ nodes, inputs: [['x', [1, 2, 2, 2]]], outputs: [['y', [1, 2, 2, 2]]], initializers: inits }), [new Float32Array(8)]));
    for (const e of [
      // Gather / Unsqueeze / Squeeze of computed tensors map onto channel slices and reshapes (gather.test.ts)
      // where the 4-D layout allows; a gather along the batch axis does not.
      refused([makeNode('Gather', ['x', 'i'], ['y'], { axis: attr.int(0) })], [scalar64('i', 0)]),
      refused([makeNode('Cast', ['x'], ['y'], { to: attr.int(DataType.INT64) })]),
    ]) {
      expect(e).toBeInstanceOf(UnsupportedOpError);
      expect(e.message).not.toContain('\n');
    }
    const bytes = onnxModel({
      nodes: [
        makeNode('Range', ['r0', 'r1', 'r2'], ['r']),
        makeNode('ConstantOfShape', ['r'], ['ones'], { value: attr.tensor(makeTensor('v', [1], [2])) }),
        makeNode('Mul', ['x', 'ones'], ['y']),
      ],
      inputs: [['x', [1, 2, 2, 2]]],
      outputs: [['y', [1, 2, 2, 2]]],
      initializers: [scalar64('r0', 1), scalar64('r1', 3), scalar64('r2', 1)],
    });
    // Range(1, 3, 1) = [1, 2]: ones of shape [1, 2], broadcast over the last two axes.
    const { outputs } = runOnnx(bytes, [Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8])]);
    expectClose(outputs[0], [2, 4, 6, 8, 10, 12, 14, 16]);
  });
});
