/**
 * ONNX Gather / Unsqueeze / Squeeze of computed tensors and ShuffleNet's channel shuffle: ONNX's backend node
 * tests where webcnn supports the case (CPU reference against the test's outputs) and a one-line typed error
 * where it does not; GoogLeNet's `transform_input` and the shuffle pattern on tiny written models.
 */
import { describe, expect, it } from 'vitest';
import { ModelFormatError, UnsupportedOpError } from '../../errors.ts';
import { runGraphReference } from '../../reference/index.ts';
import { nodeTestsMatching } from '../../../test/helpers/onnx-node-tests.ts';
import { expectClose, expectNodeTestOnReference, onnxModel, runOnnx, thrown } from '../../../test/onnx-helpers.ts';
import { GraphBuilder } from '../../graph/builder.ts';
import { exportOnnx } from './export.ts';
import { loadOnnx } from './loader.ts';
import { DataType, attr, makeNode, makeTensor } from './index.ts';

/** The node tests webcnn runs; every other gather / squeeze / unsqueeze test must be refused with a typed error. */
const SUPPORTED = new Set(['test_unsqueeze_axis_3']);
// The others take their indices or axes as runtime int64 graph inputs, gather along axis 0 (GatherElements,
// GatherND: other ops), or make rank-5/6 values.

const nodeTests = nodeTestsMatching(/^test_(gather|squeeze|unsqueeze)/);

describe('ONNX node tests (Gather, Squeeze, Unsqueeze)', () => {
  it('are installed (libonnx-testdata)', () => {
    expect(nodeTests.length).toBeGreaterThan(10);
  });
  for (const name of nodeTests) {
    it(name, () => {
      expectNodeTestOnReference(name, SUPPORTED.has(name));
    });
  }
});

const iota = (n: number) => Float32Array.from({ length: n }, (_, i) => i);
const ints = (name: string, dims: number[], v: number[]) => makeTensor(name, dims, v, DataType.INT64);
/** Channel `c` of an NCHW `[n, channels, hw]` array, per batch. */
const channel = (x: Float32Array, n: number, channels: number, hw: number, c: number) =>
  Array.from({ length: n }, (_, b) => Array.from(x.subarray((b * channels + c) * hw, (b * channels + c + 1) * hw))).flat();

describe('Gather on the channel axis', () => {
  it("GoogLeNet's transform_input: x[:, k] -> Unsqueeze -> Mul/Add -> Concat costs slices only", () => {
    const scale = [0.5, 2, -1];
    const nodes = [0, 1, 2].flatMap((k) => [
      makeNode('Gather', ['x', `i${k}`], [`g${k}`], { axis: attr.int(1) }),
      makeNode('Unsqueeze', [`g${k}`, 'ax'], [`u${k}`]),
      makeNode('Mul', [`u${k}`, `s${k}`], [`m${k}`]),
      makeNode('Add', [`m${k}`, `b${k}`], [`a${k}`]),
    ]);
    const bytes = onnxModel({
      nodes: [...nodes, makeNode('Concat', ['a0', 'a1', 'a2'], ['y'], { axis: attr.int(1) })],
      inputs: [['x', [2, 3, 2, 2]]],
      outputs: [['y', [2, 3, 2, 2]]],
      initializers: [
        ints('ax', [1], [1]),
        ...[0, 1, 2].flatMap((k) => [ints(`i${k}`, [], [k]), makeTensor(`s${k}`, [], [scale[k]]), makeTensor(`b${k}`, [], [k])]),
      ],
    });
    const x = iota(24).map((v) => v - 7);
    const { model, outputs } = runOnnx(bytes, [x]);
    expect(model.graph.nodes.some((n) => n.op === 'reshape' || n.op === 'flatten')).toBe(false);
    const want = [0, 1].flatMap((b) => [0, 1, 2].flatMap((k) => channel(x, 2, 3, 4, k).slice(b * 4, b * 4 + 4).map((v) => v * scale[k] + k)));
    expectClose(outputs[0], want);
  });

  it('a 1-D index list (negative, repeated, out of order) becomes slices of runs and a concat', () => {
    const bytes = onnxModel({
      nodes: [makeNode('Gather', ['x', 'i'], ['y'], { axis: attr.int(-3) })],
      inputs: [['x', [1, 5, 1, 2]]],
      outputs: [['y', [1, 4, 1, 2]]],
      initializers: [ints('i', [4], [3, 4, -5, 0])],
    });
    const { model, outputs } = runOnnx(bytes, [iota(10)]);
    expect(model.graph.nodes.filter((n) => n.op === 'sliceChannels')).toHaveLength(3);
    expectClose(outputs[0], [6, 7, 8, 9, 0, 1, 0, 1]);
  });

  it('other axes, 2-D indices and runtime indices are refused naming the node', () => {
    const spatial = onnxModel({
      nodes: [makeNode('Gather', ['x', 'i'], ['y'], { axis: attr.int(2) }, 'g')],
      inputs: [['x', [1, 2, 3, 1]]],
      outputs: [['y', null]],
      initializers: [ints('i', [], [0])],
    });
    const e = thrown(() => loadOnnx(spatial));
    expect(e).toBeInstanceOf(UnsupportedOpError);
    expect(e.message).toMatch(/node 0 'g' \(Gather\): gathering axis 2 .* channel axis \(1\) only/);
    const matrix = onnxModel({
      nodes: [makeNode('Gather', ['x', 'i'], ['y'], { axis: attr.int(1) })],
      inputs: [['x', [1, 2, 3, 1]]],
      outputs: [['y', null]],
      initializers: [ints('i', [1, 2], [0, 1])],
    });
    expect(thrown(() => loadOnnx(matrix))).toBeInstanceOf(UnsupportedOpError);
    const outOfRange = onnxModel({
      nodes: [makeNode('Gather', ['x', 'i'], ['y'], { axis: attr.int(1) })],
      inputs: [['x', [1, 2, 3, 1]]],
      outputs: [['y', null]],
      initializers: [ints('i', [], [2])],
    });
    expect(thrown(() => loadOnnx(outOfRange))).toBeInstanceOf(ModelFormatError);
  });
});

