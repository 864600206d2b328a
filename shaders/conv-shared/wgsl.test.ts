import { describe, expect, it } from 'vitest';
import { convSharedBlock, convSharedProgram } from './wgsl.ts';

const base = { kernelH: 3, kernelW: 3, pixelsPerThread: 4, vec4sPerThread: 2, residual: false, activation: true } as const;

describe('conv-shared program', () => {
  it('sizes its workgroup-memory tiles from the register tile', () => {
    const p = convSharedProgram(base);
    expect(p.workgroupSize).toBe(64);
    // 32 pixels x 4 input vec4s, and 4 input vec4s x 4 lanes x 16 output vec4s.
    expect(p.code).toContain('array<vec4<f32>, 128>');
    expect(p.code).toContain('array<vec4<f32>, 256>');
    expect(p.code.match(/workgroupBarrier\(\)/g)).toHaveLength(2);
    expect(convSharedBlock(base)).toEqual({ pixels: 32, vec4s: 16 });
  });

  it('skips the tap arithmetic for 1x1 kernels only', () => {
    expect(convSharedProgram({ ...base, kernelH: 1, kernelW: 1 }).code).not.toContain('let tap =');
    expect(convSharedProgram(base).code).toContain('let tap =');
  });

  it('gives every variant its own pipeline key', () => {
    const keys = new Set(
      [1, 3, 7].flatMap((k) =>
        [2, 4, 8].flatMap((P) => [1, 2, 4].map((V) => convSharedProgram({ ...base, kernelH: k, kernelW: k, pixelsPerThread: P, vec4sPerThread: V }).key)),
      ),
    );
    expect(keys.size).toBe(27);
  });

  it('rejects tiles its load layout cannot split evenly', () => {
    expect(() => convSharedProgram({ ...base, pixelsPerThread: 3 })).toThrow(/unsupported tile/);
    expect(() => convSharedProgram({ ...base, pixelsPerThread: 16 })).toThrow(/unsupported tile/);
    expect(() => convSharedProgram({ ...base, vec4sPerThread: 5 })).toThrow(/unsupported tile/);
  });
});
