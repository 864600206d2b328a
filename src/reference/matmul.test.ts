import { describe, expect, it } from 'vitest';
import { GraphError } from '../errors.ts';
import type { MatMulAttrs } from '../graph/ir.ts';
import { matMul } from './matmul.ts';

const plain: MatMulAttrs = { transA: false, transB: false, alpha: 1, beta: 1, bias: null };

describe('matMul reference', () => {
  it('a 2 x 3 by 3 x 2 product, by hand', () => {
    const a = Float32Array.from([1, 2, 3, 4, 5, 6]);
    const b = Float32Array.from([7, 8, 9, 10, 11, 12]);
    const r = matMul(a, [1, 1, 2, 3], b, [1, 1, 3, 2], null, plain);
    expect(r.shape).toEqual([1, 1, 2, 2]);
    expect(Array.from(r.data)).toEqual([58, 64, 139, 154]);
  });

  it('transposes, alpha, beta and a constant bias that broadcasts per column', () => {
    // A^T = [[1, 2], [3, 4]] stored as A = [[1, 3], [2, 4]]; B^T = I stored as I.
    const attrs: MatMulAttrs = { transA: true, transB: true, alpha: 2, beta: 0.5, bias: { shape: [1, 1, 1, 2], values: Float32Array.from([10, 20]) } };
    const r = matMul(Float32Array.from([1, 3, 2, 4]), [1, 1, 2, 2], Float32Array.from([1, 0, 0, 1]), [1, 1, 2, 2], null, attrs);
    expect(Array.from(r.data)).toEqual([2 + 5, 4 + 10, 6 + 5, 8 + 10]);
  });

  it('broadcasts batches (a shared right matrix) and a computed bias', () => {
    const a = Float32Array.from([1, 2, 3, 4]); // two batches (c) of 1 x 2
    const b = Float32Array.from([1, 1]); // one 2 x 1
    const c = { data: Float32Array.from([100]), shape: [1, 1, 1, 1] as const };
    const r = matMul(a, [1, 2, 1, 2], b, [1, 1, 2, 1], c, plain);
    expect(r.shape).toEqual([1, 2, 1, 1]);
    expect(Array.from(r.data)).toEqual([103, 107]);
  });

  it('refuses operands that do not multiply or batches that do not broadcast', () => {
    expect(() => matMul(new Float32Array(6), [1, 1, 2, 3], new Float32Array(4), [1, 1, 2, 2], null, plain)).toThrow(GraphError);
    expect(() => matMul(new Float32Array(12), [1, 2, 2, 3], new Float32Array(18), [1, 3, 3, 2], null, plain)).toThrow(/do not broadcast/);
  });
});
