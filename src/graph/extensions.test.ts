/**
 * IR extensions for model loaders: general reshape, spatial pad, broadcasting add and softmax over axes,
 * through builder shape inference, validation, the CPU reference, fusion passes and lowering.
 */
import { describe, expect, it } from 'vitest';
import { GraphError, ShapeError } from '../errors.ts';
import { addBroadcast, pad, reshape, runGraphReference, softmax } from '../reference/index.ts';
import { isAliasNode, lowerGraph } from '../runtime/lowering.ts';
import { GraphBuilder } from './builder.ts';
import type { Graph, GraphNode, Shape4 } from './ir.ts';
import { RELU } from './ir.ts';
import { optimizeGraph } from './passes/index.ts';
import { validateGraph } from './validate.ts';

const iota = (n: number, scale = 1): Float32Array => Float32Array.from({ length: n }, (_, i) => i * scale);

function single(shape: Shape4, f: (b: GraphBuilder, x: number) => number): Graph {
  const b = new GraphBuilder();
  b.output(f(b, b.input('x', shape)));
  return b.build();
}

function withNode(g: Graph, patch: Partial<GraphNode>): Graph {
  return { ...g, nodes: g.nodes.map((n, i) => (i === g.nodes.length - 1 ? ({ ...n, ...patch } as GraphNode) : n)) };
}

describe('builder shape inference and validation', () => {
  it('reshape keeps the element count', () => {
    const g = single([2, 3, 4, 5], (b, x) => b.reshape(x, [6, 4, 5, 1]));
    expect(g.tensors[g.outputs[0]].shape).toEqual([6, 4, 5, 1]);
    expect(() => single([2, 3, 4, 5], (b, x) => b.reshape(x, [2, 3, 4, 4]))).toThrow(ShapeError);
    expect(() => validateGraph(withNode(g, { attrs: { shape: [6, 4, 5, 2] } } as Partial<GraphNode>))).toThrow(GraphError);
  });

  it('pad adds (or with negative pads removes) rows and columns', () => {
    const g = single([1, 2, 4, 5], (b, x) => b.pad(x, { pads: [1, -2, 0, 3], value: 2 }));
    expect(g.tensors[g.outputs[0]].shape).toEqual([1, 2, 5, 6]);
    expect(() => single([1, 2, 4, 5], (b, x) => b.pad(x, { pads: [-2, 0, -2, 0] }))).toThrow(/leave nothing/);
    expect(() => validateGraph(withNode(g, { attrs: { pads: [1, -2, 0, 4], value: 2 } } as Partial<GraphNode>))).toThrow(GraphError);
  });

  it('add broadcasts NumPy-style and rejects incompatible shapes with the usual message', () => {
    const b = new GraphBuilder();
    const x = b.input('x', [2, 3, 1, 5]);
    const y = b.input('y', [1, 3, 4, 1]);
    const s = b.add(x, y, 'add', RELU);
    expect(b.shape(s)).toEqual([2, 3, 4, 5]);
    b.output(s);
    const g = b.build();
    validateGraph(g);
    const z = new GraphBuilder();
    expect(() => z.add(z.input('a', [1, 3, 2, 2]), z.input('b', [1, 4, 2, 2]))).toThrow(/add operands differ in shape.*do not broadcast/);
    expect(() => validateGraph({ ...g, tensors: g.tensors.map((t) => (t.id === y ? { ...t, shape: [1, 2, 4, 1] } : t)) })).toThrow(
      /add operands differ in shape, \[2, 3, 1, 5\] vs \[1, 2, 4, 1\]/,
    );
  });

  it('softmax with axes takes any shape; without axes it still needs a flat tensor', () => {
    const g = single([2, 3, 4, 5], (b, x) => b.softmax(x, 'sm', [1, 1]));
    validateGraph(g);
    expect(() => single([2, 3, 4, 5], (b, x) => b.softmax(x, 'sm'))).toThrow(/flat/);
    expect(() => single([2, 3, 4, 5], (b, x) => b.softmax(x, 'sm', [2, 1]))).toThrow(ShapeError);
    expect(() => validateGraph(withNode(g, { attrs: { axes: [0, 4] } } as Partial<GraphNode>))).toThrow(GraphError);
  });
});

