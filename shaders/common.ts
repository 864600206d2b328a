/**
 * Pieces every kernel family shares: the description type of a kernel, generated uniform structs, the flat
 * invocation index that lets any kernel exceed 65535 workgroups per dimension, and the fused epilogue.
 *
 * A kernel is a pure description (name, cache key, WGSL source, bindings, uniform layout); the runtime decides
 * which buffers to bind and how many invocations to launch. Nothing here touches a GPU, so it unit-tests on
 * the CPU.
 */

import type { ActivationFunction } from '../src/graph/activations/index.ts';
import { activationFunctionKey, activationFunctionWgsl } from '../src/graph/activations/index.ts';
import type { Activation } from '../src/graph/ir.ts';
import type { UniformField } from './uniforms.ts';
import { uniformBlock } from './uniforms.ts';

export type { UniformField, UniformType } from './uniforms.ts';

export type BindingKind = 'read' | 'write' | 'uniform';

export interface KernelBinding {
  readonly name: string;
  readonly kind: BindingKind;
}

/**
 * How tensors (activations between kernels) and convolution / linear weights are stored: `f32` as
 * `array<vec4<f32>>`; `f16` natively as `array<vec4<f16>>` (needs the device feature `shader-f16`); `f16-packed`
 * as the same 8 bytes per vec4 in `array<vec2<u32>>`, converted with core WGSL's `pack2x16float` /
 * `unpack2x16float` (every adapter). Arithmetic is f32 in registers in every mode: kernels only load and store
 * through the accessors `bindingDecls` generates. Biases and the NCHW staging buffers at the edges stay f32.
 */
export type StoragePrecision = 'f32' | 'f16' | 'f16-packed';

export const STORAGE_PRECISIONS: readonly StoragePrecision[] = ['f32', 'f16', 'f16-packed'];

/** Bytes of one stored vec4 of channels. */
export function bytesPerVec4(precision: StoragePrecision): number {
  return precision === 'f32' ? 16 : 8;
}

export interface KernelProgram {
  /** Family name, shown in timings and errors. */
  readonly name: string;
  /** Everything that changes the WGSL, the precision included; programs with equal keys share one pipeline. */
  readonly key: string;
  /** Storage precision of the program's tensor bindings (absent: f32). */
  readonly precision?: StoragePrecision;
  readonly code: string;
  /** In binding-index order; `uniform` is always the last one, named `params`. */
  readonly bindings: readonly KernelBinding[];
  readonly uniforms: readonly UniformField[];
  /** Invocations per workgroup (1D). */
  readonly workgroupSize: number;
}

export const WORKGROUP_SIZE = 64;

/** WGSL for `struct Params { ... }`; every field is a 4-byte scalar, so offsets are index * 4. */
export function uniformStruct(fields: readonly UniformField[]): string {
  const lines = fields.map((f) => `  ${f.name}: ${f.type},`);
  return `struct Params {\n${lines.join('\n')}\n}`;
}

/** Byte size of the uniform block, rounded up to WGSL's 16-byte struct alignment for uniforms. */
export function uniformByteSize(fields: readonly UniformField[]): number {
  return Math.max(16, Math.ceil((fields.length * 4) / 16) * 16);
}

/** Packs uniform values in field order; a missing or non-representable value is a programming error. */
export function packUniforms(fields: readonly UniformField[], values: Readonly<Record<string, number>>): ArrayBuffer {
  const buffer = new ArrayBuffer(uniformByteSize(fields));
  const view = new DataView(buffer);
  fields.forEach((f, i) => {
    const v = values[f.name];
    if (v === undefined) throw new Error(`uniform ${f.name} has no value`);
    if (f.type === 'f32') {
      view.setFloat32(i * 4, v, true);
    } else {
      if (!Number.isInteger(v) || (f.type === 'u32' && v < 0)) throw new Error(`uniform ${f.name} = ${v} is not a ${f.type}`);
      if (f.type === 'u32') view.setUint32(i * 4, v, true);
      else view.setInt32(i * 4, v, true);
    }
  });
  return buffer;
}

