import { describe, expect, it } from 'vitest';
import { layerNorm } from './layer-norm.ts';

describe('layerNorm reference', () => {
  it('normalises each pixel over its channels, then scales and shifts per channel', () => {
    // [1, 3, 1, 2]: pixel 0 has channels (1, 2, 3), pixel 1 (0, 0, 6).
    const x = Float32Array.from([1, 0, 2, 0, 3, 6]);
    const gamma = Float32Array.from([1, 2, 3]);
    const beta = Float32Array.from([0, 1, -1]);
    const out = layerNorm(x, [1, 3, 1, 2], { epsilon: 0, gamma, beta });
    const s0 = Math.sqrt(2 / 3); // pixel 0: mean 2, variance 2/3
    const s1 = Math.sqrt(8); // pixel 1: mean 2, variance (4 + 4 + 16) / 3 = 8
    const want = [-1 / s0, -2 / s1, 0 * 2 + 1, (-2 / s1) * 2 + 1, (1 / s0) * 3 - 1, (4 / s1) * 3 - 1];
    out.forEach((v, i) => expect(v).toBeCloseTo(want[i], 6));
  });

  it('takes epsilon inside the square root, and no beta as zero shift; batches are independent', () => {
    const x = Float32Array.from([0, 2, 5, 5]); // [2, 2, 1, 1]
    const out = layerNorm(x, [2, 2, 1, 1], { epsilon: 1, gamma: Float32Array.from([1, 1]), beta: null });
    const inv = 1 / Math.sqrt(1 + 1);
    expect([...out]).toEqual([-inv, inv, 0, 0].map(Math.fround));
  });
});
