import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/graph/builder.ts';
import type { Conv2dNode } from '../../src/graph/ir.ts';
import { nodeView } from '../../src/runtime/kernel-table.ts';
import { Rng } from '../../src/util/random.ts';
import { conv2dFamily, runsWrapped } from './index.ts';
import { conv2dWrappedProgram } from './wrapped.ts';

function view(n: number, inC: number, h: number, w: number, outC: number, kernel: number, stride = 1) {
  const b = new GraphBuilder();
  const x = b.input('x', [n, inC, h, w]);
  b.output(b.conv2d(x, { outChannels: outC, kernel, stride, padding: (kernel - 1) / 2, weight: new Rng(1).fill(outC * inC * kernel * kernel, -1, 1), bias: null }));
  const g = b.build();
  return nodeView(g, g.nodes[0] as Conv2dNode);
}

describe('conv2d wrapped tile', () => {
  it('takes its pixels along the flattened map: no row padded to the tile width', () => {
    const wrapped = { family: 'conv2d', pixelsPerThread: 8, vec4sPerThread: 2, wrapRows: true } as const;
    // 2 images of 12 x 12, 16 out: 288 pixels = 36 tiles of 8, x 2 channel groups (the row tile: 2 x 16 columns per row).
    const [launch] = conv2dFamily.launch(view(2, 8, 12, 12, 16, 3), wrapped, 'f32');
    expect(launch.program.key).toBe('conv2d/wrap/k3x3/p8v2/nores/noact');
    expect(launch.uniforms.pixels).toBe(288);
    expect(launch.uniforms.coGroups).toBe(2);
    expect(launch.workgroups).toBe(Math.ceil((36 * 2) / 64));
    const [row] = conv2dFamily.launch(view(2, 8, 12, 12, 16, 3), { ...wrapped, wrapRows: false }, 'f32');
    expect(row.program.key).toBe('conv2d/k3x3/p8v2/nores/noact');
    expect(row.uniforms.total).toBe(2 * 12 * 2 * 2);
  });

  it('runs where the row tile pads its rows or the conv is dilated, else on the row kernel', () => {
    const wrapped = { family: 'conv2d', pixelsPerThread: 8, vec4sPerThread: 2, wrapRows: true } as const;
    expect(runsWrapped(view(1, 8, 12, 12, 16, 3), wrapped)).toBe(true);
    expect(runsWrapped(view(1, 8, 16, 16, 16, 3), wrapped)).toBe(false);
    expect(runsWrapped(view(1, 8, 33, 33, 16, 3, 2), wrapped)).toBe(true); // 17 wide
    expect(runsWrapped(view(1, 8, 16, 16, 16, 3), { ...wrapped, pixelsPerThread: 5 })).toBe(true);
    expect(runsWrapped(view(1, 8, 12, 12, 16, 3), { ...wrapped, wrapRows: false })).toBe(false);
    expect(conv2dFamily.launch(view(1, 8, 16, 16, 16, 3), wrapped, 'f32')[0].program.key).toBe('conv2d/k3x3/p8v2/nores/noact');
  });

  it('has no short-circuit && or || (each is a branch for SwiftShader\'s compiler, which compiled 8 x 2 with them many times slower)', () => {
    const { code } = conv2dWrappedProgram({ kernelH: 3, kernelW: 3, pixelsPerThread: 8, vec4sPerThread: 2, residual: true, activation: true });
    const kernel = code.slice(code.indexOf('fn main'), code.indexOf('fn epilogue'));
    expect(kernel).not.toMatch(/&&|\|\|/);
    expect(code.slice(code.indexOf('fn tapOf'))).not.toMatch(/&&|\|\|/);
  });
});
