import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import type { KernelBinding, KernelProgram, UniformField } from './common.ts';
import { bindingDecls, uniformStruct } from './common.ts';

/**
 * Softmax over the channels of `[n, c, 1, 1]` tensors stored as C4 vec4s: one workgroup per image reduces
 * max and sum in workgroup memory (1000-class heads are too wide for one invocation to be quick).
 * Padding channels (c >= C) are excluded and written as zero.
 */
export const SOFTMAX_UNIFORMS: readonly UniformField[] = [
  { name: 'C', type: 'u32' },
  { name: 'C4', type: 'u32' },
];

const SOFTMAX_BINDINGS: readonly KernelBinding[] = [
  { name: 'src', kind: 'read' },
  { name: 'dst', kind: 'write' },
  { name: 'params', kind: 'uniform' },
];

export const SOFTMAX_WORKGROUP = 64;

export function softmaxProgram(): KernelProgram {
  const WG = SOFTMAX_WORKGROUP;
  const code = wgsl`
${uniformStruct(SOFTMAX_UNIFORMS)}
${bindingDecls(SOFTMAX_BINDINGS, {})}
var<workgroup> scratch: array<f32, ${WG}>;

fn lanesValid(c4: u32) -> vec4<bool> {
  let c = vec4<u32>(c4 * 4u) + vec4<u32>(0u, 1u, 2u, 3u);
  return c < vec4<u32>(params.C);
}

fn reduce(li: u32, isMax: bool) -> f32 {
  for (var stride = ${WG / 2}u; stride > 0u; stride = stride / 2u) {
    workgroupBarrier();
    if (li < stride) {
      let a = scratch[li];
      let b = scratch[li + stride];
      scratch[li] = select(a + b, max(a, b), isMax);
    }
  }
  workgroupBarrier();
  let r = scratch[0];
  workgroupBarrier();
  return r;
}

@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
  let n = wg.y * nwg.x + wg.x;
  let base = n * params.C4;
  let lowest = -3.4028234663852886e38;
  var m = lowest;
  for (var c4 = li; c4 < params.C4; c4 += ${WG}u) {
    let v = select(vec4<f32>(lowest), src[base + c4], lanesValid(c4));
    m = max(m, max(max(v.x, v.y), max(v.z, v.w)));
  }
  scratch[li] = m;
  let rowMax = reduce(li, true);
  var s = 0.0;
  for (var c4 = li; c4 < params.C4; c4 += ${WG}u) {
    let e = select(vec4<f32>(0.0), exp(src[base + c4] - vec4<f32>(rowMax)), lanesValid(c4));
    s += e.x + e.y + e.z + e.w;
  }
  scratch[li] = s;
  let total = reduce(li, false);
  for (var c4 = li; c4 < params.C4; c4 += ${WG}u) {
    let e = select(vec4<f32>(0.0), exp(src[base + c4] - vec4<f32>(rowMax)), lanesValid(c4));
    dst[base + c4] = e / total;
  }
}
`;
  return { name: 'softmax', key: 'softmax', code, bindings: SOFTMAX_BINDINGS, uniforms: SOFTMAX_UNIFORMS, workgroupSize: WG };
}
