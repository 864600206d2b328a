import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import type { KernelBinding, KernelProgram, UniformField } from './common.ts';
import { ACTIVATION_UNIFORMS, WORKGROUP_SIZE, bindingDecls, entryPoint, uniformStruct } from './common.ts';

/**
 * Element-wise ops that survive fusion: a residual add whose operands no convolution could absorb, and an
 * activation on its own. One vec4 per invocation.
 */
export const ELEMENTWISE_UNIFORMS: readonly UniformField[] = [{ name: 'total', type: 'u32' }, ...ACTIVATION_UNIFORMS];

export function elementwiseProgram(kind: 'add' | 'activation'): KernelProgram {
  const isAdd = kind === 'add';
  const bindings: KernelBinding[] = [
    { name: 'a', kind: 'read' },
    ...(isAdd ? [{ name: 'b', kind: 'read' } as const] : []),
    { name: 'dst', kind: 'write' },
    { name: 'params', kind: 'uniform' },
  ];
  const code = wgsl`
${uniformStruct(ELEMENTWISE_UNIFORMS)}
${bindingDecls(bindings, {})}

${entryPoint(WORKGROUP_SIZE)}
  if (flat >= params.total) { return; }
#if ${isAdd}
  let v = a[flat] + b[flat];
#else
  let v = a[flat];
#endif
  dst[flat] = clamp(v, vec4<f32>(params.actMin), vec4<f32>(params.actMax));
}
`;
  return { name: kind, key: `elementwise/${kind}`, code, bindings, uniforms: ELEMENTWISE_UNIFORMS, workgroupSize: WORKGROUP_SIZE };
}
