import { describe, expect, it } from 'vitest';
import { runGraphReference } from '../../reference/index.ts';
import { Rng } from '../../util/random.ts';
import { GraphBuilder } from '../builder.ts';
import type { Graph } from '../ir.ts';
import { elementCount } from '../ir.ts';
import { validateGraph } from '../validate.ts';
import { absorbPads } from './absorb-pads.ts';

const w = (n: number): Float32Array => new Rng(3).fill(n, -1, 1);

function expectSameOutputs(a: Graph, b: Graph): void {
  const x = new Rng(5).fill(elementCount(a.tensors[a.inputs[0]].shape), -2, 2);
  const [ya] = runGraphReference(a, [x]);
  const [yb] = runGraphReference(b, [x]);
  expect(Array.from(yb)).toEqual(Array.from(ya));
}

describe('absorbPads', () => {
  it('folds a zero pad into every conv that reads it, drops the pad and its tensor and renumbers the rest', () => {
    const b = new GraphBuilder();
    const x = b.input('x', [1, 2, 5, 5]);
    const p = b.pad(x, { pads: [1, 0, 2, 1] }, 'pad');
    const c1 = b.conv2d(p, { outChannels: 2, kernel: 3, padding: 1, weight: w(36) }, 'c1');
    const c2 = b.conv2d(p, { outChannels: 2, kernel: 1, weight: w(4) }, 'c2');
    b.output(b.add(c1, c2, 'sum'));
    const g = b.build();
    const folded = absorbPads(g);
    validateGraph(folded);
    expect(folded.nodes.map((n) => n.op)).toEqual(['conv2d', 'conv2d', 'add']);
    expect(folded.tensors).toHaveLength(g.tensors.length - 1);
    expect(folded.tensors.every((t, i) => t.id === i)).toBe(true);
    const [f1, f2] = folded.nodes;
    expect(f1.inputs).toEqual([0]);
    expect(f1.op === 'conv2d' && f1.attrs.pads).toEqual([2, 1, 3, 2]);
    expect(f2.op === 'conv2d' && f2.attrs.pads).toEqual([1, 0, 2, 1]);
    expectSameOutputs(g, folded);
  });

  it('folds into pools only where that computes the same: -inf into max, zeros into a counting average', () => {
    const pool = (value: number, op: 'max' | 'avg', o: { ceilMode?: boolean; countIncludePad?: boolean; padding?: number } = {}) => {
      const b = new GraphBuilder();
      const p = b.pad(b.input('x', [1, 1, 6, 6]), { pads: [1, 1, 0, 0], value });
      const opts = { kernel: 3, stride: 2, ...o };
      b.output(op === 'max' ? b.maxPool(p, opts) : b.avgPool(p, opts));
      const g = b.build();
      const folded = absorbPads(g);
      expectSameOutputs(g, folded);
      return folded.nodes.map((n) => n.op).join(' ');
    };
    expect(pool(-Infinity, 'max')).toBe('maxPool');
    expect(pool(0, 'max')).toBe('pad maxPool');
    expect(pool(-Infinity, 'max', { ceilMode: true })).toBe('pad maxPool');
    expect(pool(0, 'avg', { countIncludePad: false })).toBe('avgPool');
    expect(pool(0, 'avg', { padding: 1, countIncludePad: false })).toBe('pad avgPool');
    expect(pool(0, 'avg', { padding: 1, countIncludePad: true })).toBe('avgPool');
  });

  it('keeps a pad that another op also reads, or that is a graph output', () => {
    const b = new GraphBuilder();
    const p = b.pad(b.input('x', [1, 2, 4, 4]), { pads: [1, 1, 1, 1] });
    b.output(b.conv2d(p, { outChannels: 2, kernel: 3, weight: w(36) }));
    b.output(p);
    const folded = absorbPads(b.build());
    expect(folded.nodes.map((n) => n.op)).toEqual(['pad', 'conv2d']);
    expect(folded.nodes[1].inputs).toEqual([0]);
  });
});
