import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import type { KernelProgram, StoragePrecision } from '../common.ts';
import { SRC_DST_BINDINGS, WORKGROUP_SIZE, bindingDecls, entryPoint, finishProgram, nhwc4Coordinates, uniformStruct } from '../common.ts';
import { joinUniforms, uniformBlock } from '../uniforms.ts';

/**
 * Layout conversions at the graph's edges and for flatten: webcnn stores activations as NHWC with channels
 * padded to a multiple of four and packed in vec4 ("NHWC4"); users hand in and get back plain NCHW f32.
 */
export const LAYOUT_UNIFORMS = uniformBlock({
  total: 'u32',
  C: 'u32',
  C4: 'u32',
  H: 'u32',
  W: 'u32',
});

/**
 * NCHW f32 -> NHWC4; one output vec4 per invocation, padding channels zero. The four lanes are straight-line loads
 * (a padding lane reloads the last channel and is masked), not a loop writing `v[k]`, which SwiftShader keeps in memory.
 */
export function packNchwProgram(precision: StoragePrecision = 'f32'): KernelProgram {
  const code = wgsl`
${uniformStruct(LAYOUT_UNIFORMS.fields)}
${bindingDecls(SRC_DST_BINDINGS, { src: 'array<f32>' }, precision)}

${entryPoint(WORKGROUP_SIZE)}
${nhwc4Coordinates({ c4: 'C4', w: 'W', h: 'H' })}
  let plane = params.H * params.W;
  let first = ((n * params.C) * params.H + y) * params.W + x;
  let c = c4 * 4u;
  let last = params.C - 1u;
  store_dst(flat, vec4<f32>(
    src[first + c * plane],
    select(0.0, src[first + min(c + 1u, last) * plane], c + 1u <= last),
    select(0.0, src[first + min(c + 2u, last) * plane], c + 2u <= last),
    select(0.0, src[first + min(c + 3u, last) * plane], c + 3u <= last)));
}
`;
  return finishProgram({ name: 'packNCHW', key: 'layout/pack-nchw', code, bindings: SRC_DST_BINDINGS, uniforms: LAYOUT_UNIFORMS.fields, workgroupSize: WORKGROUP_SIZE }, precision);
}

/**
 * NHWC4 -> NCHW f32; one input vec4 per invocation (`total` = n * C4 * H * W, x fastest, so neighbouring
 * invocations write neighbouring columns of a plane), stored as its up to four channels' elements: a quarter of the
 * index arithmetic of one element per invocation, whose runtime divisions SwiftShader pays per lane.
 */
export function unpackNchwProgram(precision: StoragePrecision = 'f32'): KernelProgram {
  const code = wgsl`
${uniformStruct(LAYOUT_UNIFORMS.fields)}
${bindingDecls(SRC_DST_BINDINGS, { dst: 'array<f32>' }, precision)}

${entryPoint(WORKGROUP_SIZE)}
  if (flat >= params.total) { return; }
  let x = flat % params.W;
  var t = flat / params.W;
  let y = t % params.H;
  t = t / params.H;
  let c4 = t % params.C4;
  let n = t / params.C4;
  let v = load_src(((n * params.H + y) * params.W + x) * params.C4 + c4);
  let plane = params.H * params.W;
  let first = ((n * params.C + c4 * 4u) * params.H + y) * params.W + x;
  let lanes = params.C - c4 * 4u;
  dst[first] = v.x;
  if (lanes > 1u) { dst[first + plane] = v.y; }
  if (lanes > 2u) { dst[first + 2u * plane] = v.z; }
  if (lanes > 3u) { dst[first + 3u * plane] = v.w; }
}
`;
  return finishProgram({ name: 'unpackNCHW', key: 'layout/unpack-nchw', code, bindings: SRC_DST_BINDINGS, uniforms: LAYOUT_UNIFORMS.fields, workgroupSize: WORKGROUP_SIZE }, precision);
}

/**
 * Flatten `[n, C, H, W]` (NHWC4) to `[n, C*H*W, 1, 1]` (NHWC4) in NCHW element order, as PyTorch's
 * `flatten(1)` does; one output vec4 per invocation. Uniforms describe the input.
 */
export const FLATTEN_UNIFORMS = joinUniforms(LAYOUT_UNIFORMS, uniformBlock({
  outC4: 'u32',
}));

export function flattenProgram(precision: StoragePrecision = 'f32'): KernelProgram {
  const code = wgsl`
${uniformStruct(FLATTEN_UNIFORMS.fields)}
${bindingDecls(SRC_DST_BINDINGS, {}, precision)}

${entryPoint(WORKGROUP_SIZE)}
  if (flat >= params.total) { return; }
  let k4 = flat % params.outC4;
  let n = flat / params.outC4;
  let plane = params.H * params.W;
  let features = params.C * plane;
  var v = vec4<f32>(0.0);
  for (var j = 0u; j < 4u; j++) {
    let k = k4 * 4u + j;
    if (k < features) {
      let c = k / plane;
      let r = k % plane;
      v[j] = load_src_lane((n * plane + r) * params.C4 + c / 4u, c % 4u);
    }
  }
  store_dst(flat, v);
}
`;
  return finishProgram({ name: 'flatten', key: 'layout/flatten', code, bindings: SRC_DST_BINDINGS, uniforms: FLATTEN_UNIFORMS.fields, workgroupSize: WORKGROUP_SIZE }, precision);
}

/**
 * General reshape `[inN, inC, inH, inW]` -> `[outN, outC, outH, outW]` (NHWC4 both), keeping NCHW element
 * order: each output element's NCHW index is decomposed in the input shape and gathered. Flatten is the
 * special case `[n, c*h*w, 1, 1]`. One output vec4 per invocation, padding lanes zero.
 */
export const RESHAPE_UNIFORMS = uniformBlock({
  total: 'u32',
  inC: 'u32',
  inC4: 'u32',
  inH: 'u32',
  inW: 'u32',
  outC: 'u32',
  outC4: 'u32',
  outH: 'u32',
  outW: 'u32',
});

export function reshapeProgram(precision: StoragePrecision = 'f32'): KernelProgram {
  const code = wgsl`
${uniformStruct(RESHAPE_UNIFORMS.fields)}
${bindingDecls(SRC_DST_BINDINGS, {}, precision)}

${entryPoint(WORKGROUP_SIZE)}
${nhwc4Coordinates({ c4: 'outC4', w: 'outW', h: 'outH' })}
  var v = vec4<f32>(0.0);
  for (var j = 0u; j < 4u; j++) {
    let c = c4 * 4u + j;
    if (c < params.outC) {
      var i = ((n * params.outC + c) * params.outH + y) * params.outW + x;
      let ix = i % params.inW;
      i = i / params.inW;
      let iy = i % params.inH;
      i = i / params.inH;
      let ic = i % params.inC;
      let inN = i / params.inC;
      v[j] = load_src_lane(((inN * params.inH + iy) * params.inW + ix) * params.inC4 + ic / 4u, ic % 4u);
    }
  }
  store_dst(flat, v);
}
`;
  return finishProgram({ name: 'reshape', key: 'layout/reshape', code, bindings: SRC_DST_BINDINGS, uniforms: RESHAPE_UNIFORMS.fields, workgroupSize: WORKGROUP_SIZE }, precision);
}
