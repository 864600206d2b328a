/**
 * Pool windows that lie entirely in padding have no defined maximum or average: `poolOutputShape` refuses them,
 * also where dilation steps a window over the input although the pads are smaller than its extent.
 */
import { describe, expect, it } from 'vitest';
import { ShapeError } from '../errors.ts';
import type { PoolAttrs, Shape4 } from './ir.ts';
import { poolOutputShape } from './shapes.ts';

const pool = (over: Partial<PoolAttrs>): PoolAttrs => ({
  kernel: [2, 2],
  stride: [1, 1],
  pads: [0, 0, 0, 0],
  dilation: [1, 1],
  ceilMode: false,
  countIncludePad: false,
  ...over,
});

describe('poolOutputShape', () => {
  it('computes PyTorch / ONNX output sizes', () => {
    expect(poolOutputShape([1, 3, 7, 7], pool({ kernel: [3, 3], stride: [2, 2], pads: [1, 1, 1, 1] }), 'p')).toEqual([1, 3, 4, 4]);
    expect(poolOutputShape([1, 3, 7, 7], pool({ kernel: [2, 2], stride: [2, 2], ceilMode: true }), 'p')).toEqual([1, 3, 4, 4]);
    expect(poolOutputShape([1, 1, 9, 9], pool({ kernel: [3, 3], dilation: [2, 2], pads: [2, 2, 2, 2] }), 'p')).toEqual([1, 1, 9, 9]);
  });

  it('refuses pads as large as the window extent', () => {
    expect(() => poolOutputShape([1, 1, 5, 5], pool({ kernel: [2, 2], pads: [2, 0, 0, 0] }), 'p')).toThrow(/smaller than the kernel extent/);
  });

  it('refuses a dilated window that steps over every input row (ONNX Runtime gives -3.4e38 there)', () => {
    // Input height 1, kernel 2 dilation 2, pad 1 above: the first window taps rows -1 and 1, neither in the input.
    const input: Shape4 = [1, 1, 1, 2];
    const attrs = pool({ kernel: [2, 1], dilation: [2, 2], pads: [1, 0, 1, 0], stride: [3, 1], ceilMode: true });
    expect(() => poolOutputShape(input, attrs, 'node p')).toThrow(ShapeError);
    expect(() => poolOutputShape(input, attrs, 'node p')).toThrow(/node p: the pool window of output row 0 lies entirely in padding/);
  });

  it('finds such a window at the far end too, and in columns', () => {
    // Width 1, kernel 2 dilation 2, pads 0 before and 3 after: the window of column 1 taps 1 and 3, past the input.
    const attrs = pool({ kernel: [1, 2], dilation: [1, 2], pads: [0, 0, 0, 3] });
    expect(() => poolOutputShape([1, 1, 3, 1], attrs, 'p')).toThrow(/output column 1 lies entirely in padding/);
  });

  it('accepts dilated windows that each tap the input', () => {
    expect(poolOutputShape([1, 1, 4, 4], pool({ kernel: [2, 2], dilation: [2, 2], pads: [1, 1, 1, 1] }), 'p')).toEqual([1, 1, 4, 4]);
  });
});
