import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import type { KernelProgram, StoragePrecision } from '../common.ts';
import { SRC_DST_BINDINGS, WORKGROUP_SIZE, bindingDecls, entryPoint, finishProgram, uniformStruct } from '../common.ts';
import { uniformBlock } from '../uniforms.ts';

/**
 * ShuffleNet's channel shuffle between NHWC4 tensors of one shape: dst channel `j * groups + k` takes src channel
 * `k * size + j` (`size = channels / groups`). One invocation per dst vec4 of each pixel; padding lanes get 0.
 * `groups` is baked in (a division by a constant), and the four lanes are straight-line code without branches:
 * SwiftShader pays for a runtime integer division per lane and spills a vec4 indexed by a loop variable to memory.
 */
export const CHANNEL_SHUFFLE_UNIFORMS = uniformBlock({
  total: 'u32',
  c4: 'u32',
  channels: 'u32',
  size: 'u32',
});

export function channelShuffleProgram(groups: number, precision: StoragePrecision = 'f32'): KernelProgram {
  const code = wgsl`
${uniformStruct(CHANNEL_SHUFFLE_UNIFORMS.fields)}
${bindingDecls(SRC_DST_BINDINGS, {}, precision)}

${entryPoint(WORKGROUP_SIZE)}
  if (flat >= params.total) { return; }
  let base = (flat / params.c4) * params.c4;
  let ch = (flat % params.c4) * 4u;
  store_dst(flat, vec4<f32>(shuffled(base, ch), shuffled(base, ch + 1u), shuffled(base, ch + 2u), shuffled(base, ch + 3u)));
}

// Dst channel ch of the pixel whose first vec4 is base: 0 past the last channel.
fn shuffled(base: u32, ch: u32) -> f32 {
  let inside = ch < params.channels;
  let s = select(0u, (ch % ${groups}u) * params.size + ch / ${groups}u, inside);
  return select(0.0, load_src_lane(base + s / 4u, s % 4u), inside);
}
`;
  return finishProgram(
    { name: 'channel-shuffle', key: `channel-shuffle/g${groups}`, code, bindings: SRC_DST_BINDINGS, uniforms: CHANNEL_SHUFFLE_UNIFORMS.fields, workgroupSize: WORKGROUP_SIZE },
    precision,
  );
}
