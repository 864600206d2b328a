import { describe, expect, it } from 'vitest';
import { pointwiseTileProblem } from './index.ts';
import type { PointwiseShapeRule } from './shape-tile.ts';
import { pointwiseShapeTile, shapeRuleApplies } from './shape-tile.ts';

const WIDE: PointwiseShapeRule = { pixels: [16, 8], vec4s: [4, 3, 2] };
const text = (pixels: number, outC: number, rule: PointwiseShapeRule = WIDE): string => {
  const t = pointwiseShapeTile({ pixels, outC4: Math.ceil(outC / 4) }, rule);
  return `${t.pixelsPerThread}x${t.vec4sPerThread}w${t.workgroupSize}`;
};

describe('pointwiseShapeTile', () => {
  it('gives the widest tile where channels divide into it, in workgroups of 64 on big launches', () => {
    expect(text(112 * 112, 96)).toBe('16x4w64');
    expect(text(56 * 56, 144)).toBe('16x4w64');
    expect(text(28 * 28, 512)).toBe('16x4w64');
    expect(text(56 * 56, 144, { pixels: [8], vec4s: [2] })).toBe('8x2w64');
  });

  it('weighs channel padding against the cost of narrower tiles (3 for 6 vec4s: 24 channels), never more vec4s than the layer has', () => {
    expect(text(56 * 56, 24)).toBe('16x3w16');
    expect(pointwiseShapeTile({ pixels: 3136, outC4: 2 }, WIDE).vec4sPerThread).toBe(2);
    expect(pointwiseShapeTile({ pixels: 3136, outC4: 1 }, WIDE).vec4sPerThread).toBe(1);
    expect(pointwiseShapeTile({ pixels: 3136, outC4: 10 }, WIDE).vec4sPerThread).toBe(2);
  });

  it("pads channels where a wider tile's reuse pays for it (the software upgrade's rule on RegNetY-400MF)", () => {
    const upgrade: PointwiseShapeRule = { pixels: [16, 8], vec4s: [8, 4, 2] };
    // 440 channels = 110 vec4s: 8 per invocation pads 2 of them (1.8%) and costs 0.80x the exact 2.
    expect(text(7 * 7, 440, upgrade)).toBe('16x8w4');
    // 104 channels = 26 vec4s: 4 pads 2 (7.7%), 8 pads 6 (23%): 4.
    expect(text(28 * 28, 104, upgrade)).toBe('16x4w16');
    expect(text(56 * 56, 96, upgrade)).toBe('16x8w16');
  });

  it('shrinks workgroups to 16, then 4 invocations until a small launch has 16 of them', () => {
    // 7x7: 4 pixel tiles x 10 vec4 groups = 40 invocations.
    expect(text(7 * 7, 160)).toBe('16x4w4');
    // 4 x 80 = 320 invocations: 20 workgroups of 16.
    expect(text(7 * 7, 1280)).toBe('16x4w16');
    // The software default's tile on MobileNetV2's 7x7 layers: 7 x 20 = 140 invocations, 7 x 160 = 1120.
    expect(text(7 * 7, 160, { pixels: [8], vec4s: [2] })).toBe('8x2w4');
    expect(text(7 * 7, 1280, { pixels: [8], vec4s: [2] })).toBe('8x2w64');
    expect(text(1, 4)).toBe('8x1w4');
  });

  it('prefers 8 pixels where 16 would pad much more of the map', () => {
    // 24 pixels: 16 pads to 32, 8 fits exactly.
    expect(pointwiseShapeTile({ pixels: 24, outC4: 16 }, WIDE).pixelsPerThread).toBe(8);
    expect(pointwiseShapeTile({ pixels: 32, outC4: 16 }, WIDE).pixelsPerThread).toBe(16);
  });

  it('only returns tiles the pointwise kernel implements', () => {
    for (const pixels of [1, 7, 49, 196, 784, 3136, 12544, 2 * 12544]) {
      for (const outC4 of [1, 2, 3, 5, 6, 24, 40, 250, 512]) {
        for (const rule of [WIDE, { pixels: [8], vec4s: [2] }, { pixels: [1], vec4s: [8] }]) {
          expect(pointwiseTileProblem(pointwiseShapeTile({ pixels, outC4 }, rule))).toBeNull();
        }
      }
    }
  });
});

describe('shapeRuleApplies', () => {
  it('applies from minMacs on, and everywhere without it', () => {
    const shape = { pixels: 49, outC4: 40, macs: 1000 };
    expect(shapeRuleApplies(shape, WIDE)).toBe(true);
    expect(shapeRuleApplies(shape, { ...WIDE, minMacs: 1000 })).toBe(true);
    expect(shapeRuleApplies(shape, { ...WIDE, minMacs: 1001 })).toBe(false);
  });
});

describe('pointwiseTileProblem', () => {
  it('refuses workgroup sizes the kernel does not offer', () => {
    expect(pointwiseTileProblem({ family: 'pointwise', pixelsPerThread: 8, vec4sPerThread: 2, workgroupSize: 12 })).toMatch(/workgroup size 12/);
    expect(pointwiseTileProblem({ family: 'pointwise', pixelsPerThread: 8, vec4sPerThread: 2, workgroupSize: 4 })).toBeNull();
    expect(pointwiseTileProblem({ family: 'pointwise', pixelsPerThread: 17, vec4sPerThread: 2 })).toMatch(/not implemented/);
  });
});
