import { describe, expect, it } from 'vitest';
import { depthwiseRollingFit, rollingCost } from './fit.ts';
import type { RollingLayer } from './fit.ts';
import { Rng } from '../../src/util/random.ts';

const cap = { pixelsPerThread: 8, rollingRows: 16 };
const layer = (c: number, out: number, kernel: number, stride: number, n = 1): RollingLayer =>
  ({ n, c4: Math.ceil(c / 4), outH: out, outW: out, kernelH: kernel, kernelW: kernel, strideY: stride, strideX: stride });

describe('depthwiseRollingFit', () => {
  it('gives 7- and 14-column maps 7 columns (no padded column) and walks a 7-row map whole', () => {
    expect(depthwiseRollingFit(layer(960, 7, 3, 1), cap)).toEqual({ pixelsPerThread: 7, rollingRows: 7 });
    expect(depthwiseRollingFit(layer(480, 14, 3, 1), cap).pixelsPerThread).toBe(7);
    expect(depthwiseRollingFit(layer(480, 14, 5, 1), cap).pixelsPerThread).toBe(7);
  });

  it('walks up to the cap on big maps, in row groups of even size, with columns that divide the map', () => {
    expect(depthwiseRollingFit(layer(32, 112, 3, 1), cap)).toEqual({ pixelsPerThread: 8, rollingRows: 16 });
    expect(depthwiseRollingFit(layer(144, 56, 3, 1), cap)).toEqual({ pixelsPerThread: 8, rollingRows: 14 });
    expect(depthwiseRollingFit(layer(240, 28, 5, 1), cap)).toEqual({ pixelsPerThread: 7, rollingRows: 14 });
  });

  it('takes fewer columns where the launch would leave a thread idle', () => {
    // 192 channels, 14x14 out: 7 columns are 96 invocations, 1.5 workgroups.
    const l = layer(192, 14, 3, 2);
    expect(depthwiseRollingFit(l, cap).pixelsPerThread).toBeLessThan(7);
    expect(rollingCost(l, depthwiseRollingFit(l, cap))).toBeLessThan(rollingCost(l, { pixelsPerThread: 7, rollingRows: 14 }));
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

  it('on 500 seeded random layers: within the caps and the map, rows in even groups, the cheapest column count', () => {
    const rng = new Rng(18);
    const int = (lo: number, hi: number) => lo + Math.floor(rng.next() * (hi - lo + 1));
    for (let i = 0; i < 500; i++) {
      const k = int(1, 3) * 2 - 1;
      const l: RollingLayer = { n: int(1, 3), c4: int(1, 400), outH: int(1, 120), outW: int(1, 120), kernelH: k, kernelW: k, strideY: int(1, 2), strideX: int(1, 2) };
      const limit = { pixelsPerThread: int(1, 16), rollingRows: int(1, 64) };
      const f = depthwiseRollingFit(l, limit);
      expect(f.pixelsPerThread).toBeGreaterThanOrEqual(1);
      expect(f.pixelsPerThread).toBeLessThanOrEqual(Math.min(limit.pixelsPerThread, l.outW));
      expect(f.rollingRows).toBeLessThanOrEqual(limit.rollingRows);
      // The fewest row groups the cap allows.
      expect(Math.ceil(l.outH / f.rollingRows)).toBe(Math.ceil(l.outH / limit.rollingRows));
      for (let P = 1; P <= Math.min(limit.pixelsPerThread, l.outW); P++) {
        expect(rollingCost(l, f)).toBeLessThanOrEqual(rollingCost(l, { pixelsPerThread: P, rollingRows: f.rollingRows }) * (1 + 1e-9));
      }
    }
  });

  it('picks the cheapest column count the model knows', () => {
    const l = layer(192, 28, 3, 1);
    const f = depthwiseRollingFit(l, cap);
    for (let P = 1; P <= 8; P++) expect(rollingCost(l, f)).toBeLessThanOrEqual(rollingCost(l, { pixelsPerThread: P, rollingRows: f.rollingRows }) * (1 + 1e-9));
  });
});
