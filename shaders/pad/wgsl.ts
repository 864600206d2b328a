import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import type { KernelProgram, StoragePrecision } from '../common.ts';
import { SRC_DST_BINDINGS, WORKGROUP_SIZE, anyOf, bindingDecls, entryPoint, finishProgram, nhwc4Coordinates, uniformStruct } from '../common.ts';
import { uniformBlock } from '../uniforms.ts';

/**
 * Constant spatial padding (negative pads crop) over NHWC4: output `(n, y, x)` reads input
 * `(n, y - padTop, x - padLeft)` or takes `value` outside the input. One output vec4 per invocation.
 */
export const PAD_UNIFORMS = uniformBlock({
  total: 'u32',
  C4: 'u32',
  inH: 'u32',
  inW: 'u32',
  outH: 'u32',
  outW: 'u32',
  padTop: 'i32',
  padLeft: 'i32',
  value: 'f32',
});

export function padProgram(precision: StoragePrecision = 'f32'): KernelProgram {
  const code = wgsl`
${uniformStruct(PAD_UNIFORMS.fields)}
${bindingDecls(SRC_DST_BINDINGS, {}, precision)}

${entryPoint(WORKGROUP_SIZE)}
${nhwc4Coordinates({ c4: 'C4', w: 'outW', h: 'outH' })}
  let iy = i32(y) - params.padTop;
  let ix = i32(x) - params.padLeft;
  if (${anyOf('iy < 0', 'iy >= i32(params.inH)', 'ix < 0', 'ix >= i32(params.inW)')}) {
    store_dst(flat, vec4<f32>(params.value));
    return;
  }
  store_dst(flat, load_src(((n * params.inH + u32(iy)) * params.inW + u32(ix)) * params.C4 + c4));
}
`;
  return finishProgram({ name: 'pad', key: 'pad/constant', code, bindings: SRC_DST_BINDINGS, uniforms: PAD_UNIFORMS.fields, workgroupSize: WORKGROUP_SIZE }, precision);
}
