import { describe, expect, it } from 'vitest';
import { ShapeError } from '../errors.ts';
import { GraphBuilder } from '../graph/builder.ts';
import { shuffleChannels } from './channels.ts';
import { runGraphReference } from './run-graph.ts';

describe('shuffleChannels reference', () => {
  it('output channel j * groups + k is input channel k * (c / groups) + j, per batch', () => {
    // [2, 6, 1, 2]: channel c of batch b holds 100 * b + 10 * c and 100 * b + 10 * c + 1.
    const x = Float32Array.from({ length: 24 }, (_, i) => 100 * Math.floor(i / 12) + 10 * Math.floor((i % 12) / 2) + (i % 2));
    const { data, shape } = shuffleChannels(x, [2, 6, 1, 2], 3);
    expect(shape).toEqual([2, 6, 1, 2]);
    const channelsOf = (b: number) => Array.from({ length: 6 }, (_, c) => (data[(b * 6 + c) * 2] - 100 * b) / 10);
    expect(channelsOf(0)).toEqual([0, 2, 4, 1, 3, 5]);
    expect(channelsOf(1)).toEqual([0, 2, 4, 1, 3, 5]);
    expect(data[1]).toBe(1);
  });

  it('one group is the identity; channels that do not split into the groups are a ShapeError', () => {
    const x = Float32Array.from({ length: 8 }, (_, i) => i);
    expect(Array.from(shuffleChannels(x, [1, 4, 2, 1], 1).data)).toEqual(Array.from(x));
    expect(() => shuffleChannels(x, [1, 4, 2, 1], 3)).toThrow(ShapeError);
    const b = new GraphBuilder();
    expect(() => b.shuffleChannels(b.input('x', [1, 4, 2, 1]), 3)).toThrow(ShapeError);
  });

  it('runs in a graph', () => {
    const b = new GraphBuilder();
    b.output(b.shuffleChannels(b.input('x', [1, 4, 1, 1]), 2));
    expect(Array.from(runGraphReference(b.build(), [Float32Array.from([10, 11, 12, 13])])[0])).toEqual([10, 12, 11, 13]);
  });
});
