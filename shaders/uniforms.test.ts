/**
 * Uniform blocks are declared once (`uniformBlock`) and launches give their values through `uniformValues`,
 * which the compiler checks: the `@ts-expect-error` lines below must fail `tsc` (an unused directive is itself
 * an error), so a missing, extra or misspelt uniform is a type error, not a run-time one.
 */
import { describe, expect, it } from 'vitest';
import { ACTIVATION_UNIFORMS, packUniforms, uniformStruct } from './common.ts';
import type { Launch } from './family.ts';
import { joinUniforms, uniformBlock, uniformValues } from './uniforms.ts';

const BLOCK = joinUniforms(uniformBlock({ total: 'u32', padTop: 'i32' }), ACTIVATION_UNIFORMS);
const act = { actMin: 0, actMax: 6 };

describe('uniform blocks', () => {
  it('keep declaration order in the WGSL struct and the packed bytes', () => {
    expect(BLOCK.fields.map((f) => f.name)).toEqual(['total', 'padTop', 'actMin', 'actMax']);
    expect(uniformStruct(BLOCK.fields)).toBe('struct Params {\n  total: u32,\n  padTop: i32,\n  actMin: f32,\n  actMax: f32,\n}');
    const bytes = new DataView(packUniforms(BLOCK.fields, uniformValues(BLOCK, { total: 7, padTop: -1, ...act })));
    expect([bytes.getUint32(0, true), bytes.getInt32(4, true), bytes.getFloat32(12, true)]).toEqual([7, -1, 6]);
  });

  it('type-check launch values exactly', () => {
    const extra = { stride: 2 };
    const values = [
      // @ts-expect-error a missing field
      uniformValues(BLOCK, { total: 1, ...act }),
      // @ts-expect-error an extra field
      uniformValues(BLOCK, { total: 1, padTop: 0, strideX: 1, ...act }),
      // @ts-expect-error an extra field from a spread
      uniformValues(BLOCK, { total: 1, padTop: 0, ...extra, ...act }),
      // @ts-expect-error a misspelt field
      uniformValues(BLOCK, { total: 1, padtop: 0, ...act }),
    ];
    expect(values).toHaveLength(4);
    // @ts-expect-error a family's launch takes only values that uniformValues checked
    const unchecked: Launch['uniforms'] = { total: 1, padTop: 0, ...act };
    expect(unchecked.total).toBe(1);
  });
});
