import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/graph/builder.ts';
import type { Conv2dNode } from '../../src/graph/ir.ts';
import { nodeView } from '../../src/runtime/kernel-table.ts';
import { Rng } from '../../src/util/random.ts';
import { GROUPED_CONV_TILES, GROUPED_ROWS_MAX_SPAN, groupedConvFamily, groupedRowsColumns, isGroupedConv } from './index.ts';
import { rowTileColumns } from '../common.ts';

function view(inC: number, outC: number, groups: number, kernel = 3, stride: number | readonly [number, number] = 1, dilation: number | readonly [number, number] = 1) {
  const b = new GraphBuilder();
  const x = b.input('x', [1, inC, 8, 8]);
  const weight = new Rng(1).fill((outC * inC * kernel * kernel) / groups, -1, 1);
  const padding = ((kernel - 1) / 2) * (typeof dilation === 'number' ? dilation : Math.max(...dilation));
  b.output(b.conv2d(x, { outChannels: outC, kernel, stride, dilation, padding, groups, weight, bias: null }));
  const g = b.build();
  return nodeView(g, g.nodes[0] as Conv2dNode);
}

describe('grouped conv family', () => {
  it('runs grouped convs only: not dense, not depthwise', () => {
    expect(isGroupedConv(view(16, 16, 4))).toBe(true);
    expect(isGroupedConv(view(16, 32, 16))).toBe(true); // depthwise with a multiplier
    expect(isGroupedConv(view(16, 16, 16))).toBe(false);
    expect(isGroupedConv(view(16, 16, 1))).toBe(false);
    expect(groupedConvFamily.variants(view(16, 16, 1), { software: true })).toEqual([]);
    expect(groupedConvFamily.variants(view(16, 16, 4), { software: true })).toBe(GROUPED_CONV_TILES);
  });

  it("keeps an invocation's vec4s in one group (a divisor of the group's output vec4s) and packs only the group's weights", () => {
    const tile = { family: 'grouped', pixelsPerThread: 8, vec4sPerThread: 4 } as const;
    // 24 out per group = 6 vec4s: 4 -> 3.
    const [aligned] = groupedConvFamily.launch(view(48, 48, 2), tile, 'f32');
    expect(aligned.program.key).toBe('grouped/k3x3/p8v3/aligned/nores/noact');
    expect(aligned.uniforms.coGroups).toBe(12 / 3);
    const weight = aligned.buffers.weight;
    expect(weight.kind === 'constant' && weight.data.length).toBe(9 * 6 * 12 * 16);
    // 5 in, 3 out per group: the lanes path, one vec4 per invocation.
    const [lanes] = groupedConvFamily.launch(view(15, 9, 3), tile, 'f32');
    expect(lanes.program.key).toBe('grouped/k3x3/p8v1/lanes/nores/noact');
    expect(lanes.uniforms.coGroups).toBe(3);
    expect(lanes.macs).toBe(8 * 8 * 9 * 5 * 9);
  });

  it("takes the row form where a group's channels are whole vec4s (unrolled over at most 2 input vec4s), and the lanes path elsewhere", () => {
    const rows = { family: 'grouped', pixelsPerThread: 8, vec4sPerThread: 4, rows: true } as const;
    const key = (v: ReturnType<typeof view>) => groupedConvFamily.launch(v, rows, 'f32')[0].program.key;
    expect(key(view(32, 32, 8))).toBe('grouped-rows/k3x3/s1x1/i1/p8v1/aligned/nores/noact');
    expect(key(view(32, 64, 4, 3, 2))).toBe('grouped-rows/k3x3/s2x2/i2/p8v4/aligned/nores/noact');
    expect(key(view(32, 32, 4, 3, 1, 2))).toBe('grouped-rows/k3x3/s1x1/d2x2/i2/p8v2/aligned/nores/noact');
    // Stride and dilation keyed height first: a tile must not run another axis's.
    expect(key(view(32, 32, 8, 3, [1, 2]))).toBe('grouped-rows/k3x3/s1x2/i1/p8v1/aligned/nores/noact');
    expect(key(view(32, 32, 8, 3, 1, [2, 1]))).toBe('grouped-rows/k3x3/s1x1/d2x1/i1/p8v1/aligned/nores/noact');
    expect(groupedConvFamily.check({ ...rows, rows: 'yes' as unknown as boolean })).toMatch(/rows must be true or false/);
    // 16 input channels per group: the loop over them is not unrolled (no `i` in the key).
    expect(key(view(64, 64, 4))).toBe('grouped-rows/k3x3/s1x1/p8v4/aligned/nores/noact');
    expect(key(view(15, 9, 3))).toBe('grouped/k3x3/p8v1/lanes/nores/noact');
  });

  it("narrows the row form's columns so that a kernel row loads at most GROUPED_ROWS_MAX_SPAN input columns", () => {
    for (const [stride, kernel, dilation] of [[1, 3, 1], [2, 3, 1], [2, 5, 1], [3, 7, 1], [1, 3, 4], [4, 11, 1]]) {
      const P = groupedRowsColumns(16, stride, kernel, dilation);
      const span = (P - 1) * stride + (kernel - 1) * dilation + 1;
      expect(P === 1 || span <= GROUPED_ROWS_MAX_SPAN).toBe(true);
      if (P < 16) expect(span + stride).toBeGreaterThan(GROUPED_ROWS_MAX_SPAN);
    }
    expect(groupedRowsColumns(8, 2, 3, 1)).toBe(8);
    expect(groupedConvFamily.launch(view(16, 16, 4, 5, 2), { family: 'grouped', pixelsPerThread: 8, vec4sPerThread: 1, rows: true }, 'f32')[0].program.key)
      .toBe('grouped-rows/k5x5/s2x2/i1/p7v1/aligned/nores/noact');
    // Stride 2 skips no column of a 3-wide window, nor does dilation 2 at stride 1 over 4 columns; stride 3 under a
    // 2-wide window and dilation 3 over 2 columns do.
    expect(rowTileColumns(4, 3, 2)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(rowTileColumns(4, 3, 1, 2)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(rowTileColumns(2, 2, 3)).toEqual([0, 1, 3, 4]);
    expect(rowTileColumns(2, 3, 1, 3)).toEqual([0, 1, 3, 4, 6, 7]);
  });
});