/**
 * Binding declarations in order, `params` last, with accessors. A storage binding named in `elementTypes` is
 * declared with that type as it is (the NCHW f32 staging buffers, f32 biases) and indexed directly. Every other
 * storage binding `x` is a vec4 tensor stored at `precision`, and kernels reach it only through accessors that
 * convert to and from f32: for a read binding `load_x(i: u32) -> vec4<f32>` and `load_x_lane(i: u32, lane: u32)
 * -> f32` (one channel of vec4 `i`), for a written one `store_x(i: u32, v: vec4<f32>)`. In f32 they are the
 * plain array accesses (compilers inline them), so f32 kernels compute exactly what direct indexing did.
 * Native f16 also needs `enable f16;` at the top of the module: `finishProgram` puts it there.
 */
export function bindingDecls(
  bindings: readonly KernelBinding[],
  elementTypes: Readonly<Record<string, string>>,
  precision: StoragePrecision = 'f32',
): string {
  const decls = bindings.map((b, i) => {
    if (b.kind === 'uniform') return `@group(0) @binding(${i}) var<uniform> ${b.name}: Params;`;
    const access = b.kind === 'read' ? 'read' : 'read_write';
    const type = elementTypes[b.name] ?? tensorArrayType(precision);
    return `@group(0) @binding(${i}) var<storage, ${access}> ${b.name}: ${type};`;
  });
  const accessors = bindings
    .filter((b) => b.kind !== 'uniform' && elementTypes[b.name] === undefined)
    .map((b) => (b.kind === 'read' ? loadAccessors(b.name, precision) : storeAccessor(b.name, precision)));
  return [...decls, ...accessors].join('\n');
}

function tensorArrayType(precision: StoragePrecision): string {
  switch (precision) {
    case 'f32':
      return 'array<vec4<f32>>';
    case 'f16':
      return 'array<vec4<f16>>';
    case 'f16-packed':
      // Two halves per u32, x in the low 16 bits: byte for byte what array<vec4<f16>> holds.
      return 'array<vec2<u32>>';
  }
}

export function loadAccessors(name: string, precision: StoragePrecision): string {
  switch (precision) {
    case 'f32':
      return `fn load_${name}(i: u32) -> vec4<f32> { return ${name}[i]; }
fn load_${name}_lane(i: u32, lane: u32) -> f32 { return ${name}[i][lane]; }`;
    case 'f16':
      return `fn load_${name}(i: u32) -> vec4<f32> { return vec4<f32>(${name}[i]); }
fn load_${name}_lane(i: u32, lane: u32) -> f32 { return f32(${name}[i][lane]); }`;
    case 'f16-packed':
      return `fn load_${name}(i: u32) -> vec4<f32> { let h = ${name}[i]; return vec4<f32>(unpack2x16float(h.x), unpack2x16float(h.y)); }
fn load_${name}_lane(i: u32, lane: u32) -> f32 { return unpack2x16float(${name}[i][lane / 2u])[lane % 2u]; }`;
  }
}

function storeAccessor(name: string, precision: StoragePrecision): string {
  switch (precision) {
    case 'f32':
      return `fn store_${name}(i: u32, v: vec4<f32>) { ${name}[i] = v; }`;
    case 'f16':
      return `fn store_${name}(i: u32, v: vec4<f32>) { ${name}[i] = vec4<f16>(v); }`;
    case 'f16-packed':
      return `fn store_${name}(i: u32, v: vec4<f32>) { ${name}[i] = vec2<u32>(pack2x16float(v.xy), pack2x16float(v.zw)); }`;
  }
}

/**
 * A kernel family's program made for `precision`: the precision joins the key (f32 keys stay as they were), and
 * native f16 gets `enable f16;`, which WGSL requires before any declaration.
 */
export function finishProgram(program: Omit<KernelProgram, 'precision'>, precision: StoragePrecision): KernelProgram {
  if (precision === 'f32') return { ...program, precision };
  const code = precision === 'f16' ? `enable f16;\n${program.code}` : program.code;
  return { ...program, precision, key: `${program.key}/${precision}`, code };
}

/**
 * Entry point header: `flat` is a global invocation index over a grid that the runtime folds into at most
 * 65535 workgroups per dimension.
 */
export function entryPoint(workgroupSize: number): string {
  return `@compute @workgroup_size(${workgroupSize})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
  let flat = (wg.y * nwg.x + wg.x) * ${workgroupSize}u + li;`;
}