describe('Unsqueeze / Squeeze of computed tensors', () => {
  it('opset 11 attribute and opset 13 input axes reshape (free where the IR shape agrees)', () => {
    const x = iota(6);
    const old = onnxModel({
      opset: 11,
      nodes: [makeNode('Squeeze', ['x'], ['s'], { axes: attr.ints([1]) }), makeNode('Unsqueeze', ['s'], ['y'], { axes: attr.ints([-1]) })],
      inputs: [['x', [2, 1, 3]]],
      outputs: [['y', [2, 3, 1]]],
    });
    const r = runOnnx(old, [x]);
    expectClose(r.outputs[0], x);
    expect(r.model.outputDims).toEqual([[2, 3, 1]]);
    const byInput = onnxModel({
      nodes: [makeNode('Unsqueeze', ['x', 'a'], ['u']), makeNode('Squeeze', ['u'], ['y'])],
      inputs: [['x', [3, 2]]],
      outputs: [['y', [3, 2]]],
      initializers: [ints('a', [2], [0, 3])],
    });
    const s = runOnnx(byInput, [x]);
    expectClose(s.outputs[0], x);
  });

  it('a squeeze of a dim that is not 1 and a rank-5 result are refused', () => {
    const notOne = onnxModel({ nodes: [makeNode('Squeeze', ['x', 'a'], ['y'])], inputs: [['x', [1, 2, 1, 1]]], outputs: [['y', null]], initializers: [ints('a', [1], [1])] });
    expect(thrown(() => loadOnnx(notOne))).toBeInstanceOf(ModelFormatError);
    const rank5 = onnxModel({ nodes: [makeNode('Unsqueeze', ['x', 'a'], ['y'])], inputs: [['x', [1, 2, 1, 1]]], outputs: [['y', null]], initializers: [ints('a', [1], [0])] });
    const e = thrown(() => loadOnnx(rank5));
    expect(e).toBeInstanceOf(UnsupportedOpError);
    expect(e.message).not.toContain('\n');
  });
});

/** ShuffleNet's channel shuffle of `[n, c, h, w]` with `groups`, then `after` nodes reading 's'. */
function shuffleModel(dims: number[], groups: number, after: ReturnType<typeof makeNode>[], outputs: [string, number[] | null][], initializers: ReturnType<typeof makeTensor>[] = []) {
  const [n, c, h, w] = dims;
  return onnxModel({
    nodes: [
      makeNode('Reshape', ['x', 'to5'], ['r']),
      makeNode('Transpose', ['r'], ['t'], { perm: attr.ints([0, 2, 1, 3, 4]) }),
      makeNode('Reshape', ['t', 'to4'], ['s']),
      ...after,
    ],
    inputs: [['x', dims]],
    outputs,
    initializers: [ints('to5', [5], [n, groups, c / groups, h, w]), ints('to4', [4], [n, -1, h, w]), ...initializers],
  });
}

