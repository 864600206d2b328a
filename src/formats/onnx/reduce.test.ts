/**
 * ReduceMean / ReduceMax over the spatial axes (attribute form and opset 18's axes input) and over the channel axis, early opsets read
 * where their semantics match and refused where they differ, and graphs whose nodes all fold away.
 */
import { describe, expect, it } from 'vitest';
import { UnsupportedOpError } from '../../errors.ts';
import { Rng, expectClose, onnxModel, randomNd, runOnnx, thrown } from '../../../test/onnx-helpers.ts';
import type { Nd } from '../../../test/onnx-helpers.ts';
import { DataType, attr, loadOnnx, makeNode, makeTensor } from './index.ts';

const rng = new Rng(16);

/** Mean or max of a rank-4 `x` over any `axes`, keeping every axis (NCHW order). */
function reduceAxes(kind: 'mean' | 'max', x: Nd, axes: readonly number[]): number[] {
  const dims = x.dims;
  const outDims = dims.map((d, a) => (axes.includes(a) ? 1 : d));
  const groups = new Map<number, number[]>();
  for (let i = 0; i < x.data.length; i++) {
    let rest = i;
    let key = 0;
    const coord = [0, 0, 0, 0];
    for (let a = 3; a >= 0; a--) {
      coord[a] = rest % dims[a];
      rest = Math.floor(rest / dims[a]);
    }
    for (let a = 0; a < 4; a++) key = key * outDims[a] + (axes.includes(a) ? 0 : coord[a]);
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(x.data[i]);
  }
  return [...groups.keys()].sort((p, q) => p - q).map((k) => {
    const v = groups.get(k)!;
    return kind === 'max' ? Math.max(...v) : v.reduce((p, q) => p + q, 0) / v.length;
  });
}

describe('ReduceMean and ReduceMax', () => {
  const x = randomNd(rng, [2, 3, 5, 4]);

  it('over H and W, H alone, W alone (negative axes too), keepdims 1 and 0, at opsets 1, 13 and 18', () => {
    const cases = [
      { axes: [2, 3], keep: 1, dims: [2, 3, 1, 1] },
      { axes: [-1, -2], keep: 0, dims: [2, 3] },
      { axes: [2], keep: 1, dims: [2, 3, 1, 4] },
      { axes: [2], keep: 0, dims: [2, 3, 4] },
      { axes: [3], keep: 0, dims: [2, 3, 5] },
    ];
    for (const op of ['ReduceMean', 'ReduceMax'] as const) {
      const kind = op === 'ReduceMean' ? 'mean' : 'max';
      for (const c of cases) {
        for (const opset of [1, 13, 18]) {
          const node =
            opset >= 18
              ? makeNode(op, ['x', 'axes'], ['y'], { keepdims: attr.int(c.keep) })
              : makeNode(op, ['x'], ['y'], { axes: attr.ints(c.axes), keepdims: attr.int(c.keep) });
          const inits = opset >= 18 ? [makeTensor('axes', [c.axes.length], c.axes, DataType.INT64)] : [];
          const bytes = onnxModel({ opset, nodes: [node], inputs: [['x', x.dims]], outputs: [['y', null]], initializers: inits });
          const { model, outputs } = runOnnx(bytes, [x.data]);
          const where = `${op} ${JSON.stringify(c)} opset ${opset}`;
          expect(model.outputDims, where).toEqual([c.dims]);
          const axes = c.axes.map((a) => (a < 0 ? a + 4 : a));
          expectClose(outputs[0], reduceAxes(kind, x, axes));
          const want = kind === 'mean' && axes.length === 2 ? 'globalAvgPool' : kind === 'max' ? 'maxPool' : 'avgPool';
          expect(model.graph.nodes[0].op, where).toBe(want);
        }
      }
    }
  });

  it('rank 3 over its one spatial axis; axes of size 1 (and the default: every axis) cost nothing', () => {
    const r3 = randomNd(rng, [2, 3, 7]);
    const { outputs } = runOnnx(
      onnxModel({ nodes: [makeNode('ReduceMax', ['x'], ['y'], { axes: attr.ints([2]), keepdims: attr.int(0) })], inputs: [['x', r3.dims]], outputs: [['y', null]] }),
      [r3.data],
    );
    expectClose(outputs[0], reduceAxes('max', { dims: [2, 3, 7, 1], data: r3.data }, [2]));
    const one = randomNd(rng, [1, 1, 3, 4]);
    const all = runOnnx(onnxModel({ nodes: [makeNode('ReduceMean', ['x'], ['y'], { keepdims: attr.int(0) })], inputs: [['x', one.dims]], outputs: [['y', null]] }), [one.data]);
    expect(all.model.outputDims).toEqual([[]]);
    expectClose(all.outputs[0], reduceAxes('mean', one, [2, 3]));
  });

  it('over the channel axis and runs of adjacent axes through a pooled view; non-adjacent axes are refused', () => {
    for (const op of ['ReduceMean', 'ReduceMax'] as const) {
      for (const axes of [[1], [1, 2], [0, 1], [1, 2, 3]]) {
        const bytes = onnxModel({ nodes: [makeNode(op, ['x'], ['y'], { axes: attr.ints(axes) })], inputs: [['x', x.dims]], outputs: [['y', null]] });
        const { model, outputs } = runOnnx(bytes, [x.data]);
        const dims = x.dims.map((d, a) => (axes.includes(a) ? 1 : d));
        expect(model.outputDims).toEqual([dims]);
        expectClose(outputs[0], reduceAxes(op === 'ReduceMean' ? 'mean' : 'max', x, axes));
      }
    }
    const bytes = onnxModel({ nodes: [makeNode('ReduceMean', ['x'], ['y'], { axes: attr.ints([0, 2]) })], inputs: [['x', x.dims]], outputs: [['y', null]] });
    const e = thrown(() => loadOnnx(bytes));
    expect(e).toBeInstanceOf(UnsupportedOpError);
    expect(e.message).toMatch(/^node 0 \(unnamed ReduceMean\): ReduceMean over the non-adjacent axes \[0, 2\] of \[2, 3, 5, 4\]/);
    expect(e.message).not.toContain('\n');
  });

  it('opset 18 noop_with_empty_axes passes the input through', () => {
    const noop = onnxModel({
      opset: 18,
      nodes: [makeNode('ReduceMean', ['x'], ['y'], { noop_with_empty_axes: attr.int(1) })],
      inputs: [['x', x.dims]],
      outputs: [['y', null]],
    });
    expect(runOnnx(noop, [x.data]).outputs[0]).toEqual(x.data);
  });
});