/**
 * WGSL after `entryPoint`: leave past `params.total`, then split `flat` into NHWC4 coordinates `n`, `y`, `x`,
 * `c4` (channel vec4s fastest) over the named uniform extents; `names` renames `x`, `y` and `c4` (the row tiles
 * split into column and channel groups this way too).
 */
export function nhwc4Coordinates(extent: { c4: string; w: string; h: string }, names: { x: string; y: string; c4?: string } = { x: 'x', y: 'y' }): string {
  return `  if (flat >= params.total) { return; }
  let ${names.c4 ?? 'c4'} = flat % params.${extent.c4};
  var t = flat / params.${extent.c4};
  let ${names.x} = t % params.${extent.w};
  t = t / params.${extent.w};
  let ${names.y} = t % params.${extent.h};
  let n = t / params.${extent.h};`;
}

/**
 * Invocation -> (image `n`, output row `oy`, first output column `ox0`, channel vec4 `c4`) for kernels that compute
 * `P` neighbouring output columns of one channel vec4 (depthwise, windowed pools; uniforms `total`, `C4`, `oxGroups`,
 * `outH`, `inW`), plus `lastX`, the last input column.
 */
export function rowTilePrologue(P: number): string {
  return `${nhwc4Coordinates({ c4: 'C4', w: 'oxGroups', h: 'outH' }, { x: 'oxGroup', y: 'oy' })}
  let ox0 = oxGroup * ${P}u;
  let lastX = i32(params.inW) - 1;`;
}

/**
 * The input columns, counted from a row tile's first, that some tap of its `P` output columns reads: output `p` at
 * window column `kx` reads `p * strideX + kx * dilationX` (with stride or dilation above 1 some are skipped).
 */
export function rowTileColumns(P: number, kernelW: number, strideX: number, dilationX = 1): number[] {
  const used = new Set<number>();
  for (let p = 0; p < P; p++) for (let kx = 0; kx < kernelW; kx++) used.add(p * strideX + kx * dilationX);
  return [...used].sort((a, b) => a - b);
}

/**
 * Output columns of a row tile, at most `P` and at least 1, whose kernel row loads at most `maxSpan` input columns
 * (`(columns - 1) * strideX + (kernelW - 1) * dilationX + 1`): the row kernels' code is unrolled over the span, and
 * SwiftShader's compile time grows steeply with it.
 */
export function columnsWithinSpan(P: number, kernelW: number, strideX: number, dilationX: number, maxSpan: number): number {
  const reach = (kernelW - 1) * dilationX + 1;
  return Math.max(1, Math.min(P, Math.floor((maxSpan - reach) / strideX) + 1));
}

/**
 * The WGSL conjunction of `conditions` without short-circuiting: `(a) & (b) & ...`. Each `&&` is a branch in the
 * SPIR-V that SwiftShader compiles, and unrolled code full of them compiled many times slower, or ran its compiler
 * out of memory (a 5x5 stride-4 walking stem); the operands here are side-effect-free comparisons.
 */
export function allOf(...conditions: string[]): string {
  return joinConditions(conditions, '&');
}

/** The WGSL disjunction of `conditions` without short-circuiting, `(a) | (b) | ...`, for the reason `allOf` gives. */
export function anyOf(...conditions: string[]): string {
  return joinConditions(conditions, '|');
}

function joinConditions(conditions: readonly string[], operator: '&' | '|'): string {
  if (conditions.length === 0) throw new Error(`a WGSL ${operator === '&' ? 'conjunction' : 'disjunction'} needs a condition`);
  return conditions.length === 1 ? conditions[0] : conditions.map((c) => `(${c})`).join(` ${operator} `);
}

/** Whether the i32 input column `ix` lies in the row (0 to `lastX`): the mask of a clamped, zero-padded load. */
export function columnInRow(ix: string): string {
  return allOf(`${ix} >= 0`, `${ix} <= lastX`);
}

/**
 * For each input column `j` of `columns` (counted from the i32 expression `first`), `valid<j>` (inside the row:
 * 0 to `lastX`) and `col<j>` (clamped into it), once per invocation: the row tiles load each column through them.
 */
export function maskedColumns(columns: readonly number[], first: string): string {
  return columns.map((j) => `  let valid${j} = ${columnInRow(`${first} + ${j}`)};\n  let col${j} = u32(clamp(${first} + ${j}, 0, lastX));`).join('\n');
}

