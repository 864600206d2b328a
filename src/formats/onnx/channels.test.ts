/**
 * ONNX Concat, Split and Slice: ONNX's own backend node tests (`libonnx-testdata`) where webcnn supports the case
 * (loaded, run on the CPU reference, compared with the test's outputs) and a one-line typed error where it does
 * not; plus the opset variants the node tests do not cover, on tiny written models.
 */
import { describe, expect, it } from 'vitest';
import { UnsupportedOpError } from '../../errors.ts';
import { runGraphReference } from '../../reference/index.ts';
import { nodeTestsMatching } from '../../../test/helpers/onnx-node-tests.ts';
import { expectClose, expectNodeTestOnReference, onnxModel, runOnnx, thrown } from '../../../test/onnx-helpers.ts';
import { GraphBuilder } from '../../graph/builder.ts';
import { exportOnnx } from './export.ts';
import { loadOnnx } from './loader.ts';
import { DataType, attr, makeNode, makeTensor } from './index.ts';

/** The node tests webcnn runs; every other concat / split / slice test must be refused with UnsupportedOpError. */
const SUPPORTED = new Set([
  'test_concat_1d_axis_0',
  'test_concat_1d_axis_negative_1',
  'test_concat_2d_axis_1',
  'test_concat_2d_axis_negative_1',
  'test_concat_3d_axis_1',
  'test_concat_3d_axis_negative_2',
  'test_split_equal_parts_1d',
  'test_split_equal_parts_2d',
  'test_split_equal_parts_default_axis',
]);
// The variable-parts tests take the split sizes as a runtime int64 input, the zero-size test an empty tensor:
// refused at the graph inputs (ModelFormatError for the empty one).

const nodeTests = nodeTestsMatching(/^test_(concat|split|slice)/);

describe('ONNX node tests', () => {
  it('are installed (libonnx-testdata)', () => {
    expect(nodeTests.length).toBeGreaterThan(20);
  });
  for (const name of nodeTests) {
    it(name, () => {
      expectNodeTestOnReference(name, SUPPORTED.has(name));
    });
  }
});

const iota = (n: number) => Float32Array.from({ length: n }, (_, i) => i);
const ints = (name: string, v: number[]) => makeTensor(name, [v.length], v, DataType.INT64);

