import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { BINARY_OPS } from '../../src/graph/binary-ops.ts';
import type { BinaryOp } from '../../src/graph/ir.ts';
import type { KernelBinding, KernelProgram, StoragePrecision } from '../common.ts';
import { ACTIVATION_UNIFORMS, WORKGROUP_SIZE, bindingDecls, entryPoint, finishProgram, nhwc4Coordinates, uniformStruct } from '../common.ts';
import { joinUniforms, uniformBlock } from '../uniforms.ts';

/**
 * How the kernel reads one operand: a tensor of the output's shape (read at the output's own index), a tensor
 * that broadcasts, or a constant (f32 NHWC4 of its own shape, always read through the broadcast index).
 */
export type OperandMode = 'same' | 'broadcast' | 'constant';

export interface BinaryProgramSpec {
  readonly op: BinaryOp;
  readonly a: OperandMode;
  readonly b: OperandMode;
}

/**
 * `act(a op b)` with NumPy-style broadcasting over the four axes: each operand's `[N, C, H, W]` is a uniform, an
 * operand with `C = 1` is splatted across the output's channel lanes. The output's padding lanes (channels past
 * `outC`) are written as 0, since a following convolution multiplies them by zero weights and `0 / 0` would
 * make that NaN. One output vec4 per invocation.
 */
export const BINARY_UNIFORMS = joinUniforms(uniformBlock({
  total: 'u32',
  outC: 'u32',
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

const OPERANDS = [
  { side: 'a', binding: 'lhs' },
  { side: 'b', binding: 'rhs' },
] as const;

export function binaryProgram(spec: BinaryProgramSpec, precision: StoragePrecision = 'f32'): KernelProgram {
  const { wgsl: expression, helpers = '' } = BINARY_OPS[spec.op];
  const bindings: KernelBinding[] = [
    { name: 'lhs', kind: 'read' },
    { name: 'rhs', kind: 'read' },
    { name: 'dst', kind: 'write' },
    { name: 'params', kind: 'uniform' },
  ];
  // Constants stay f32 at every storage precision (like biases), so they get their own plain accessor.
  const elementTypes: Record<string, string> = {};
  const constantAccessors: string[] = [];
  const loads = OPERANDS.map(({ side, binding }) => {
    const mode = spec[side];
    if (mode === 'constant') {
      elementTypes[binding] = 'array<vec4<f32>>';
      constantAccessors.push(`fn load_${binding}(i: u32) -> vec4<f32> { return ${binding}[i]; }`);
    }
    if (mode === 'same') return `  let ${side} = load_${binding}(flat);`;
    return `  var ${side} = load_${binding}(operandIndex(n, y, x, c4, params.${side}N, params.${side}C, params.${side}H, params.${side}W));
  if (params.${side}C == 1u) { ${side} = vec4<f32>(${side}.x); }`;
  });
  const code = wgsl`
${uniformStruct(BINARY_UNIFORMS.fields)}
${bindingDecls(bindings, elementTypes, precision)}
${constantAccessors.join('\n')}
${helpers}

fn binary_op(a: vec4<f32>, b: vec4<f32>) -> vec4<f32> { return ${expression}; }

// Operand value at output position (n, y, x, c4): broadcast axes (size 1) read index 0.
fn operandIndex(n: u32, y: u32, x: u32, c4: u32, N: u32, C: u32, H: u32, W: u32) -> u32 {
  let cv = select(c4, 0u, C == 1u);
  return (((n % N) * H + y % H) * W + x % W) * ((C + 3u) / 4u) + cv;
}

${entryPoint(WORKGROUP_SIZE)}
${nhwc4Coordinates({ c4: 'outC4', w: 'outW', h: 'outH' })}
${loads.join('\n')}
  let v = clamp(binary_op(a, b), vec4<f32>(params.actMin), vec4<f32>(params.actMax));
  let lane = vec4<u32>(c4 * 4u) + vec4<u32>(0u, 1u, 2u, 3u);
  store_dst(flat, select(vec4<f32>(0.0), v, lane < vec4<u32>(params.outC)));
}
`;
  return finishProgram({
    name: `binary-${spec.op}`,
    key: `binary/${spec.op}/${spec.a}-${spec.b}`,
    code,
    bindings,
    uniforms: BINARY_UNIFORMS.fields,
    workgroupSize: WORKGROUP_SIZE,
  }, precision);
}
