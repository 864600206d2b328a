/**
 * The split-K convolution's two programs (wgsl.ts with `splitK`, split-k-reduce.ts), and the plain
 * workgroup-memory kernel they share code with: structure, keys, bindings, precisions, and WGSL validity under
 * Tint (Dawn's null backend, which has `shader-f16`).
 */
import { describe, expect, it } from 'vitest';
import { tintFailures } from '../../test/tint-check.ts';
import type { KernelProgram, StoragePrecision } from '../common.ts';
import { STORAGE_PRECISIONS, uniformStruct } from '../common.ts';
import { CONV_SHARED_SPLIT_K_UNIFORMS, CONV_SHARED_UNIFORMS, convSharedProgram } from './wgsl.ts';
import { SPLIT_K_REDUCE_UNIFORMS, splitKReduceProgram } from './split-k-reduce.ts';

const bools = [false, true];
const base = { kernelH: 3, kernelW: 3, pixelsPerThread: 2, vec4sPerThread: 2, residual: false, activation: false } as const;

interface Variant {
  readonly name: string;
  readonly precision: StoragePrecision;
  readonly make: () => KernelProgram;
}

/** Every conv-shared tile the tuner can pick (split-K and plain) at 1x1, 3x3, 7x7 and 5x2, and every reduce. */
const VARIANTS: readonly Variant[] = STORAGE_PRECISIONS.flatMap((precision) => [
  ...[[1, 1], [3, 3], [7, 7], [5, 2]].flatMap(([kh, kw]) =>
    [[2, 2], [4, 2], [4, 4], [8, 2]].flatMap(([P, V]) => [
      ...bools.flatMap((residual) =>
        bools.map((activation): Variant => {
          const v = { kernelH: kh, kernelW: kw, pixelsPerThread: P, vec4sPerThread: V, residual, activation };
          return { name: `conv-shared ${JSON.stringify(v)} [${precision}]`, precision, make: () => convSharedProgram(v, precision) };
        }),
      ),
      {
        name: `conv-shared split-K k${kh}x${kw} p${P}v${V} [${precision}]`,
        precision,
        make: () => convSharedProgram({ ...base, kernelH: kh, kernelW: kw, pixelsPerThread: P, vec4sPerThread: V, splitK: true }, precision),
      },
    ]),
  ),
  ...bools.flatMap((residual) =>
    bools.map((activation): Variant => ({
      name: `split-k-reduce ${JSON.stringify({ residual, activation })} [${precision}]`,
      precision,
      make: () => splitKReduceProgram({ residual, activation }, precision),
    })),
  ),
]);

