import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import type { KernelBinding, KernelProgram, StoragePrecision } from '../common.ts';
import { WORKGROUP_SIZE, bindingDecls, entryPoint, finishProgram, uniformStruct } from '../common.ts';
import { uniformBlock } from '../uniforms.ts';

/**
 * The mean or maximum over the channels of each pixel of an NHWC4 map, one pixel per invocation: its C4 vec4s
 * folded lane-wise (padding lanes left out), then the four lanes. The output has one channel: lane 0 holds the
 * result, the padding lanes 0.
 */
export const REDUCE_CHANNELS_UNIFORMS = uniformBlock({
  total: 'u32',
  C: 'u32',
  C4: 'u32',
});

const BINDINGS: readonly KernelBinding[] = [
  { name: 'src', kind: 'read' },
  { name: 'dst', kind: 'write' },
  { name: 'params', kind: 'uniform' },
];

export function reduceChannelsProgram(op: 'mean' | 'max', precision: StoragePrecision = 'f32'): KernelProgram {
  const max = op === 'max';
  const code = wgsl`
${uniformStruct(REDUCE_CHANNELS_UNIFORMS.fields)}
${bindingDecls(BINDINGS, {}, precision)}

${entryPoint(WORKGROUP_SIZE)}
  if (flat >= params.total) { return; }
  let base = flat * params.C4;
  var acc = vec4<f32>(${max ? '-3.4028234663852886e38' : '0.0'});
  for (var c4 = 0u; c4 < params.C4; c4++) {
    let valid = vec4<u32>(c4 * 4u) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(params.C);
    let v = load_src(base + c4);
    acc = ${max ? 'select(acc, max(acc, v), valid)' : 'acc + select(vec4<f32>(0.0), v, valid)'};
  }
  let r = ${max ? 'max(max(acc.x, acc.y), max(acc.z, acc.w))' : '(acc.x + acc.y + acc.z + acc.w) / f32(params.C)'};
  store_dst(flat, vec4<f32>(r, 0.0, 0.0, 0.0));
}
`;
  return finishProgram({
    name: 'reduce-channels',
    key: `reduce-channels/${op}`,
    code,
    bindings: BINDINGS,
    uniforms: REDUCE_CHANNELS_UNIFORMS.fields,
    workgroupSize: WORKGROUP_SIZE,
  }, precision);
}
