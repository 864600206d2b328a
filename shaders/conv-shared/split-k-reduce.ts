import type { ActivationFunction } from '../../src/graph/activations/index.ts';
import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import type { KernelBinding, KernelProgram, StoragePrecision } from '../common.ts';
import { ACTIVATION_UNIFORMS, WORKGROUP_SIZE, bindingDecls, entryPoint, epilogueFunction, epilogueKey, finishProgram, uniformStruct } from '../common.ts';
import { joinUniforms, uniformBlock } from '../uniforms.ts';

/**
 * Second launch of a split-K convolution (wgsl.ts with `splitK`): one invocation per output vec4 adds
 * the `slices` f32 partial sums `partial[s * total + o]` in slice order (so results do not depend on
 * scheduling), then applies what the single-launch kernel's epilogue does: bias, optional residual add, clamp;
 * and stores at the model's precision.
 */
export interface SplitKReduceVariant {
  readonly residual: boolean;
  readonly activation: boolean;
  /** A table activation function instead of the clamp (`EpilogueActivation`). */
  readonly fn?: ActivationFunction;
}

export const SPLIT_K_REDUCE_UNIFORMS = joinUniforms(uniformBlock({
  total: 'u32',
  outC4: 'u32',
  slices: 'u32',
}), ACTIVATION_UNIFORMS);

/** Partial sums and bias are f32 at every precision; residual and output are tensors at the model's. */
const ELEMENT_TYPES: Readonly<Record<string, string>> = { partial: 'array<vec4<f32>>', bias: 'array<vec4<f32>>' };

export function splitKReduceBindings(residual: boolean): KernelBinding[] {
  return [
    { name: 'partial', kind: 'read' },
    { name: 'bias', kind: 'read' },
    ...(residual ? [{ name: 'residual', kind: 'read' } as const] : []),
    { name: 'dst', kind: 'write' },
    { name: 'params', kind: 'uniform' },
  ];
}

export function splitKReduceProgram(v: SplitKReduceVariant, precision: StoragePrecision = 'f32'): KernelProgram {
  const bindings = splitKReduceBindings(v.residual);
  const code = wgsl`
${uniformStruct(SPLIT_K_REDUCE_UNIFORMS.fields)}
${bindingDecls(bindings, ELEMENT_TYPES, precision)}

${entryPoint(WORKGROUP_SIZE)}
  if (flat >= params.total) { return; }
  var acc = partial[flat];
  for (var s = 1u; s < params.slices; s++) {
    acc += partial[s * params.total + flat];
  }
  store_dst(flat, epilogue(acc + bias[flat % params.outC4], flat));
}

${epilogueFunction(v)}
`;
  return finishProgram({
    name: 'split-k-reduce',
    key: `split-k-reduce/${v.residual ? 'res' : 'nores'}/${epilogueKey(v)}`,
    code,
    bindings,
    uniforms: SPLIT_K_REDUCE_UNIFORMS.fields,
    workgroupSize: WORKGROUP_SIZE,
  }, precision);
}