describe('CPU reference', () => {
  it('reshape copies in NCHW order', () => {
    const r = reshape(iota(24), [1, 2, 3, 4], [2, 3, 4, 1]);
    expect(r.shape).toEqual([2, 3, 4, 1]);
    expect(Array.from(r.data)).toEqual(Array.from(iota(24)));
  });

  it('pad and crop', () => {
    // [[0, 1, 2], [3, 4, 5]] padded top 1, left 1, right 1 with 9, then cropped.
    expect(Array.from(pad(iota(6), [1, 1, 2, 3], [1, 1, 0, 1], 9).data)).toEqual([9, 9, 9, 9, 9, 9, 0, 1, 2, 9, 9, 3, 4, 5, 9]);
    expect(Array.from(pad(iota(6), [1, 1, 2, 3], [0, -1, 0, -1], 9).data)).toEqual([1, 4]);
  });

  it('broadcasting add with activation', () => {
    const r = addBroadcast(iota(6), [1, 2, 1, 3], Float32Array.from([10, -10]), [2, 1, 1, 1], RELU);
    expect(r.shape).toEqual([2, 2, 1, 3]);
    expect(Array.from(r.data)).toEqual([10, 11, 12, 13, 14, 15, 0, 0, 0, 0, 0, 0]);
  });

  it('softmax over the channels of a map, the spatial plane and the batch', () => {
    const x = Float32Array.from([0, 1, Math.log(3), 0]); // [1, 2, 1, 2]: channel 0 = [0, 1], channel 1 = [ln 3, 0]
    const channels = softmax(x, [1, 2, 1, 2], 'sm', [1, 1]).data;
    [1 / 4, Math.E / (Math.E + 1), 3 / 4, 1 / (Math.E + 1)].forEach((v, i) => expect(channels[i]).toBeCloseTo(v, 6));
    const plane = softmax(x, [1, 2, 1, 2], 'sm', [2, 3]).data;
    expect(plane[0] + plane[1]).toBeCloseTo(1, 6);
    expect(plane[2]).toBeCloseTo(3 / 4, 6);
    const batch = softmax(x, [2, 2, 1, 1], 'sm', [0, 0]).data;
    expect(batch[0]).toBeCloseTo(1 / (1 + 3), 6);
    expect(batch[1]).toBeCloseTo(Math.E / (Math.E + 1), 6);
  });

  it('runGraphReference evaluates the new nodes', () => {
    const b = new GraphBuilder();
    const x = b.input('x', [1, 2, 2, 2]);
    const p = b.pad(x, { pads: [0, 1, 0, 0], value: -1 });
    const r = b.reshape(p, [1, 2, 6, 1]);
    const s = b.add(r, b.input('y', [1, 1, 6, 1]));
    b.output(b.softmax(s, 'sm', [2, 2]));
    const [out] = runGraphReference(b.build(), [iota(8), new Float32Array(6)]);
    expect(out.length).toBe(12);
    expect(out.slice(0, 6).reduce((a, v) => a + v, 0)).toBeCloseTo(1, 6);
  });
});

describe('passes and lowering', () => {
  it('a broadcasting add is no residual: the conv keeps its own epilogue', () => {
    const b = new GraphBuilder();
    const x = b.input('x', [1, 2, 3, 3]);
    const c = b.conv2d(x, { outChannels: 2, kernel: 1, weight: iota(4) });
    b.output(b.relu(b.add(c, b.input('bias', [1, 2, 1, 1]))));
    const g = optimizeGraph(b.build());
    expect(g.nodes.map((n) => n.op)).toEqual(['conv2d', 'add']);
    expect(g.nodes[0].inputs).toHaveLength(1);
    expect(g.nodes[1].attrs).toEqual({ activation: RELU });
  });

  it('reshapes that keep n, c and h*w are aliases; others gather', () => {
    const cases: [Shape4, Shape4, boolean][] = [
      [[1, 4, 3, 2], [1, 4, 6, 1], true],
      [[1, 4, 3, 2], [1, 4, 1, 6], true],
      [[1, 4, 3, 2], [1, 8, 3, 1], false],
      [[2, 4, 1, 1], [1, 8, 1, 1], false],
    ];
    for (const [from, to, alias] of cases) {
      const g = single(from, (b, x) => b.reshape(x, to));
      expect(isAliasNode(g, g.nodes[0]), `${from} -> ${to}`).toBe(alias);
      const keys = lowerGraph(g).map((s) => s.program.key);
      expect(keys).toEqual(alias ? ['layout/pack-nchw', 'layout/unpack-nchw'] : ['layout/pack-nchw', 'layout/reshape', 'layout/unpack-nchw']);
    }
  });

  it('kernels for pad, broadcast add and softmax over axes; flat channel softmax keeps the reduction kernel', () => {
    const key = (g: Graph) => lowerGraph(g).slice(g.inputs.length, -g.outputs.length).map((s) => s.program.key);
    expect(key(single([1, 2, 3, 3], (b, x) => b.pad(x, { pads: [1, 1, 1, 1] })))).toEqual(['pad/constant']);
    expect(key(single([1, 2, 3, 3], (b, x) => b.softmax(x, 'sm', [1, 1])))).toEqual(['softmax/axes']);
    expect(key(single([1, 7, 1, 1], (b, x) => b.softmax(x, 'sm', [1, 3])))).toEqual(['softmax']);
    expect(key(single([1, 7, 1, 1], (b, x) => b.softmax(x, 'sm', [0, 3])))).toEqual(['softmax']);
    expect(key(single([2, 7, 1, 1], (b, x) => b.softmax(x, 'sm', [0, 1])))).toEqual(['softmax/axes']);
    const b = new GraphBuilder();
    b.output(b.add(b.input('a', [1, 3, 2, 2]), b.input('b', [1, 1, 2, 2])));
    expect(key(b.build())).toEqual(['elementwise/broadcast-add']);
  });
});
