import { describe, expect, it } from 'vitest';
import type { Conv2dTile } from './index.ts';
import { conv2dFamily, wrapsAt } from './index.ts';
import type { Conv2dShape, Conv2dShapeRule } from './shape-tile.ts';
import { conv2dShapeTile, conv2dWorkgroups } from './shape-tile.ts';

const wrapped = (pixelsPerThread: number, vec4sPerThread: number): Conv2dTile => ({ family: 'conv2d', pixelsPerThread, vec4sPerThread, wrapRows: true });
const RULE: Conv2dShapeRule = { tiles: [wrapped(8, 4), wrapped(8, 2)], minWorkgroups: 8 };
const shape = (side: number, outC: number, extra: Partial<Conv2dShape> = {}): Conv2dShape => ({ n: 1, outH: side, outW: side, outC4: Math.ceil(outC / 4), dilated: false, ...extra });
const text = (t: Conv2dTile) => `${t.pixelsPerThread}x${t.vec4sPerThread}`;

describe('conv2dWorkgroups', () => {
  it('counts the row layout where the tile fits the rows, the flattened map where it wraps', () => {
    // 56 wide: rows of 7 tiles, 16 vec4 groups of 4: 56 * 7 * 4 = 1568 invocations = 25 workgroups of 64.
    expect(conv2dWorkgroups(shape(56, 64), wrapped(8, 4))).toBe(25);
    // 7x7 wraps: ceil(49 / 8) = 7 pixel groups x 128 / 4 = 32 vec4 groups = 224 invocations.
    expect(wrapsAt(wrapped(8, 4), 7, false)).toBe(true);
    expect(conv2dWorkgroups(shape(7, 512), wrapped(8, 4))).toBe(4);
    expect(conv2dWorkgroups(shape(7, 512), wrapped(8, 2))).toBe(7);
    // Batch 2 and a dilated 16-wide map: wrapped over both images.
    expect(conv2dWorkgroups(shape(16, 32, { n: 2, dilated: true }), wrapped(8, 4))).toBe(Math.ceil((Math.ceil(512 / 8) * 2) / 64));
    // Never more vec4s per invocation than the layer has.
    expect(conv2dWorkgroups(shape(8, 4), wrapped(8, 4))).toBe(1);
  });
});

describe('conv2dShapeTile', () => {
  it('takes the first tile whose launch keeps the workgroups, else the last', () => {
    expect(text(conv2dShapeTile(shape(56, 64), RULE))).toBe('8x4');
    expect(text(conv2dShapeTile(shape(28, 128), RULE))).toBe('8x4');
    expect(text(conv2dShapeTile(shape(7, 512), RULE))).toBe('8x2');
    expect(text(conv2dShapeTile(shape(7, 512), { ...RULE, minWorkgroups: 4 }))).toBe('8x4');
    expect(text(conv2dShapeTile(shape(1, 4), RULE))).toBe('8x2');
  });

  it('only returns tiles the conv2d kernel implements, from the rule', () => {
    for (const side of [1, 5, 7, 12, 14, 28, 35, 56, 112]) {
      for (const outC of [4, 16, 24, 64, 192, 512]) {
        const t = conv2dShapeTile(shape(side, outC), RULE);
        expect(RULE.tiles).toContain(t);
        expect(conv2dFamily.check(t)).toBeNull();
      }
    }
  });
});