/** Bindings of the one-input kernels (layout, pad, pool, softmax): input, output, uniforms. */
export const SRC_DST_BINDINGS: readonly KernelBinding[] = [
  { name: 'src', kind: 'read' },
  { name: 'dst', kind: 'write' },
  { name: 'params', kind: 'uniform' },
];

/** Uniform fields of the fused epilogue's clamp. */
export const ACTIVATION_UNIFORMS = uniformBlock({ actMin: 'f32', actMax: 'f32' });

/** Largest finite f32: stands in for an infinite clamp bound, since WGSL constants cannot be infinite. */
export const F32_MAX = 3.4028234663852886e38;

export function clampBound(v: number): number {
  if (v === Infinity) return F32_MAX;
  if (v === -Infinity) return -F32_MAX;
  return v;
}

/** Integer ceil division. */
export function ceilDiv(a: number, b: number): number {
  return Math.floor((a + b - 1) / b);
}

/** Straight-line code: `body(i)` for i in [0, n), joined by newlines (WGSL compilers keep these in registers). */
export function unroll(n: number, body: (i: number) => string): string {
  return Array.from({ length: n }, (_, i) => body(i)).join('\n');
}

/** Same as `unroll` over a 2D range. */
export function unroll2(a: number, b: number, body: (i: number, j: number) => string): string {
  return unroll(a, (i) => unroll(b, (j) => body(i, j)));
}

/**
 * The activation variant of a fused epilogue: `activation` is the clamp (bounds in the uniforms `actMin`,
 * `actMax`), `fn` a function of the activation table, compiled in with its parameters. An IR activation sets
 * one of them at most.
 */
export interface EpilogueActivation {
  readonly activation: boolean;
  readonly fn?: ActivationFunction;
}

export function epilogueActivation(a: Activation): EpilogueActivation {
  if (a.kind === 'function') return { activation: false, fn: { name: a.name, params: a.params } };
  return { activation: a.kind !== 'none' };
}

/** The activation part of a program key: `act` / `noact` (the clamp), then `/<function>(<params>)` if any. */
export function epilogueKey(v: EpilogueActivation): string {
  return `${v.activation ? 'act' : 'noact'}${v.fn ? `/${activationFunctionKey(v.fn)}` : ''}`;
}

/** WGSL statement applying the epilogue's activation to the `vec4<f32>` variable `name` ('' for none). */
export function epilogueActivationStatement(v: EpilogueActivation, name: string): string {
  if (v.fn) return `  ${name} = ${activationFunctionWgsl(v.fn, name)};`;
  return v.activation ? `  ${name} = clamp(${name}, vec4<f32>(params.actMin), vec4<f32>(params.actMax));` : '';
}

/**
 * `epilogue(v, o)`: the fused tail of every convolution: optional residual add (`load_residual(o)`), then the
 * clamp or the table function. Kernels call it with the bias already added.
 *
 * The clamp is a compile-time variant: a uniform flag measured slower (figures: docs/decisions/epilogue-clamp.md).
 */
export function epilogueFunction(v: { readonly residual: boolean } & EpilogueActivation): string {
  return [
    'fn epilogue(acc: vec4<f32>, o: u32) -> vec4<f32> {',
    '  var v = acc;',
    v.residual ? '  v += load_residual(o);' : '',
    epilogueActivationStatement(v, 'v'),
    '  return v;',
    '}',
  ]
    .filter((l) => l !== '')
    .join('\n');
}

/**
 * Bindings of every convolution kernel: input, packed weights, bias, the optional residual, `extra` (an input
 * transform's, shaders/conv-input.ts), output, uniforms. Declare them with `CONV_ELEMENT_TYPES`: the bias stays
 * f32 at every precision.
 */
export function convBindings(residual: boolean, extra: readonly KernelBinding[] = []): KernelBinding[] {
  return [
    { name: 'src', kind: 'read' },
    { name: 'weight', kind: 'read' },
    { name: 'bias', kind: 'read' },
    ...(residual ? [{ name: 'residual', kind: 'read' } as const] : []),
    ...extra,
    { name: 'dst', kind: 'write' },
    { name: 'params', kind: 'uniform' },
  ];
}

/** `bindingDecls` element types of the convolution bindings: everything but the f32 bias is a tensor. */
export const CONV_ELEMENT_TYPES: Readonly<Record<string, string>> = { bias: 'array<vec4<f32>>' };
