import { describe, expect, it } from 'vitest';
import { depthwiseRollingFit, rollingCost } from './fit.ts';
import type { RollingLayer } from './fit.ts';

const cap = { pixelsPerThread: 8, rollingRows: 16 };
const layer = (c: number, out: number, kernel: number, stride: number, n = 1): RollingLayer =>
  ({ n, c4: Math.ceil(c / 4), outH: out, outW: out, kernelH: kernel, kernelW: kernel, strideY: stride, strideX: stride });

describe('depthwiseRollingFit', () => {
  it('gives 7- and 14-column maps 7 columns (no padded column) and walks a 7-row map whole', () => {
    expect(depthwiseRollingFit(layer(960, 7, 3, 1), cap)).toEqual({ pixelsPerThread: 7, rollingRows: 7 });
    expect(depthwiseRollingFit(layer(480, 14, 3, 1), cap).pixelsPerThread).toBe(7);
    expect(depthwiseRollingFit(layer(480, 14, 5, 1), cap).pixelsPerThread).toBe(7);
  });

  it('walks up to the cap on big maps, with row groups of even size', () => {
    const f = depthwiseRollingFit(layer(32, 112, 3, 1), cap);
    expect(f.rollingRows).toBe(14);
    expect(112 % f.pixelsPerThread).toBe(0);
  });

  it('splits rows when few channel vec4s would leave the machine idle', () => {
    // 576 channels, 7x7 out, stride 2: 144 invocations of a whole map are 2.25 workgroups.
    const f = depthwiseRollingFit(layer(576, 7, 3, 2), cap);
    expect(f.rollingRows).toBeLessThan(7);
    expect(rollingCost(layer(576, 7, 3, 2), f)).toBeLessThan(rollingCost(layer(576, 7, 3, 2), { pixelsPerThread: 7, rollingRows: 7 }));
  });

  it('stays within the cap and the map, and is a pure function of the shape', () => {
    for (const [c, out, k, s, n] of [[5, 1, 3, 1, 1], [9, 1, 5, 2, 2], [12, 2, 3, 2, 1], [8, 21, 3, 1, 1], [13, 19, 5, 2, 1], [4096, 300, 3, 1, 1]] as const) {
      for (const limit of [cap, { pixelsPerThread: 2, rollingRows: 16 }, { pixelsPerThread: 16, rollingRows: 64 }, { pixelsPerThread: 1, rollingRows: 1 }]) {
        const l = layer(c, out, k, s, n);
        const f = depthwiseRollingFit(l, limit);
        expect(f.pixelsPerThread).toBeGreaterThanOrEqual(1);
        expect(f.pixelsPerThread).toBeLessThanOrEqual(Math.min(limit.pixelsPerThread, out));
        expect(f.rollingRows).toBeGreaterThanOrEqual(1);
        expect(f.rollingRows).toBeLessThanOrEqual(Math.min(limit.rollingRows, out));
        expect(depthwiseRollingFit(l, limit)).toEqual(f);
      }
    }
  });

  it('picks the cheapest shape the model knows', () => {
    const l = layer(192, 28, 3, 1);
    const f = depthwiseRollingFit(l, cap);
    for (let P = 1; P <= 8; P++) {
      for (let R = 1; R <= 16; R++) expect(rollingCost(l, f)).toBeLessThanOrEqual(rollingCost(l, { pixelsPerThread: P, rollingRows: R }) * (1 + 1e-9));
    }
  });
});
