/** Channel concat and slice: shape rules, validation and the CPU reference. */
import { describe, expect, it } from 'vitest';
import { GraphError, ShapeError } from '../errors.ts';
import { concat, runGraphReference, sliceChannels } from '../reference/index.ts';
import { GraphBuilder } from './builder.ts';
import type { GraphNode } from './ir.ts';
import { validateGraph } from './validate.ts';

const iota = (n: number, from = 0): Float32Array => Float32Array.from({ length: n }, (_, i) => from + i);

describe('concat and sliceChannels', () => {
  it('infer shapes and refuse mismatched inputs or ranges', () => {
    const b = new GraphBuilder();
    const x = b.input('x', [2, 3, 4, 5]);
    const y = b.input('y', [2, 6, 4, 5]);
    expect(b.shape(b.concat([x, y, x]))).toEqual([2, 12, 4, 5]);
    expect(b.shape(b.sliceChannels(y, 1, 5))).toEqual([2, 5, 4, 5]);
    expect(() => b.concat([x, b.input('z', [2, 3, 4, 4])])).toThrow(/agree on every axis but channels/);
    expect(() => b.concat([])).toThrow(ShapeError);
    expect(() => b.sliceChannels(y, 4, 3)).toThrow(/not a range of the 6 channels/);
    expect(() => b.sliceChannels(y, 0, 0)).toThrow(ShapeError);
  });

  it('validation checks the concat output shape and the slice range', () => {
    const b = new GraphBuilder();
    const x = b.input('x', [1, 3, 2, 2]);
    b.output(b.concat([x, b.sliceChannels(x, 1, 2)]));
    const g = b.build();
    validateGraph(g);
    const bad = (patch: (n: GraphNode) => GraphNode) => ({ ...g, nodes: g.nodes.map(patch) });
    expect(() => validateGraph(bad((n) => (n.op === 'sliceChannels' ? { ...n, attrs: { start: 2, count: 2 } } : n)))).toThrow(GraphError);
    expect(() => validateGraph(bad((n) => (n.op === 'concat' ? { ...n, inputs: [x, x, x] } : n)))).toThrow(/gives \[1, 9, 2, 2\]/);
    expect(() => validateGraph(bad((n) => (n.op === 'concat' ? { ...n, inputs: [] } : n)))).toThrow(/at least 1 input/);
  });

  it('the reference concatenates per batch item and slices channel planes', () => {
    // Batch 2, a: 1 channel, b: 2 channels, 1x2 maps.
    const a = iota(4, 100);
    const bb = iota(8);
    const r = concat([a, bb], [[2, 1, 1, 2], [2, 2, 1, 2]]);
    expect(r.shape).toEqual([2, 3, 1, 2]);
    expect(Array.from(r.data)).toEqual([100, 101, 0, 1, 2, 3, 102, 103, 4, 5, 6, 7]);
    const s = sliceChannels(r.data, r.shape, 1, 2);
    expect(Array.from(s.data)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(() => concat([a], [[2, 2, 1, 2]])).toThrow(ShapeError);
  });

  it('a split and a concat back is the identity in the graph reference', () => {
    const b = new GraphBuilder();
    const x = b.input('x', [2, 7, 2, 3]);
    b.output(b.concat([b.sliceChannels(x, 0, 3), b.sliceChannels(x, 3, 4)]));
    const data = iota(84);
    expect(Array.from(runGraphReference(b.build(), [data])[0])).toEqual(Array.from(data));
  });
});