describe('early opsets', () => {
  const x = randomNd(rng, [1, 2, 3, 3]);
  const model = (opset: number, nodes: ReturnType<typeof makeNode>[], inits: ReturnType<typeof makeTensor>[] = []) =>
    onnxModel({ opset, nodes, inputs: [['x', x.dims]], outputs: [['y', null]], initializers: inits });

  it('GlobalAveragePool, Relu, Flatten and Softmax at opset 1 load as at opset 13', () => {
    const nodes = [makeNode('GlobalAveragePool', ['x'], ['g']), makeNode('Relu', ['g'], ['r']), makeNode('Flatten', ['r'], ['f']), makeNode('Softmax', ['f'], ['y'])];
    expect(runOnnx(model(1, nodes), [x.data]).outputs).toEqual(runOnnx(model(13, nodes), [x.data]).outputs);
  });

  it('Reshape with its shape attribute (opset < 5) and Pad with paddings (opset 1)', () => {
    const reshaped = runOnnx(model(4, [makeNode('Reshape', ['x'], ['y'], { shape: attr.ints([1, 18]) })]), [x.data]);
    expect(reshaped.model.outputDims).toEqual([[1, 18]]);
    const padded = runOnnx(model(1, [makeNode('Pad', ['x'], ['y'], { paddings: attr.ints([0, 0, 1, 0, 0, 0, 0, 1]) })]), [x.data]);
    expect(padded.model.outputDims).toEqual([[1, 2, 4, 4]]);
  });

  it('refuses what an early version means differently: legacy broadcast at an inner axis, is_test=0', () => {
    const b = makeTensor('b', [2], [1, 2]);
    const add = makeNode('Add', ['x', 'b'], ['y'], { broadcast: attr.int(1), axis: attr.int(1) });
    expect(() => loadOnnx(model(6, [add], [b]))).toThrow(/node 0 \(unnamed Add\): legacy broadcast of \[2\] at axis 1/);
    const last = makeTensor('b', [2, 1, 1], [1, 2]);
    expect(loadOnnx(model(6, [makeNode('Add', ['x', 'b'], ['y'], { broadcast: attr.int(1) })], [last])).outputDims).toEqual([[1, 2, 3, 3]]);
    expect(() => loadOnnx(model(6, [makeNode('Dropout', ['x'], ['y'])]))).toThrow(/is_test=0 \(training mode, opset 6\)/);
    expect(loadOnnx(model(6, [makeNode('Dropout', ['x'], ['y'], { is_test: attr.int(1) })])).outputDims).toEqual([[1, 2, 3, 3]]);
  });
});

describe('graphs whose nodes all fold away', () => {
  it('keep their input and output names (a copy node carries the output)', () => {
    const bytes = onnxModel({
      nodes: [makeNode('Identity', ['x'], ['y']), makeNode('Dropout', ['x'], ['z'])],
      inputs: [['x', [1, 2, 3, 3]]],
      outputs: [['y', null], ['z', null]],
    });
    const m = loadOnnx(bytes);
    const names = (ids: readonly number[]) => ids.map((id) => m.graph.tensors[id].name);
    expect(names(m.graph.inputs)).toEqual(['x']);
    expect(names(m.graph.outputs)).toEqual(['y', 'z']);
  });
});
