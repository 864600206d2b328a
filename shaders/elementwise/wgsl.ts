import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import type { ActivationFunction } from '../../src/graph/activations/index.ts';
import { activationFunctionKey } from '../../src/graph/activations/index.ts';
import type { KernelBinding, KernelProgram, StoragePrecision } from '../common.ts';
import { ACTIVATION_UNIFORMS, WORKGROUP_SIZE, bindingDecls, entryPoint, epilogueActivationStatement, finishProgram, nhwc4Coordinates, uniformStruct } from '../common.ts';
import { joinUniforms, uniformBlock } from '../uniforms.ts';

/**
 * Element-wise ops that survive fusion: a residual add whose operands no convolution could absorb, and an
 * activation on its own. One vec4 per invocation.
 */
export const ELEMENTWISE_UNIFORMS = joinUniforms(uniformBlock({
  total: 'u32',
}), ACTIVATION_UNIFORMS);

/** `v` clamped to the uniform bounds (the clamp kinds and none), or with table function `fn` applied. */
function activated(v: string, fn: ActivationFunction | undefined): string {
  return fn ? `  var r = ${v};\n${epilogueActivationStatement({ activation: false, fn }, 'r')}\n  store_dst(flat, r);` : `  store_dst(flat, clamp(${v}, vec4<f32>(params.actMin), vec4<f32>(params.actMax)));`;
}

/** The key suffix of a table function (none for the clamp kinds, whose keys stay as they were). */
function fnKey(fn: ActivationFunction | undefined): string {
  return fn ? `/${activationFunctionKey(fn)}` : '';
}

export function elementwiseProgram(kind: 'add' | 'activation', precision: StoragePrecision = 'f32', fn?: ActivationFunction): KernelProgram {
  const isAdd = kind === 'add';
  const bindings: KernelBinding[] = [
    { name: 'a', kind: 'read' },
    ...(isAdd ? [{ name: 'b', kind: 'read' } as const] : []),
    { name: 'dst', kind: 'write' },
    { name: 'params', kind: 'uniform' },
  ];
  const code = wgsl`
${uniformStruct(ELEMENTWISE_UNIFORMS.fields)}
${bindingDecls(bindings, {}, precision)}

${entryPoint(WORKGROUP_SIZE)}
  if (flat >= params.total) { return; }
#if ${isAdd}
  let v = load_a(flat) + load_b(flat);
#else
  let v = load_a(flat);
#endif
${activated('v', fn)}
}
`;
  return finishProgram({ name: kind, key: `elementwise/${kind}${fnKey(fn)}`, code, bindings, uniforms: ELEMENTWISE_UNIFORMS.fields, workgroupSize: WORKGROUP_SIZE }, precision);
}

/**
 * `act(a + b)` with NumPy-style broadcasting over the four axes (each operand axis equals the output's or is
 * 1). Uniforms give each operand's `[N, C, H, W]`; an operand with `C = 1` is splatted across the output's
 * channel lanes. One output vec4 per invocation.
 */
export const BROADCAST_ADD_UNIFORMS = joinUniforms(uniformBlock({
  total: 'u32',
  outC4: 'u32',
  outH: 'u32',
  outW: 'u32',
  aN: 'u32',
  aC: 'u32',
  aH: 'u32',
  aW: 'u32',
  bN: 'u32',
  bC: 'u32',
  bH: 'u32',
  bW: 'u32',
}), ACTIVATION_UNIFORMS);

export function broadcastAddProgram(precision: StoragePrecision = 'f32', fn?: ActivationFunction): KernelProgram {
  const bindings: KernelBinding[] = [
    { name: 'a', kind: 'read' },
    { name: 'b', kind: 'read' },
    { name: 'dst', kind: 'write' },
    { name: 'params', kind: 'uniform' },
  ];
  const code = wgsl`
${uniformStruct(BROADCAST_ADD_UNIFORMS.fields)}
${bindingDecls(bindings, {}, precision)}

// Operand value at output position (n, y, x, c4): broadcast axes (size 1) read index 0.
fn operandIndex(n: u32, y: u32, x: u32, c4: u32, N: u32, C: u32, H: u32, W: u32) -> u32 {
  let cv = select(c4, 0u, C == 1u);
  return (((n % N) * H + y % H) * W + x % W) * ((C + 3u) / 4u) + cv;
}

${entryPoint(WORKGROUP_SIZE)}
${nhwc4Coordinates({ c4: 'outC4', w: 'outW', h: 'outH' })}
  var va = load_a(operandIndex(n, y, x, c4, params.aN, params.aC, params.aH, params.aW));
  if (params.aC == 1u) { va = vec4<f32>(va.x); }
  var vb = load_b(operandIndex(n, y, x, c4, params.bN, params.bC, params.bH, params.bW));
  if (params.bC == 1u) { vb = vec4<f32>(vb.x); }
${activated('va + vb', fn)}
}
`;
  return finishProgram({
    name: 'broadcastAdd',
    key: `elementwise/broadcast-add${fnKey(fn)}`,
    code,
    bindings,
    uniforms: BROADCAST_ADD_UNIFORMS.fields,
    workgroupSize: WORKGROUP_SIZE,
  }, precision);
}
