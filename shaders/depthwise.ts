import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import type { KernelBinding, KernelProgram, UniformField } from './common.ts';
import {
  ACTIVATION_UNIFORMS,
  WORKGROUP_SIZE,
  bindingDecls,
  entryPoint,
  epilogueFunction,
  uniformStruct,
  unroll,
} from './common.ts';

/**
 * Depthwise KxK convolution (groups = channels) over NHWC4: each invocation computes one vec4 of channels for
 * `pixelsPerThread` neighbouring output columns, so each weight is loaded once per tap and reused across them.
 * Padding is a clamped load masked by `select`, not a branch per tap. Weights are packed `[kh][kw][C4]` vec4s.
 */
export interface DepthwiseVariant {
  readonly kernelH: number;
  readonly kernelW: number;
  readonly pixelsPerThread: number;
  readonly residual: boolean;
  readonly activation: boolean;
}

export const DEPTHWISE_UNIFORMS: readonly UniformField[] = [
  { name: 'total', type: 'u32' },
  { name: 'inH', type: 'u32' },
  { name: 'inW', type: 'u32' },
  { name: 'C4', type: 'u32' },
  { name: 'outH', type: 'u32' },
  { name: 'outW', type: 'u32' },
  { name: 'oxGroups', type: 'u32' },
  { name: 'strideY', type: 'u32' },
  { name: 'strideX', type: 'u32' },
  { name: 'dilationY', type: 'u32' },
  { name: 'dilationX', type: 'u32' },
  { name: 'padTop', type: 'i32' },
  { name: 'padLeft', type: 'i32' },
  ...ACTIVATION_UNIFORMS,
];

export function depthwiseConvProgram(v: DepthwiseVariant): KernelProgram {
  const P = v.pixelsPerThread;
  const bindings: KernelBinding[] = [
    { name: 'src', kind: 'read' },
    { name: 'weight', kind: 'read' },
    { name: 'bias', kind: 'read' },
    ...(v.residual ? [{ name: 'residual', kind: 'read' } as const] : []),
    { name: 'dst', kind: 'write' },
    { name: 'params', kind: 'uniform' },
  ];
  const code = wgsl`
${uniformStruct(DEPTHWISE_UNIFORMS)}
${bindingDecls(bindings, {})}
const KH = ${v.kernelH}u;
const KW = ${v.kernelW}u;

${entryPoint(WORKGROUP_SIZE)}
  if (flat >= params.total) { return; }
  let c4 = flat % params.C4;
  var t = flat / params.C4;
  let oxGroup = t % params.oxGroups;
  t = t / params.oxGroups;
  let oy = t % params.outH;
  let n = t / params.outH;
  let ox0 = oxGroup * ${P}u;
  let lastX = i32(params.inW) - 1;
${unroll(P, (p) => `  var acc${p} = vec4<f32>(0.0);`)}
  for (var ky = 0u; ky < KH; ky++) {
    let iy = i32(oy * params.strideY + ky * params.dilationY) - params.padTop;
    if (iy < 0 || iy >= i32(params.inH)) { continue; }
    let rowBase = (n * params.inH + u32(iy)) * params.inW;
    for (var kx = 0u; kx < KW; kx++) {
      let w = weight[(ky * KW + kx) * params.C4 + c4];
      let ixBase = i32(kx * params.dilationX) - params.padLeft;
${unroll(P, (p) => `      let ix${p} = i32((ox0 + ${p}u) * params.strideX) + ixBase;
      let x${p} = src[(rowBase + u32(clamp(ix${p}, 0, lastX))) * params.C4 + c4];
      acc${p} = fma(select(vec4<f32>(0.0), x${p}, ix${p} >= 0 && ix${p} <= lastX), w, acc${p});`)}
    }
  }
  let b = bias[c4];
${unroll(P, (p) => `  if (ox0 + ${p}u < params.outW) {
    let o = ((n * params.outH + oy) * params.outW + ox0 + ${p}u) * params.C4 + c4;
    dst[o] = epilogue(acc${p} + b, o);
  }`)}
}

${epilogueFunction(v)}
`;
  return {
    name: 'depthwise',
    key: `depthwise/k${v.kernelH}x${v.kernelW}/p${P}/${v.residual ? 'res' : 'nores'}/${v.activation ? 'act' : 'noact'}`,
    code,
    bindings,
    uniforms: DEPTHWISE_UNIFORMS,
    workgroupSize: WORKGROUP_SIZE,
  };
}
