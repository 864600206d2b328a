import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import type { KernelBinding, KernelProgram, StoragePrecision } from '../common.ts';
import { WORKGROUP_SIZE, bindingDecls, entryPoint, finishProgram, nhwc4Coordinates, uniformStruct } from '../common.ts';
import { uniformBlock } from '../uniforms.ts';

/**
 * Resize over NHWC4, one output vec4 per invocation. The per-axis source taps come from a table the lowering
 * computes on the CPU in f64 (`resizeTaps`): `taps[y]` for rows, `taps[outH + x]` for columns, each
 * `(lo, hi, t, 0)`, so rounding ties (nearest) resolve exactly as the ONNX definition says. Nearest has
 * `lo == hi`, `t == 0`; bilinear blends `lo` and `hi` by `t` on each axis.
 */
export const RESIZE_UNIFORMS = uniformBlock({
  total: 'u32',
  C4: 'u32',
  inH: 'u32',
  inW: 'u32',
  outH: 'u32',
  outW: 'u32',
});

export const RESIZE_BINDINGS: readonly KernelBinding[] = [
  { name: 'src', kind: 'read' },
  { name: 'taps', kind: 'read' },
  { name: 'dst', kind: 'write' },
  { name: 'params', kind: 'uniform' },
];

export function resizeProgram(precision: StoragePrecision = 'f32'): KernelProgram {
  const code = wgsl`
${uniformStruct(RESIZE_UNIFORMS.fields)}
${bindingDecls(RESIZE_BINDINGS, { taps: 'array<vec4<f32>>' }, precision)}

${entryPoint(WORKGROUP_SIZE)}
${nhwc4Coordinates({ c4: 'C4', w: 'outW', h: 'outH' })}
  let ty = taps[y];
  let tx = taps[params.outH + x];
  let base = n * params.inH;
  let r0 = (base + u32(ty.x)) * params.inW;
  let r1 = (base + u32(ty.y)) * params.inW;
  let a = u32(tx.x);
  let b = u32(tx.y);
  let top = load_src((r0 + a) * params.C4 + c4) * (1.0 - tx.z) + load_src((r0 + b) * params.C4 + c4) * tx.z;
  let bottom = load_src((r1 + a) * params.C4 + c4) * (1.0 - tx.z) + load_src((r1 + b) * params.C4 + c4) * tx.z;
  store_dst(flat, top * (1.0 - ty.z) + bottom * ty.z);
}
`;
  return finishProgram({ name: 'resize', key: 'resize/taps', code, bindings: RESIZE_BINDINGS, uniforms: RESIZE_UNIFORMS.fields, workgroupSize: WORKGROUP_SIZE }, precision);
}
