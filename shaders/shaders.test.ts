import { describe, expect, it } from 'vitest';
import { tintFailures } from '../test/tint-check.ts';
import type { KernelProgram, StoragePrecision, UniformField } from './common.ts';
import {
  F32_MAX, STORAGE_PRECISIONS, WORKGROUP_SIZE, allOf, anyOf, bindingDecls, bytesPerVec4, ceilDiv, clampBound, finishProgram, packUniforms, uniformByteSize,
  uniformStruct,
} from './common.ts';
import { conv2dProgram } from './conv2d/wgsl.ts';
import { depthwiseConvProgram, depthwiseRowsProgram } from './depthwise/wgsl.ts';
import { broadcastAddProgram, elementwiseProgram } from './elementwise/wgsl.ts';
import { flattenProgram, packNchwProgram, reshapeProgram, unpackNchwProgram } from './layout/wgsl.ts';
import { linearPooledProgram, linearSplitKProgram } from './linear/wgsl.ts';
import { padProgram } from './pad/wgsl.ts';
import { pointwiseConvProgram } from './pointwise/wgsl.ts';
import { globalAvgPoolProgram, poolProgram } from './pool/wgsl.ts';
import { softmaxAxesProgram, softmaxProgram } from './softmax/wgsl.ts';

describe('uniformStruct', () => {
  it('lists every field as a 4-byte scalar, in order', () => {
    expect(
      uniformStruct([
        { name: 'total', type: 'u32' },
        { name: 'padTop', type: 'i32' },
        { name: 'actMin', type: 'f32' },
      ]),
    ).toBe('struct Params {\n  total: u32,\n  padTop: i32,\n  actMin: f32,\n}');
  });
});

describe('uniformByteSize', () => {
  const fields = (n: number): UniformField[] => Array.from({ length: n }, (_, i) => ({ name: `f${i}`, type: 'u32' as const }));
  it('rounds up to 16 bytes, at least 16', () => {
    expect([0, 1, 2, 3, 4, 5, 8, 9, 17].map((n) => uniformByteSize(fields(n)))).toEqual([16, 16, 16, 16, 16, 32, 32, 48, 80]);
  });
});

describe('packUniforms', () => {
  const fields: UniformField[] = [
    { name: 'a', type: 'u32' },
    { name: 'b', type: 'i32' },
    { name: 'c', type: 'f32' },
    { name: 'd', type: 'u32' },
    { name: 'e', type: 'i32' },
    { name: 'f', type: 'f32' },
  ];

  it('writes little-endian u32 / i32 / f32 at index * 4 and zero-fills the tail', () => {
    const buf = packUniforms(fields, { a: 7, b: -2, c: 1.5, d: 0xffffffff, e: -2147483648, f: -F32_MAX });
    expect(buf.byteLength).toBe(32);
    expect(Array.from(new Uint8Array(buf))).toEqual([
      0x07, 0x00, 0x00, 0x00, // a = 7
      0xfe, 0xff, 0xff, 0xff, // b = -2
      0x00, 0x00, 0xc0, 0x3f, // c = 1.5
      0xff, 0xff, 0xff, 0xff, // d = 2^32 - 1
      0x00, 0x00, 0x00, 0x80, // e = -2^31
      0xff, 0xff, 0x7f, 0xff, // f = -F32_MAX
      0, 0, 0, 0, 0, 0, 0, 0,
    ]);
    const view = new DataView(buf);
    expect(view.getInt32(4, true)).toBe(-2);
    expect(view.getFloat32(8, true)).toBe(1.5);
  });

  it('ignores extra values and accepts negative and fractional f32', () => {
    const buf = packUniforms([{ name: 'x', type: 'f32' }], { x: -0.25, unused: 3 });
    expect(buf.byteLength).toBe(16);
    expect(new DataView(buf).getFloat32(0, true)).toBe(-0.25);
  });

  it('throws on a missing value', () => {
    expect(() => packUniforms(fields, { a: 1, b: 2, c: 3, d: 4, e: 5 })).toThrow(/f/);
  });

  it('throws on a negative or fractional u32 and a fractional i32', () => {
    const u: UniformField[] = [{ name: 'n', type: 'u32' }];
    const i: UniformField[] = [{ name: 'n', type: 'i32' }];
    expect(() => packUniforms(u, { n: -1 })).toThrow(/u32/);
    expect(() => packUniforms(u, { n: 1.5 })).toThrow(/u32/);
    expect(() => packUniforms(i, { n: 0.5 })).toThrow(/i32/);
    expect(() => packUniforms(i, { n: -1 })).not.toThrow();
    expect(() => packUniforms(u, { n: 0 })).not.toThrow();
  });
});