describe('channel ops on 4-D maps', () => {
  it('Concat axis 1 and -3 of NCHW maps, batch 2, odd channel counts', () => {
    for (const axis of [1, -3]) {
      const bytes = onnxModel({
        nodes: [makeNode('Concat', ['a', 'b'], ['y'], { axis: attr.int(axis) })],
        inputs: [['a', [2, 3, 2, 2]], ['b', [2, 2, 2, 2]]],
        outputs: [['y', [2, 5, 2, 2]]],
      });
      const a = iota(24);
      const b = iota(16).map((v) => 100 + v);
      const { model, outputs } = runOnnx(bytes, [a, b]);
      expect(model.graph.nodes.map((n) => n.op)).toEqual(['concat']);
      expectClose(outputs[0], [...a.subarray(0, 12), ...b.subarray(0, 8), ...a.subarray(12), ...b.subarray(8)]);
    }
  });

  it('Concat along a spatial axis or of a constant is refused naming the node', () => {
    const spatial = onnxModel({ nodes: [makeNode('Concat', ['a', 'a'], ['y'], { axis: attr.int(2) }, 'cat')], inputs: [['a', [1, 2, 2, 2]]], outputs: [['y', null]] });
    expect(thrown(() => loadOnnx(spatial)).message).toMatch(/node 0 'cat' \(Concat\): Concat along axis 2 .* channel axis \(1\) only/);
    const constant = onnxModel({
      nodes: [makeNode('Concat', ['a', 'k'], ['y'], { axis: attr.int(1) })],
      inputs: [['a', [1, 2, 1, 1]]],
      outputs: [['y', null]],
      initializers: [makeTensor('k', [1, 1, 1, 1], [5])],
    });
    expect(thrown(() => loadOnnx(constant))).toBeInstanceOf(UnsupportedOpError);
  });

  it('Split with the opset 11 attribute, the opset 13 input and equal parts (ShuffleNet chunk)', () => {
    const x = iota(2 * 6 * 2 * 1);
    const byAttr = onnxModel({
      opset: 11,
      nodes: [makeNode('Split', ['x'], ['p', 'q'], { axis: attr.int(1), split: attr.ints([1, 5]) })],
      inputs: [['x', [2, 6, 2, 1]]],
      outputs: [['p', [2, 1, 2, 1]], ['q', [2, 5, 2, 1]]],
    });
    const r = runOnnx(byAttr, [x]).outputs;
    expectClose(r[0], [0, 1, 12, 13]);
    expectClose(r[1], [...x.subarray(2, 12), ...x.subarray(14)]);
    const byInput = onnxModel({
      opset: 13,
      nodes: [makeNode('Split', ['x', 's'], ['p', 'q'], { axis: attr.int(-3) })],
      inputs: [['x', [2, 6, 2, 1]]],
      outputs: [['p', null], ['q', null]],
      initializers: [ints('s', [1, 5])],
    });
    expect(runOnnx(byInput, [x]).outputs).toEqual(r);
    const chunk = onnxModel({ opset: 13, nodes: [makeNode('Split', ['x'], ['p', 'q'], { axis: attr.int(1) })], inputs: [['x', [2, 6, 2, 1]]], outputs: [['p', null], ['q', null]] });
    const halves = runOnnx(chunk, [x]).outputs;
    expectClose(halves[0], [...x.subarray(0, 6), ...x.subarray(12, 18)]);
    const uneven = onnxModel({ opset: 18, nodes: [makeNode('Split', ['x'], ['p', 'q'], { axis: attr.int(1), num_outputs: attr.int(2) })], inputs: [['x', [1, 5, 1, 1]]], outputs: [['p', null], ['q', null]] });
    const parts = runOnnx(uneven, [iota(5)]).outputs;
    expectClose(parts[0], [0, 1, 2]);
    expectClose(parts[1], [3, 4]);
  });

  it('Slice of a channel range (opset 9 attributes, opset 13 inputs with clamped and negative bounds)', () => {
    const x = iota(2 * 7 * 1 * 2);
    const want = [...x.subarray(4, 10), ...x.subarray(18, 24)];
    const old = onnxModel({ opset: 9, nodes: [makeNode('Slice', ['x'], ['y'], { starts: attr.ints([2]), ends: attr.ints([5]), axes: attr.ints([1]) })], inputs: [['x', [2, 7, 1, 2]]], outputs: [['y', null]] });
    expectClose(runOnnx(old, [x]).outputs[0], want);
    const bytes = onnxModel({
      nodes: [makeNode('Slice', ['x', 'st', 'en', 'ax', 'sp'], ['y'])],
      inputs: [['x', [2, 7, 1, 2]]],
      outputs: [['y', [2, 3, 1, 2]]],
      initializers: [ints('st', [0, -5, 0]), ints('en', [1e9, 5, 2]), ints('ax', [0, 1, -1]), ints('sp', [1, 1, 1])],
    });
    const { model, outputs } = runOnnx(bytes, [x]);
    expect(model.graph.nodes.map((n) => n.op)).toEqual(['sliceChannels']);
    expectClose(outputs[0], want);
    const spatial = onnxModel({ nodes: [makeNode('Slice', ['x', 'st', 'en', 'ax'], ['y'])], inputs: [['x', [1, 2, 4, 4]]], outputs: [['y', null]], initializers: [ints('st', [1]), ints('en', [3]), ints('ax', [2])] });
    expect(thrown(() => loadOnnx(spatial)).message).toMatch(/slicing axis 2 .* channel range \(axis 1, step 1\) only/);
    const stepped = onnxModel({ nodes: [makeNode('Slice', ['x', 'st', 'en', 'ax', 'sp'], ['y'])], inputs: [['x', [1, 6, 1, 1]]], outputs: [['y', null]], initializers: [ints('st', [0]), ints('en', [6]), ints('ax', [1]), ints('sp', [2])] });
    expect(thrown(() => loadOnnx(stepped))).toBeInstanceOf(UnsupportedOpError);
  });
});

describe('export', () => {
  it('concat and sliceChannels export as Concat and Slice and load back to the same values', () => {
    const b = new GraphBuilder();
    const x = b.input('x', [2, 7, 2, 3]);
    b.output(b.concat([b.sliceChannels(x, 4, 3), x, b.sliceChannels(x, 1, 2)]));
    const g = b.build();
    const data = iota(84);
    const back = loadOnnx(exportOnnx(g));
    expect(back.graph.nodes.map((n) => n.op)).toEqual(['sliceChannels', 'sliceChannels', 'concat']);
    expect(runGraphReference(back.graph, [data])).toEqual(runGraphReference(g, [data]));
  });
});
