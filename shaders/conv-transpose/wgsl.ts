import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import type { KernelBinding, KernelProgram, StoragePrecision } from '../common.ts';
import { WORKGROUP_SIZE, bindingDecls, entryPoint, finishProgram, nhwc4Coordinates, uniformStruct } from '../common.ts';
import { uniformBlock } from '../uniforms.ts';

/**
 * Transposed convolution as a gather over NHWC4, one output vec4 (4 output channels of one pixel) per
 * invocation: output row `oy` takes kernel row `ky` from input row `(oy + padTop - ky * dilationH) / strideH`
 * where that division is exact and in range (likewise for columns). Weights are f32 vec4s of 4 output
 * channels, `[ky][kx][ic (padded to C4 * 4)][oc4]` (`packConvTransposeWeights`), groups expanded with zeros.
 */
export const CONV_TRANSPOSE_UNIFORMS = uniformBlock({
  total: 'u32',
  inC4: 'u32',
  outC4: 'u32',
  inH: 'u32',
  inW: 'u32',
  outH: 'u32',
  outW: 'u32',
  KH: 'u32',
  KW: 'u32',
  strideH: 'i32',
  strideW: 'i32',
  dilationH: 'i32',
  dilationW: 'i32',
  padTop: 'i32',
  padLeft: 'i32',
});

export const CONV_TRANSPOSE_BINDINGS: readonly KernelBinding[] = [
  { name: 'src', kind: 'read' },
  { name: 'weights', kind: 'read' },
  { name: 'bias', kind: 'read' },
  { name: 'dst', kind: 'write' },
  { name: 'params', kind: 'uniform' },
];

export function convTransposeProgram(precision: StoragePrecision = 'f32'): KernelProgram {
  const code = wgsl`
${uniformStruct(CONV_TRANSPOSE_UNIFORMS.fields)}
${bindingDecls(CONV_TRANSPOSE_BINDINGS, { weights: 'array<vec4<f32>>', bias: 'array<vec4<f32>>' }, precision)}

${entryPoint(WORKGROUP_SIZE)}
${nhwc4Coordinates({ c4: 'outC4', w: 'outW', h: 'outH' })}
  var acc = bias[c4];
  let O = params.outC4;
  for (var ky = 0u; ky < params.KH; ky++) {
    let ty = i32(y) + params.padTop - i32(ky) * params.dilationH;
    if (ty < 0 || ty % params.strideH != 0) { continue; }
    let iy = u32(ty / params.strideH);
    if (iy >= params.inH) { continue; }
    for (var kx = 0u; kx < params.KW; kx++) {
      let tx = i32(x) + params.padLeft - i32(kx) * params.dilationW;
      if (tx < 0 || tx % params.strideW != 0) { continue; }
      let ix = u32(tx / params.strideW);
      if (ix >= params.inW) { continue; }
      let src0 = ((n * params.inH + iy) * params.inW + ix) * params.inC4;
      let w0 = (ky * params.KW + kx) * params.inC4 * 4u;
      for (var ic4 = 0u; ic4 < params.inC4; ic4++) {
        let v = load_src(src0 + ic4);
        let wb = (w0 + ic4 * 4u) * O + c4;
        acc += v.x * weights[wb] + v.y * weights[wb + O] + v.z * weights[wb + 2u * O] + v.w * weights[wb + 3u * O];
      }
    }
  }
  store_dst(flat, acc);
}
`;
  return finishProgram({ name: 'conv-transpose', key: 'conv-transpose/gather', code, bindings: CONV_TRANSPOSE_BINDINGS, uniforms: CONV_TRANSPOSE_UNIFORMS.fields, workgroupSize: WORKGROUP_SIZE }, precision);
}
