import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import type { KernelBinding, KernelProgram, StoragePrecision } from '../common.ts';
import { WORKGROUP_SIZE, bindingDecls, entryPoint, finishProgram, uniformStruct } from '../common.ts';
import { uniformBlock } from '../uniforms.ts';

/**
 * Layer normalisation over the channels of each pixel of an NHWC4 map, one pixel per invocation: two passes
 * over the pixel's channel vec4s (mean, then the variance of the centred values, which is accurate where
 * E[x^2] - E[x]^2 cancels), then a third that writes `(x - mean) / sqrt(var + eps) * gamma + beta`. `affine`
 * holds gamma's C4 vec4s then beta's (padding lanes 0, so padding channels are written as 0).
 */
export const LAYER_NORM_UNIFORMS = uniformBlock({
  pixels: 'u32',
  C: 'u32',
  C4: 'u32',
  epsilon: 'f32',
});

export const LAYER_NORM_BINDINGS: readonly KernelBinding[] = [
  { name: 'src', kind: 'read' },
  { name: 'affine', kind: 'read' },
  { name: 'dst', kind: 'write' },
  { name: 'params', kind: 'uniform' },
];

export function layerNormProgram(precision: StoragePrecision = 'f32'): KernelProgram {
  const code = wgsl`
${uniformStruct(LAYER_NORM_UNIFORMS.fields)}
${bindingDecls(LAYER_NORM_BINDINGS, { affine: 'array<vec4<f32>>' }, precision)}

fn lanesValid(c4: u32) -> vec4<bool> {
  return vec4<u32>(c4 * 4u) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(params.C);
}

${entryPoint(WORKGROUP_SIZE)}
  if (flat >= params.pixels) { return; }
  let base = flat * params.C4;
  var s = vec4<f32>(0.0);
  for (var c4 = 0u; c4 < params.C4; c4++) {
    s += select(vec4<f32>(0.0), load_src(base + c4), lanesValid(c4));
  }
  let mean = (s.x + s.y + s.z + s.w) / f32(params.C);
  var q = vec4<f32>(0.0);
  for (var c4 = 0u; c4 < params.C4; c4++) {
    let d = select(vec4<f32>(0.0), load_src(base + c4) - vec4<f32>(mean), lanesValid(c4));
    q += d * d;
  }
  let inv = 1.0 / sqrt((q.x + q.y + q.z + q.w) / f32(params.C) + params.epsilon);
  for (var c4 = 0u; c4 < params.C4; c4++) {
    let y = (load_src(base + c4) - vec4<f32>(mean)) * inv;
    store_dst(base + c4, select(vec4<f32>(0.0), y * affine[c4] + affine[params.C4 + c4], lanesValid(c4)));
  }
}
`;
  return finishProgram({
    name: 'layerNorm',
    key: 'layer-norm/channels',
    code,
    bindings: LAYER_NORM_BINDINGS,
    uniforms: LAYER_NORM_UNIFORMS.fields,
    workgroupSize: WORKGROUP_SIZE,
  }, precision);
}
