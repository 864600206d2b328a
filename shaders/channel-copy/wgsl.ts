import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import type { KernelProgram, StoragePrecision } from '../common.ts';
import { SRC_DST_BINDINGS, WORKGROUP_SIZE, bindingDecls, entryPoint, finishProgram, loadAccessors, uniformStruct } from '../common.ts';
import { uniformBlock } from '../uniforms.ts';

/**
 * Copies a channel range between NHWC4 tensors of the same `n`, `h`, `w`: dst channels `dstOffset .. dstOffset +
 * count - 1` take src channels from `srcOffset` on. One invocation per dst vec4 in `firstC4 .. firstC4 + spanC4 -
 * 1` of each pixel; in that vec4, lanes before `dstOffset` keep what dst holds (an earlier launch of the same
 * concat wrote them), lanes past the range get 0 (a later launch overwrites them, or they are padding). So a
 * concat is one launch per input in order, and a channel slice one launch; offsets need not be multiples of 4.
 */
export const CHANNEL_COPY_UNIFORMS = uniformBlock({
  total: 'u32',
  spanC4: 'u32',
  firstC4: 'u32',
  srcC4: 'u32',
  dstC4: 'u32',
  srcOffset: 'u32',
  dstOffset: 'u32',
  count: 'u32',
});

export function channelCopyProgram(precision: StoragePrecision = 'f32'): KernelProgram {
  const code = wgsl`
${uniformStruct(CHANNEL_COPY_UNIFORMS.fields)}
${bindingDecls(SRC_DST_BINDINGS, {}, precision)}
${loadAccessors('dst', precision)}

${entryPoint(WORKGROUP_SIZE)}
  if (flat >= params.total) { return; }
  let pixel = flat / params.spanC4;
  let c4 = params.firstC4 + flat % params.spanC4;
  let o = pixel * params.dstC4 + c4;
  let srcBase = pixel * params.srcC4;
  let ch = c4 * 4u;
  var kept = vec4<f32>(0.0);
  if (ch < params.dstOffset) { kept = load_dst(o); }
  store_dst(o, vec4<f32>(copied(srcBase, ch, kept.x), copied(srcBase, ch + 1u, kept.y), copied(srcBase, ch + 2u, kept.z), copied(srcBase, ch + 3u, kept.w)));
}

// Dst channel ch: src's in the range, kept before it, 0 after it (straight-line: no branch, no indexed vec4).
fn copied(srcBase: u32, ch: u32, kept: f32) -> f32 {
  let inside = (ch >= params.dstOffset) & (ch < params.dstOffset + params.count);
  let s = select(params.srcOffset, ch - params.dstOffset + params.srcOffset, inside);
  return select(select(0.0, kept, ch < params.dstOffset), load_src_lane(srcBase + s / 4u, s % 4u), inside);
}
`;
  return finishProgram(
    { name: 'channel-copy', key: 'channel-copy', code, bindings: SRC_DST_BINDINGS, uniforms: CHANNEL_COPY_UNIFORMS.fields, workgroupSize: WORKGROUP_SIZE },
    precision,
  );
}
