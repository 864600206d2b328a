import type { Conv2dNode } from '../src/graph/ir.ts';
import { activationBounds, convChannelScale } from '../src/graph/ir.ts';
import type { BufferRef } from '../src/runtime/step.ts';
import { constant, tensor } from '../src/runtime/step.ts';
import type { KernelBinding } from './common.ts';
import { c4 } from '../src/runtime/pack-weights.ts';

/**
 * A convolution's input transform (`ConvInputTransform`, src/graph/ir.ts) as the dense kernels apply it while they
 * load their input: `transform_input(v, n, ci4)` maps input vec4 `ci4` of image `n`. A channel scale reads the
 * `[n, c, 1, 1]` tensor bound as `inScale` (NHWC4: vec4 `n * inC4 + ci4`); an affine reads its f32 constants
 * `inAffine` (`inC4` scale vec4s, then `inC4` shift vec4s; zero in padded channels, which stay 0) and clamps to
 * bounds compiled in. Kernels call it only on loaded values, never on padding.
 */
export type InputTransformVariant =
  | { readonly kind: 'channelScale' }
  | { readonly kind: 'affine'; readonly min: number; readonly max: number };

/** The variant of a convolution's transform, or undefined for none. */
export function inputTransformOf(node: Conv2dNode): InputTransformVariant | undefined {
  const t = node.attrs.input;
  if (!t) return undefined;
  if (t.kind === 'channelScale') return { kind: 'channelScale' };
  const [min, max] = activationBounds(t.activation);
  return { kind: 'affine', min, max };
}

/** The binding the transform reads (inserted before the output binding), none without one. */
export function inputTransformBindings(t: InputTransformVariant | undefined): KernelBinding[] {
  if (!t) return [];
  return [{ name: t.kind === 'channelScale' ? 'inScale' : 'inAffine', kind: 'read' }];
}

/** `bindingDecls` element types: the affine's constants are f32 at every precision (the scale is a tensor). */
export const INPUT_TRANSFORM_ELEMENT_TYPES: Readonly<Record<string, string>> = { inAffine: 'array<vec4<f32>>' };

/** The program-key part of a transform ('' for none, so keys without one stay as they were). */
export function inputTransformKey(t: InputTransformVariant | undefined): string {
  if (!t) return '';
  return t.kind === 'channelScale' ? '/in-scale' : `/in-affine(${t.min},${t.max})`;
}

/** A finite bound as a WGSL f32 expression. */
const f32Literal = (v: number): string => `f32(${Number.isInteger(v) ? `${v}.0` : String(v)})`;

/**
 * WGSL statements that read what a transform needs for input vec4 `ci4` of every pixel ('' for a channel scale,
 * which depends on the image): a kernel that loads several pixels of one `ci4` emits them once.
 */
export function inputTransformHoist(t: InputTransformVariant | undefined): string {
  return t?.kind === 'affine' ? 'let inS = inAffine[ci4]; let inT = inAffine[params.inC4 + ci4];' : '';
}

/** The transform of input vec4 expression `v` of image `n` (after `inputTransformHoist`; `ci4` in scope). */
export function inputTransformApply(t: InputTransformVariant, v: string, n: string): string {
  if (t.kind === 'channelScale') return `${v} * load_inScale(${n} * params.inC4 + ci4)`;
  let e = `${v} * inS + inT`;
  if (t.min !== -Infinity) e = `max(${e}, vec4<f32>(${f32Literal(t.min)}))`;
  if (t.max !== Infinity) e = `min(${e}, vec4<f32>(${f32Literal(t.max)}))`;
  return e;
}

/** WGSL of `transform_input(v, n, ci4)` ('' for none); kernels with a `params.inC4` uniform only. */
export function inputTransformWgsl(t: InputTransformVariant | undefined): string {
  if (!t) return '';
  return `fn transform_input(v: vec4<f32>, n: u32, ci4: u32) -> vec4<f32> { ${inputTransformHoist(t)} return ${inputTransformApply(t, 'v', 'n')}; }`;
}

/** The buffers of `inputTransformBindings` for a convolution. */
export function inputTransformBuffers(node: Conv2dNode): Record<string, BufferRef> {
  const t = node.attrs.input;
  if (!t) return {};
  if (t.kind === 'channelScale') return { inScale: tensor(convChannelScale(node)!) };
  const inC = t.scale.length;
  const n4 = c4(inC) * 4;
  const packed = new Float32Array(2 * n4);
  packed.set(t.scale.subarray(0, inC));
  packed.set(t.shift.subarray(0, inC), n4);
  return { inAffine: constant(packed) };
}