describe('small helpers', () => {
  it('allOf and anyOf join WGSL conditions without short-circuiting, each operand in parentheses', () => {
    expect(allOf('a >= 0', 'a <= b')).toBe('(a >= 0) & (a <= b)');
    expect(anyOf('a < 0', 'a > b', 'c')).toBe('(a < 0) | (a > b) | (c)');
    expect(allOf('ok')).toBe('ok');
    expect(() => allOf()).toThrow(/needs a condition/);
    expect(() => anyOf()).toThrow(/needs a condition/);
  });

  it('clampBound maps infinities to the largest finite f32', () => {
    expect(clampBound(Infinity)).toBe(F32_MAX);
    expect(clampBound(-Infinity)).toBe(-F32_MAX);
    expect(clampBound(6)).toBe(6);
    expect(Math.fround(F32_MAX)).toBe(F32_MAX);
    expect(Number.isFinite(Math.fround(F32_MAX))).toBe(true);
  });

  it('ceilDiv', () => {
    expect([ceilDiv(0, 64), ceilDiv(1, 64), ceilDiv(64, 64), ceilDiv(65, 64), ceilDiv(7, 3)]).toEqual([0, 1, 1, 2, 3]);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Program generators over a grid of variants.

interface Generated {
  readonly variant: string;
  readonly precision: StoragePrecision;
  readonly make: () => KernelProgram;
  /** Substrings the variant must (true) or must not (false) produce. */
  readonly expect?: Readonly<Record<string, boolean>>;
}

const bools = [false, true];

function grid(precision: StoragePrecision): Generated[] {
  const out: Omit<Generated, 'precision'>[] = [];
  for (const P of [1, 2, 4]) {
    for (const V of [1, 2, 4]) {
      for (const strided of bools) {
        for (const residual of bools) {
          for (const activation of bools) {
            const v = { pixelsPerThread: P, vec4sPerThread: V, strided, residual, activation };
            out.push({
              variant: `pointwise ${JSON.stringify(v)}`,
              make: () => pointwiseConvProgram(v, precision),
              expect: {
                'fn pixelBase': strided,
                'v += load_residual(o);': residual,
                'v = clamp(v,': activation,
                [`acc${P - 1}_${V - 1}`]: true,
                [`acc${P}_0`]: false,
                [`acc0_${V}`]: false,
              },
            });
          }
        }
      }
    }
  }
  for (const [kh, kw] of [[1, 1], [3, 3], [7, 7], [1, 3], [5, 2]]) {
    for (const P of [1, 4]) {
      for (const V of [1, 2]) {
        for (const residual of bools) {
          for (const activation of bools) {
            const v = { kernelH: kh, kernelW: kw, pixelsPerThread: P, vec4sPerThread: V, residual, activation };
            out.push({
              variant: `conv2d ${JSON.stringify(v)}`,
              make: () => conv2dProgram(v, precision),
              expect: {
                [`const KH = ${kh}u;`]: true,
                [`const KW = ${kw}u;`]: true,
                'v += load_residual(o);': residual,
                'v = clamp(v,': activation,
                [`acc${P - 1}_${V - 1}`]: true,
                [`acc${P}_0`]: false,
              },
            });
          }
        }
      }
    }
  }
  for (const [kh, kw] of [[1, 1], [3, 3], [5, 5], [3, 1]]) {
    for (const P of [1, 2, 4]) {
      for (const residual of bools) {
        for (const activation of bools) {
          const v = { kernelH: kh, kernelW: kw, pixelsPerThread: P, residual, activation };
          out.push({
            variant: `depthwise ${JSON.stringify(v)}`,
            make: () => depthwiseConvProgram(v, precision),
            expect: {
              [`const KH = ${kh}u;`]: true,
              [`const KW = ${kw}u;`]: true,
              'v += load_residual(o);': residual,
              'v = clamp(v,': activation,
              [`acc${P - 1}`]: true,
              [`acc${P} `]: false,
            },
          });
        }
      }
    }
  }
  for (const [kh, kw, sy, sx] of [[3, 3, 1, 1], [3, 3, 2, 2], [5, 5, 2, 1]]) {
    for (const residual of bools) {
      const v = { kernelH: kh, kernelW: kw, strideY: sy, strideX: sx, pixelsPerThread: 4, residual, activation: true };
      out.push({
        variant: `depthwise-rows ${JSON.stringify(v)}`,
        make: () => depthwiseRowsProgram(v, precision),
        expect: { 'v += load_residual(o);': residual, 'acc3': true, 'acc4': false },
      });
    }
  }
  for (const activation of bools) {
    for (const pooled of bools) {
      out.push({
        variant: `linear-splitk ${JSON.stringify({ activation, pooled })}`,
        make: () => linearSplitKProgram({ activation, pooled }, precision),
        expect: { 'fn mean_src(': pooled, 'let x = mean_src(xBase + ci4);': pooled, 'let x = load_src(xBase + ci4);': !pooled, 'v = clamp(v,': activation },
      });
    }
    for (const [P, V] of [[1, 1], [1, 2], [1, 4], [2, 2], [4, 4], [8, 2]]) {
      const v = { activation, rowsPerThread: P, vec4sPerThread: V };
      out.push({
        variant: `linear-pooled ${JSON.stringify(v)}`,
        make: () => linearPooledProgram(v, precision),
        expect: {
          [`const CHUNK = ${512 / P}u;`]: true,
          [`var<workgroup> pooled: array<vec4<f32>, 512>;`]: true,
          [`acc${P - 1}_${V - 1}`]: true,
          [`acc${P}_0`]: false,
          [`acc0_${V}`]: false,
          'v = clamp(v,': activation,
        },
      });
    }
  }
  out.push(
    { variant: 'elementwise add', make: () => elementwiseProgram('add', precision), expect: { 'load_a(flat) + load_b(flat)': true } },
    { variant: 'elementwise activation', make: () => elementwiseProgram('activation', precision), expect: { 'load_a(flat) + load_b(flat)': false, 'let v = load_a(flat);': true } },
    { variant: 'broadcastAdd', make: () => broadcastAddProgram(precision) },
    { variant: 'maxPool', make: () => poolProgram('max', precision), expect: { 'acc = max(acc, v);': true, 'count++': false } },
    { variant: 'avgPool', make: () => poolProgram('avg', precision), expect: { 'acc = max(acc, v);': false, 'count++': true } },
    { variant: 'globalAvgPool', make: () => globalAvgPoolProgram(precision) },
    { variant: 'packNCHW', make: () => packNchwProgram(precision) },
    { variant: 'unpackNCHW', make: () => unpackNchwProgram(precision) },
    { variant: 'flatten', make: () => flattenProgram(precision) },
    { variant: 'reshape', make: () => reshapeProgram(precision) },
    { variant: 'pad', make: () => padProgram(precision) },
    { variant: 'softmax', make: () => softmaxProgram(precision) },
    { variant: 'softmaxAxes', make: () => softmaxAxesProgram(precision) },
  );
  return out.map((g) => ({ ...g, precision, variant: `${g.variant} [${precision}]` }));
}

/** Every generator variant at every storage precision. */
export const GRID = STORAGE_PRECISIONS.flatMap(grid);
const VARIANTS_PER_PRECISION = 72 + 80 + 48 + 6 + 16 + 13;

function count(haystack: string, needle: string | RegExp): number {
  if (typeof needle === 'string') return haystack.split(needle).length - 1;
  return [...haystack.matchAll(new RegExp(needle.source, needle.flags.includes('g') ? needle.flags : `${needle.flags}g`))].length;
}

describe('program generators', () => {
  it(`the grid covers ${GRID.length} variants`, () => {
    expect(GRID.length).toBe(VARIANTS_PER_PRECISION * 3);
  });

  for (const g of GRID) {
    it(g.variant, () => {
      const p = g.make();
      const code = p.code;

      // Fully preprocessed and interpolated.
      for (const leftover of ['#if', '#elif', '#else', '#endif', '#', '${', 'undefined', 'NaN', '[object']) {
        expect(code.includes(leftover), `leftover ${leftover}`).toBe(false);
      }

      // Bindings: declared once each, with @binding(i) in order, the access the binding kind asks for.
      const decls = [...code.matchAll(/@group\((\d+)\)\s*@binding\((\d+)\)\s*var(?:<([^>]*)>)?\s+(\w+)\s*:/g)];
      expect(decls.map((m) => [Number(m[1]), Number(m[2]), m[4]])).toEqual(p.bindings.map((b, i) => [0, i, b.name]));
      p.bindings.forEach((b, i) => {
        const access = decls[i][3].replace(/\s+/g, '');
        expect(access).toBe(b.kind === 'uniform' ? 'uniform' : b.kind === 'read' ? 'storage,read' : 'storage,read_write');
        expect(count(code, new RegExp(`var(<[^>]*>)?\\s+${b.name}\\s*:`)), `${b.name} declared once`).toBe(1);
        // Every binding is used beyond its declaration.
        expect(count(code, new RegExp(`\\b${b.name}\\b`)), `${b.name} used`).toBeGreaterThan(1);
      });
      expect(p.bindings[p.bindings.length - 1]).toEqual({ name: 'params', kind: 'uniform' });
      expect(p.bindings.filter((b) => b.kind === 'uniform')).toHaveLength(1);
      expect(new Set(p.bindings.map((b) => b.name)).size).toBe(p.bindings.length);

      // The Params struct is the one the uniform list describes, and every field the code reads exists.
      expect(count(code, uniformStruct(p.uniforms))).toBe(1);
      expect(count(code, 'struct Params')).toBe(1);
      const fieldNames = new Set(p.uniforms.map((f) => f.name));
      for (const m of code.matchAll(/params\.(\w+)/g)) expect(fieldNames.has(m[1]), `params.${m[1]} is a field`).toBe(true);

      // One entry point with the declared workgroup size; balanced brackets.
      expect(count(code, '@compute')).toBe(1);
      expect(count(code, `@workgroup_size(${p.workgroupSize})`)).toBe(1);
      expect(count(code, '{')).toBe(count(code, '}'));
      expect(count(code, '(')).toBe(count(code, ')'));
      expect(count(code, '[')).toBe(count(code, ']'));

      for (const [needle, present] of Object.entries(g.expect ?? {})) {
        expect(code.includes(needle), `${needle} ${present ? 'present' : 'absent'}`).toBe(present);
      }
      // Residual variants bind a residual buffer, others do not.
      if (g.expect && 'v += load_residual(o);' in g.expect) {
        expect(p.bindings.some((b) => b.name === 'residual')).toBe(g.expect['v += load_residual(o);']);
      }

      // Storage precision: tensor bindings are reached only through their accessors, which are the only code
      // that indexes them; native f16 enables the extension first thing in the module, nothing else mentions f16.
      expect(p.precision).toBe(g.precision);
      const tensors = p.bindings.filter((b) => b.kind !== 'uniform' && !new RegExp(`\\b${b.name}: array<f32>;`).test(code) && b.name !== 'bias');
      expect(tensors.length).toBeGreaterThan(0);
      const lines = code.split('\n');
      for (const b of tensors) {
        const type = { f32: 'array<vec4<f32>>', f16: 'array<vec4<f16>>', 'f16-packed': 'array<vec2<u32>>' }[g.precision];
        expect(code, `${b.name} stored as ${type}`).toContain(`${b.name}: ${type};`);
        const accessor = b.kind === 'read' ? `fn load_${b.name}(` : `fn store_${b.name}(`;
        expect(count(code, accessor), `${accessor} defined once`).toBe(1);
        for (const line of lines) {
          if (new RegExp(`\\b${b.name}\\[`).test(line)) expect(line, `${b.name} indexed outside its accessors`).toMatch(/^fn (load|store)_/);
        }
      }
      if (g.precision === 'f16') {
        expect(code.startsWith('enable f16;\n')).toBe(true);
        expect(count(code, 'enable')).toBe(1);
      } else {
        expect(code).not.toMatch(/\bf16\b|\benable\b/);
      }
      if (g.precision !== 'f16-packed') expect(code).not.toMatch(/pack2x16float/);
    });
  }

  it('workgroup sizes: 64 everywhere', () => {
    for (const g of GRID) expect(g.make().workgroupSize).toBe(WORKGROUP_SIZE);
    expect(WORKGROUP_SIZE).toBe(64);
  });

  it('different variants have different keys and codes; equal variants equal keys and identical code', () => {
    const byKey = new Map<string, { variant: string; code: string }>();
    for (const g of GRID) {
      const a = g.make();
      const b = g.make();
      expect(b.key).toBe(a.key);
      expect(b.code).toBe(a.code);
      const prev = byKey.get(a.key);
      expect(prev, `key ${a.key} for ${g.variant} also used by ${prev?.variant}`).toBeUndefined();
      byKey.set(a.key, { variant: g.variant, code: a.code });
    }
    expect(byKey.size).toBe(GRID.length);
    // f32 keys are what they were before precisions existed; the others carry theirs.
    for (const g of GRID) {
      const key = g.make().key;
      if (g.precision === 'f32') expect(key).not.toMatch(/f16/);
      else expect(key.endsWith(`/${g.precision}`)).toBe(true);
    }
    // Distinct variants really generate distinct code (so the key must distinguish them).
    expect(new Set([...byKey.values()].map((v) => v.code)).size).toBe(GRID.length);
  });

  it('keys name the variant', () => {
    expect(pointwiseConvProgram({ pixelsPerThread: 1, vec4sPerThread: 1, strided: false, residual: false, activation: true }).key).toBe(
      'pointwise/p1v1/1/nores/act',
    );
    expect(pointwiseConvProgram({ pixelsPerThread: 4, vec4sPerThread: 2, strided: true, residual: true, activation: false }).key).toBe(
      'pointwise/p4v2/s/res/noact',
    );
    expect(conv2dProgram({ kernelH: 7, kernelW: 7, pixelsPerThread: 4, vec4sPerThread: 2, residual: false, activation: true }).key).toBe(
      'conv2d/k7x7/p4v2/nores/act',
    );
    expect(depthwiseConvProgram({ kernelH: 3, kernelW: 3, pixelsPerThread: 4, residual: true, activation: true }).key).toBe(
      'depthwise/k3x3/p4/res/act',
    );
    expect(linearSplitKProgram({ activation: false }).key).toBe('linear-splitk/noact');
    expect(linearSplitKProgram({ activation: true, pooled: true }).key).toBe('linear-splitk/pooled/act');
    expect(linearPooledProgram({ activation: false, rowsPerThread: 8, vec4sPerThread: 2 }, 'f16-packed').key).toBe('linear-pooled/p8v2/noact/f16-packed');
  });

  it('binding lists per family', () => {
    const names = (p: KernelProgram) => p.bindings.map((b) => `${b.name}:${b.kind}`);
    expect(names(pointwiseConvProgram({ pixelsPerThread: 4, vec4sPerThread: 2, strided: false, residual: true, activation: true }))).toEqual([
      'src:read', 'weight:read', 'bias:read', 'residual:read', 'dst:write', 'params:uniform',
    ]);
    expect(names(depthwiseConvProgram({ kernelH: 3, kernelW: 3, pixelsPerThread: 4, residual: false, activation: true }))).toEqual([
      'src:read', 'weight:read', 'bias:read', 'dst:write', 'params:uniform',
    ]);
    expect(names(elementwiseProgram('add'))).toEqual(['a:read', 'b:read', 'dst:write', 'params:uniform']);
    expect(names(elementwiseProgram('activation'))).toEqual(['a:read', 'dst:write', 'params:uniform']);
    expect(names(softmaxProgram())).toEqual(['src:read', 'dst:write', 'params:uniform']);
    // Layout programs read or write plain f32 arrays at the NCHW side.
    expect(packNchwProgram().code).toContain('var<storage, read> src: array<f32>;');
    expect(unpackNchwProgram().code).toContain('var<storage, read_write> dst: array<f32>;');
    expect(flattenProgram().code).toContain('var<storage, read> src: array<vec4<f32>>;');
  });
});

// ---------------------------------------------------------------------------------------------------------
// Every generated program through Tint (Dawn's WGSL compiler), at every precision, on Dawn's null backend: it
// has `shader-f16`, which the software adapters lack, so native f16 WGSL is validated on any machine.

describe('WGSL validity under Dawn (null backend, shader-f16 enabled)', () => {
  it(`all ${GRID.length} programs compile`, async (ctx) => {
    const failures = await tintFailures(GRID.map((g) => ({ name: g.variant, make: g.make })));
    if (failures === null) return ctx.skip();
    expect(failures).toEqual([]);
  }, 120_000);
});
