import { describe, expect, it } from 'vitest';
import type { StemConvTile } from './index.ts';
import { MAX_STEM_SPAN, STEM_CONV_TILES, stemColumns, stemTileProblem, stemWalks } from './index.ts';
import { stemSpan } from './wgsl.ts';
import { stemWalkProgram } from './walk.ts';

const walk = (walkColumns: number): StemConvTile => ({ family: 'stem', pixelsPerThread: 4, vec4sPerThread: 2, walkColumns });
const registerTile: StemConvTile = { family: 'stem', pixelsPerThread: 4, vec4sPerThread: 2 };

describe('stem walking kernel choice', () => {
  it('walks 3x3 windows on up to 3 channels and keeps larger windows on the register tile', () => {
    expect(stemWalks(walk(28), [3, 3], 3)).toBe(true);
    expect(stemWalks(walk(28), [3, 3], 1)).toBe(true);
    expect(stemWalks(walk(28), [3, 3], 4)).toBe(false);
    expect(stemWalks(walk(28), [7, 7], 3)).toBe(false);
    expect(stemWalks(walk(28), [5, 5], 1)).toBe(true);
    expect(stemWalks(registerTile, [3, 3], 3)).toBe(false);
  });

  it('accepts 1 to 256 walked columns beside a valid register tile', () => {
    expect(stemTileProblem(walk(1))).toBeNull();
    expect(stemTileProblem(walk(256))).toBeNull();
    expect(stemTileProblem(walk(0))).toMatch(/walked columns/);
    expect(stemTileProblem(walk(2.5))).toMatch(/walked columns/);
    expect(stemTileProblem({ ...walk(28), pixelsPerThread: 17 })).toMatch(/register tile/);
  });

  it('loads only the columns the window slides onto, once per step', () => {
    const code = stemWalkProgram({ kernelH: 3, kernelW: 3, strideX: 2, inC: 3, walkColumns: 28, residual: false, activation: true }).code;
    const loop = code.slice(code.indexOf('for (var i'));
    // Per step: 2 new columns x 3 kernel rows; 27 weight vec4s before the loop, none in it.
    expect(loop.match(/load_src\(/g)).toHaveLength(6);
    expect(loop.match(/load_weight\(/g)).toBeNull();
    expect(code.match(/load_weight\(/g)?.length).toBe(27 + 1);
  });
});

describe('stem register tile span', () => {
  it('keeps the tuned columns where the span fits and narrows wider windows and strides', () => {
    expect(stemColumns(8, 7, 2)).toBe(8); // ResNet's 7x7 stride 2: span 21
    expect(stemColumns(4, 11, 4)).toBe(4); // AlexNet's 11x11 stride 4 on the default 4 columns: span 23
    expect(stemColumns(8, 11, 4)).toBe(4);
    expect(stemColumns(8, 4, 4)).toBe(5); // ConvNeXt's 4x4 stride 4: span 32 -> 20
    expect(stemColumns(8, 31, 1)).toBe(1);
  });

  it('never asks the compiler for a span over the limit with any tuner tile on the zoo\'s stems', () => {
    for (const t of STEM_CONV_TILES) {
      for (const [kernelW, strideX] of [[3, 1], [3, 2], [4, 4], [5, 2], [7, 2], [7, 4], [11, 4]]) {
        const pixelsPerThread = stemColumns(t.pixelsPerThread, kernelW, strideX);
        expect(stemSpan({ pixelsPerThread, kernelW, strideX })).toBeLessThanOrEqual(MAX_STEM_SPAN);
      }
    }
  });
});
