import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import type { KernelProgram, StoragePrecision } from '../common.ts';
import { SRC_DST_BINDINGS, WORKGROUP_SIZE, bindingDecls, entryPoint, finishProgram, uniformStruct } from '../common.ts';
import { uniformBlock } from '../uniforms.ts';

/**
 * Arg max over the channels of each pixel of an NHWC4 map, one pixel per invocation. The first largest channel
 * wins (strict `>`); lanes past `C` in the last vec4 are skipped. The index is written as an f32 in lane x of
 * the one-channel output.
 */
export const ARGMAX_UNIFORMS = uniformBlock({
  pixels: 'u32',
  C: 'u32',
  C4: 'u32',
});

export function argMaxProgram(precision: StoragePrecision = 'f32'): KernelProgram {
  const code = wgsl`
${uniformStruct(ARGMAX_UNIFORMS.fields)}
${bindingDecls(SRC_DST_BINDINGS, {}, precision)}

${entryPoint(WORKGROUP_SIZE)}
  if (flat >= params.pixels) { return; }
  let base = flat * params.C4;
  var best = load_src(base).x;
  var index = 0u;
  for (var c4 = 0u; c4 < params.C4; c4++) {
    let v = load_src(base + c4);
    let c = c4 * 4u;
    // Lanes in order as straight-line selects: SwiftShader keeps a vec4 indexed by a loop variable in memory.
${['x', 'y', 'z', 'w'].map((lane, k) => `    let take${lane} = (c + ${k}u < params.C) & (v.${lane} > best);
    index = select(index, c + ${k}u, take${lane});
    best = select(best, v.${lane}, take${lane});`).join('\n')}
  }
  store_dst(flat, vec4<f32>(f32(index), 0.0, 0.0, 0.0));
}
`;
  return finishProgram({ name: 'argmax', key: 'argmax/channels', code, bindings: SRC_DST_BINDINGS, uniforms: ARGMAX_UNIFORMS.fields, workgroupSize: WORKGROUP_SIZE }, precision);
}
