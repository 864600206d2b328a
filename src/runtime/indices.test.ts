import { describe, expect, it } from 'vitest';
import { GraphError } from '../errors.ts';
import { GraphBuilder } from '../graph/builder.ts';
import { runGraphReference } from '../reference/index.ts';
import { isIndexOutput, toIndices } from './indices.ts';

describe('index outputs', () => {
  it('an arg max output reads back as Int32Array; other outputs are not index outputs', () => {
    const b = new GraphBuilder();
    const x = b.input('x', [1, 3, 1, 2]);
    b.output(b.argMax(x));
    b.output(b.relu(x));
    const g = b.build();
    expect(isIndexOutput(g, 0)).toBe(true);
    expect(isIndexOutput(g, 1)).toBe(false);
    const [indices] = runGraphReference(g, [new Float32Array([1, 7, 5, 2, 5, 7])]);
    expect(toIndices(indices)).toEqual(new Int32Array([1, 0]));
  });
  it('refuses values that are not indices', () => {
    expect(() => toIndices(new Float32Array([0.5]))).toThrow(GraphError);
    expect(() => toIndices(new Float32Array([-1]))).toThrow(GraphError);
  });
});