/** The shuffle of `x` `[n, c, hw]` by numpy's rule: out channel j * g + k = in channel k * (c / g) + j. */
function shuffled(x: Float32Array, n: number, c: number, hw: number, groups: number): number[] {
  const size = c / groups;
  const out: number[] = [];
  for (let b = 0; b < n; b++) for (let j = 0; j < size; j++) for (let k = 0; k < groups; k++) out.push(...channel(x, n, c, hw, k * size + j).slice(b * hw, (b + 1) * hw));
  return out;
}

describe('channel shuffle (Reshape 5-D -> Transpose -> Reshape)', () => {
  it('is a shuffleChannels node, exact, for 2 and 3 groups and batch 2', () => {
    for (const groups of [2, 3]) {
      const bytes = shuffleModel([2, 6, 2, 1], groups, [], [['s', [2, 6, 2, 1]]]);
      const x = iota(24).map((v) => v * 1.5 - 3);
      const { model, outputs } = runOnnx(bytes, [x]);
      expect(model.graph.nodes.map((n) => n.op)).toEqual(['shuffleChannels']);
      expect(Array.from(outputs[0])).toEqual(shuffled(x, 2, 6, 2, groups));
    }
  });

  it('folds into a dense conv that is its only reader, not into a depthwise one', () => {
    const weight = Float32Array.from({ length: 3 * 4 * 3 * 3 }, (_, i) => Math.sin(i + 1));
    const conv = (groups: number, out: number) =>
      shuffleModel([1, 4, 3, 3], 2, [makeNode('Conv', ['s', 'w'], ['y'], { kernel_shape: attr.ints([3, 3]), pads: attr.ints([1, 1, 1, 1]), group: attr.int(groups) })], [['y', null]], [
        makeTensor('w', [out, 4 / groups, 3, 3], weight.subarray(0, out * (4 / groups) * 9)),
      ]);
    const x = iota(36).map((v) => Math.cos(v));
    const plain = onnxModel({
      nodes: [makeNode('Conv', ['x', 'w'], ['y'], { kernel_shape: attr.ints([3, 3]), pads: attr.ints([1, 1, 1, 1]) })],
      inputs: [['x', [1, 4, 3, 3]]],
      outputs: [['y', null]],
      initializers: [makeTensor('w', [3, 4, 3, 3], weight)],
    });
    const dense = runOnnx(conv(1, 3), [x]);
    expect(dense.model.graph.nodes.map((n) => n.op)).toEqual(['conv2d']);
    const shuffledInput = Float32Array.from(shuffled(x, 1, 4, 9, 2));
    expectClose(dense.outputs[0], runOnnx(plain, [shuffledInput]).outputs[0]);
    const depthwise = runOnnx(conv(4, 4), [x]);
    expect(depthwise.model.graph.nodes.map((n) => n.op)).toEqual(['shuffleChannels', 'conv2d']);
  });

  it('other rank-5 reshapes and other transposes are refused naming the node', () => {
    const bytes = onnxModel({
      nodes: [makeNode('Reshape', ['x', 'to5'], ['r'], {}, 'r5'), makeNode('Relu', ['r'], ['y'])],
      inputs: [['x', [1, 4, 1, 1]]],
      outputs: [['y', null]],
      initializers: [ints('to5', [5], [1, 2, 2, 1, 1])],
    });
    const e = thrown(() => loadOnnx(bytes));
    expect(e).toBeInstanceOf(UnsupportedOpError);
    expect(e.message).toMatch(/node 0 'r5' \(Reshape\): reshaping \[1, 4, 1, 1\] to rank 5 .* channel shuffle/);
    const transpose = onnxModel({ nodes: [makeNode('Transpose', ['x'], ['y'], { perm: attr.ints([0, 2, 1, 3]) }, 't')], inputs: [['x', [1, 4, 2, 2]]], outputs: [['y', null]] });
    expect(thrown(() => loadOnnx(transpose)).message).toMatch(/node 0 't' \(Transpose\): perm \[0, 2, 1, 3\] of \[1, 4, 2, 2\] is not supported/);
  });

  it('exports as the same pattern and loads back as one shuffleChannels node', () => {
    const b = new GraphBuilder();
    b.output(b.shuffleChannels(b.input('x', [2, 6, 1, 2]), 3));
    const graph = b.build();
    const back = loadOnnx(exportOnnx(graph));
    expect(back.graph.nodes.map((n) => n.op)).toEqual(['shuffleChannels']);
    const x = iota(24);
    expect(runGraphReference(back.graph, [x])).toEqual(runGraphReference(graph, [x]));
  });
});
