import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import type { KernelBinding, KernelProgram, StoragePrecision, UniformField } from './common.ts';
import { WORKGROUP_SIZE, bindingDecls, entryPoint, finishProgram, uniformStruct } from './common.ts';

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

const PAD_BINDINGS: readonly KernelBinding[] = [
  { name: 'src', kind: 'read' },
  { name: 'dst', kind: 'write' },
  { name: 'params', kind: 'uniform' },
];

export function padProgram(precision: StoragePrecision = 'f32'): KernelProgram {
  const code = wgsl`
${uniformStruct(PAD_UNIFORMS)}
${bindingDecls(PAD_BINDINGS, {}, precision)}

${entryPoint(WORKGROUP_SIZE)}
  if (flat >= params.total) { return; }
  let c4 = flat % params.C4;
  var t = flat / params.C4;
  let x = t % params.outW;
  t = t / params.outW;
  let y = t % params.outH;
  let n = t / params.outH;
  let iy = i32(y) - params.padTop;
  let ix = i32(x) - params.padLeft;
  if (iy < 0 || iy >= i32(params.inH) || ix < 0 || ix >= i32(params.inW)) {
    store_dst(flat, vec4<f32>(params.value));
    return;
  }
  store_dst(flat, load_src(((n * params.inH + u32(iy)) * params.inW + u32(ix)) * params.C4 + c4));
}
`;
  return finishProgram({ name: 'pad', key: 'pad/constant', code, bindings: PAD_BINDINGS, uniforms: PAD_UNIFORMS, workgroupSize: WORKGROUP_SIZE }, precision);
}
