import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import type { KernelProgram, StoragePrecision } from '../common.ts';
import { SRC_DST_BINDINGS, WORKGROUP_SIZE, bindingDecls, entryPoint, finishProgram, loadAccessors, uniformStruct } from '../common.ts';
import { uniformBlock } from '../uniforms.ts';

/**
 * ShuffleNet's channel shuffle between NHWC4 tensors of one shape: dst channel `j * groups + k` takes src channel
 * `k * size + j` (`size = channels / groups`). One invocation per dst vec4 of each pixel; padding lanes get 0.
 */
export const CHANNEL_SHUFFLE_UNIFORMS = uniformBlock({
  total: 'u32',
  c4: 'u32',
  channels: 'u32',
  groups: 'u32',
  size: 'u32',
});

export function channelShuffleProgram(precision: StoragePrecision = 'f32'): KernelProgram {
  const code = wgsl`
${uniformStruct(CHANNEL_SHUFFLE_UNIFORMS.fields)}
${bindingDecls(SRC_DST_BINDINGS, {}, precision)}
${loadAccessors('dst', precision)}

${entryPoint(WORKGROUP_SIZE)}
  if (flat >= params.total) { return; }
  let pixel = flat / params.c4;
  let c4 = flat % params.c4;
  var v = vec4<f32>(0.0);
  for (var lane = 0u; lane < 4u; lane++) {
    let ch = c4 * 4u + lane;
    if (ch < params.channels) {
      let s = (ch % params.groups) * params.size + ch / params.groups;
      v[lane] = load_src_lane(pixel * params.c4 + s / 4u, s % 4u);
    }
  }
  store_dst(flat, v);
}
`;
  return finishProgram(
    { name: 'channel-shuffle', key: 'channel-shuffle', code, bindings: SRC_DST_BINDINGS, uniforms: CHANNEL_SHUFFLE_UNIFORMS.fields, workgroupSize: WORKGROUP_SIZE },
    precision,
  );
}
