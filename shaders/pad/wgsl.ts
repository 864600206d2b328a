import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import type { KernelProgram, StoragePrecision, UniformField } from '../common.ts';
import { SRC_DST_BINDINGS, WORKGROUP_SIZE, bindingDecls, entryPoint, finishProgram, nhwc4Coordinates, uniformStruct } from '../common.ts';

/**
 * Constant spatial padding (negative pads crop) over NHWC4: output `(n, y, x)` reads input
 * `(n, y - padTop, x - padLeft)` or takes `value` outside the input. One output vec4 per invocation.
 */
export const PAD_UNIFORMS: readonly UniformField[] = [
  { name: 'total', type: 'u32' },
  { name: 'C4', type: 'u32' },
  { name: 'inH', type: 'u32' },
  { name: 'inW', type: 'u32' },
  { name: 'outH', type: 'u32' },
  { name: 'outW', type: 'u32' },
  { name: 'padTop', type: 'i32' },
  { name: 'padLeft', type: 'i32' },
  { name: 'value', type: 'f32' },
];

export function padProgram(precision: StoragePrecision = 'f32'): KernelProgram {
  const code = wgsl`
${uniformStruct(PAD_UNIFORMS)}
${bindingDecls(SRC_DST_BINDINGS, {}, precision)}

${entryPoint(WORKGROUP_SIZE)}
${nhwc4Coordinates({ c4: 'C4', w: 'outW', h: 'outH' })}
  let iy = i32(y) - params.padTop;
  let ix = i32(x) - params.padLeft;
  if (iy < 0 || iy >= i32(params.inH) || ix < 0 || ix >= i32(params.inW)) {
    store_dst(flat, vec4<f32>(params.value));
    return;
  }
  store_dst(flat, load_src(((n * params.inH + u32(iy)) * params.inW + u32(ix)) * params.C4 + c4));
}
`;
  return finishProgram({ name: 'pad', key: 'pad/constant', code, bindings: SRC_DST_BINDINGS, uniforms: PAD_UNIFORMS, workgroupSize: WORKGROUP_SIZE }, precision);
}
