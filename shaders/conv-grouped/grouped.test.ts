import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/graph/builder.ts';
import type { Conv2dNode } from '../../src/graph/ir.ts';
import { nodeView } from '../../src/runtime/kernel-table.ts';
import { Rng } from '../../src/util/random.ts';
import { GROUPED_CONV_TILES, groupedConvFamily, isGroupedConv } from './index.ts';

function view(inC: number, outC: number, groups: number, kernel = 3) {
  const b = new GraphBuilder();
  const x = b.input('x', [1, inC, 8, 8]);
  b.output(b.conv2d(x, { outChannels: outC, kernel, padding: (kernel - 1) / 2, groups, weight: new Rng(1).fill((outC * inC * kernel * kernel) / groups, -1, 1), bias: null }));
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
});