describe('split-K programs', () => {
  it('the split-K variant writes f32 partial sums of its K slice: no bias, residual, clamp or store accessor', () => {
    const p = convSharedProgram({ ...base, splitK: true }, 'f16-packed');
    expect(p.key).toBe('conv-shared/k3x3/p2v2/split-k/f16-packed');
    expect(p.bindings.map((b) => `${b.name}:${b.kind}`)).toEqual(['src:read', 'weight:read', 'partial:write', 'params:uniform']);
    expect(p.uniforms).toBe(CONV_SHARED_SPLIT_K_UNIFORMS.fields);
    expect(p.uniforms.map((f) => f.name).slice(-2)).toEqual(['slices', 'kPerSlice']);
    expect(p.code).toContain('var<storage, read_write> partial: array<vec4<f32>>;');
    expect(p.code).toContain('partial[slice * params.pixels * params.outC4 + o] = acc0_0;');
    expect(p.code).toContain('for (var k0 = kBegin; k0 < kEnd; k0 += 4u)');
    expect(p.code).toContain('if (slice >= params.slices) { return; }');
    for (const absent of ['bias', 'store_dst', 'epilogue', 'actMin', 'residual']) expect(p.code, absent).not.toContain(absent);
    // Inputs and weights still go through the precision's accessors.
    expect(p.code).toContain('fn load_src(i: u32) -> vec4<f32> { let h = src[i];');
  });

  it('the plain variant keeps its single launch: whole K, bias and epilogue, its key unchanged', () => {
    const p = convSharedProgram({ ...base, residual: true, activation: true });
    expect(p.key).toBe('conv-shared/k3x3/p2v2/res/act');
    expect(p.uniforms).toBe(CONV_SHARED_UNIFORMS.fields);
    expect(p.code).toContain('for (var k0 = 0u; k0 < params.K; k0 += 4u)');
    expect(p.code).toContain('store_dst(o, epilogue(acc0_0 + bias[co0], o));');
    for (const absent of ['partial', 'slice', 'kBegin']) expect(p.code, absent).not.toContain(absent);
  });

  it('refuses a split-K variant that would carry an epilogue (the reduce launch applies it)', () => {
    expect(() => convSharedProgram({ ...base, splitK: true, residual: true })).toThrow(/reduce launch/);
    expect(() => convSharedProgram({ ...base, splitK: true, activation: true })).toThrow(/reduce launch/);
  });

  it('the reduce adds the slices in order, then bias, residual and clamp, and stores at the model precision', () => {
    const p = splitKReduceProgram({ residual: true, activation: true }, 'f16');
    expect(p.key).toBe('split-k-reduce/res/act/f16');
    expect(p.bindings.map((b) => `${b.name}:${b.kind}`)).toEqual(['partial:read', 'bias:read', 'residual:read', 'dst:write', 'params:uniform']);
    expect(p.uniforms).toBe(SPLIT_K_REDUCE_UNIFORMS.fields);
    expect(p.code).toContain('var<storage, read> partial: array<vec4<f32>>;');
    expect(p.code).toContain('var<storage, read> bias: array<vec4<f32>>;');
    expect(p.code).toContain('var<storage, read> residual: array<vec4<f16>>;');
    expect(p.code).toContain('for (var s = 1u; s < params.slices; s++) {\n    acc += partial[s * params.total + flat];');
    expect(p.code).toContain('store_dst(flat, epilogue(acc + bias[flat % params.outC4], flat));');
    expect(p.code).toContain('v += load_residual(o);');
    expect(p.code).toContain('v = clamp(v,');
    const plain = splitKReduceProgram({ residual: false, activation: false });
    expect(plain.key).toBe('split-k-reduce/nores/noact');
    expect(plain.code).not.toMatch(/residual|clamp/);
  });

  it(`${VARIANTS.length} variants: distinct keys and code, bindings declared in order, every uniform read is a field`, () => {
    const keys = new Set<string>();
    const codes = new Set<string>();
    for (const g of VARIANTS) {
      const p = g.make();
      keys.add(p.key);
      codes.add(p.code);
      for (const leftover of ['#if', '#else', '#endif', '${', 'undefined', 'NaN']) expect(p.code.includes(leftover), `${g.name}: ${leftover}`).toBe(false);
      const decls = [...p.code.matchAll(/@group\(0\) @binding\((\d+)\) var(?:<[^>]*>)? (\w+):/g)].map((m) => [Number(m[1]), m[2]]);
      expect(decls, g.name).toEqual(p.bindings.map((b, i) => [i, b.name]));
      expect(p.code.split(uniformStruct(p.uniforms)).length - 1, g.name).toBe(1);
      const fields = new Set(p.uniforms.map((f) => f.name));
      for (const m of p.code.matchAll(/params\.(\w+)/g)) expect(fields.has(m[1]), `${g.name}: params.${m[1]}`).toBe(true);
      expect(p.precision).toBe(g.precision);
      expect(p.code.startsWith('enable f16;\n')).toBe(g.precision === 'f16');
    }
    expect(keys.size).toBe(VARIANTS.length);
    expect(codes.size).toBe(VARIANTS.length);
  });
});

describe('split-K WGSL validity under Dawn (null backend, shader-f16 enabled)', () => {
  it(`all ${VARIANTS.length} programs compile`, async (ctx) => {
    const failures = await tintFailures(VARIANTS);
    if (failures === null) return ctx.skip();
    expect(failures).toEqual([]);
  }, 120_000);
});
