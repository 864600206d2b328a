import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import type { KernelProgram, StoragePrecision } from '../common.ts';
import { SRC_DST_BINDINGS, WORKGROUP_SIZE, bindingDecls, entryPoint, finishProgram, nhwc4Coordinates, uniformStruct } from '../common.ts';
import { uniformBlock } from '../uniforms.ts';

/**
 * Softmax over the channels of `[n, c, 1, 1]` tensors stored as C4 vec4s: one workgroup per image reduces
 * max and sum in workgroup memory (1000-class heads are too wide for one invocation to be quick).
 * Padding channels (c >= C) are excluded and written as zero.
 */
export const SOFTMAX_UNIFORMS = uniformBlock({
  C: 'u32',
  C4: 'u32',
  // Images: a grid folded past 65535 workgroups per dimension has spare workgroups that must do nothing.
  rows: 'u32',
});

export const SOFTMAX_WORKGROUP = 64;

export function softmaxProgram(precision: StoragePrecision = 'f32'): KernelProgram {
  const WG = SOFTMAX_WORKGROUP;
  const code = wgsl`
${uniformStruct(SOFTMAX_UNIFORMS.fields)}
${bindingDecls(SRC_DST_BINDINGS, {}, precision)}
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
  if (n >= params.rows) { return; }
  let base = n * params.C4;
  let lowest = -3.4028234663852886e38;
  var m = lowest;
  for (var c4 = li; c4 < params.C4; c4 += ${WG}u) {
    let v = select(vec4<f32>(lowest), load_src(base + c4), lanesValid(c4));
    m = max(m, max(max(v.x, v.y), max(v.z, v.w)));
  }
  scratch[li] = m;
  let rowMax = reduce(li, true);
  var s = 0.0;
  for (var c4 = li; c4 < params.C4; c4 += ${WG}u) {
    let e = select(vec4<f32>(0.0), exp(load_src(base + c4) - vec4<f32>(rowMax)), lanesValid(c4));
    s += e.x + e.y + e.z + e.w;
  }
  scratch[li] = s;
  let total = reduce(li, false);
  for (var c4 = li; c4 < params.C4; c4 += ${WG}u) {
    let e = select(vec4<f32>(0.0), exp(load_src(base + c4) - vec4<f32>(rowMax)), lanesValid(c4));
    store_dst(base + c4, e / total);
  }
}
`;
  return finishProgram({ name: 'softmax', key: 'softmax', code, bindings: SRC_DST_BINDINGS, uniforms: SOFTMAX_UNIFORMS.fields, workgroupSize: WG }, precision);
}

/**
 * Softmax jointly over a contiguous range of NCHW axes of any `[N, C, H, W]` tensor (NHWC4 in and out): the
 * NCHW index of an element is `(outer * len + k) * inner + r`, and the softmax runs over `k` for each
 * `(outer, r)`. One output vec4 per invocation; each lane makes two passes over its `len` values (max, then
 * sum of exponentials), so this suits the modest `len` of per-pixel class maps and small heads. Padding lanes
 * are written as zero.
 */
export const SOFTMAX_AXES_UNIFORMS = uniformBlock({
  total: 'u32',
  C: 'u32',
  C4: 'u32',
  H: 'u32',
  W: 'u32',
  len: 'u32',
  inner: 'u32',
});

export function softmaxAxesProgram(precision: StoragePrecision = 'f32'): KernelProgram {
  const code = wgsl`
${uniformStruct(SOFTMAX_AXES_UNIFORMS.fields)}
${bindingDecls(SRC_DST_BINDINGS, {}, precision)}

// The value at NCHW index i.
fn load(i: u32) -> f32 {
  let x = i % params.W;
  var t = i / params.W;
  let y = t % params.H;
  t = t / params.H;
  let c = t % params.C;
  let n = t / params.C;
  return load_src_lane(((n * params.H + y) * params.W + x) * params.C4 + c / 4u, c % 4u);
}

${entryPoint(WORKGROUP_SIZE)}
${nhwc4Coordinates({ c4: 'C4', w: 'W', h: 'H' })}
  var v = vec4<f32>(0.0);
  for (var j = 0u; j < 4u; j++) {
    let c = c4 * 4u + j;
    if (c >= params.C) { continue; }
    let i = ((n * params.C + c) * params.H + y) * params.W + x;
    let r = i % params.inner;
    let base = (i / (params.inner * params.len)) * params.len * params.inner + r;
    var m = -3.4028234663852886e38;
    for (var k = 0u; k < params.len; k++) { m = max(m, load(base + k * params.inner)); }
    var s = 0.0;
    for (var k = 0u; k < params.len; k++) { s += exp(load(base + k * params.inner) - m); }
    v[j] = exp(load(i) - m) / s;
  }
  store_dst(flat, v);
}
`;
  return finishProgram({
    name: 'softmaxAxes',
    key: 'softmax/axes',
    code,
    bindings: SRC_DST_BINDINGS,
    uniforms: SOFTMAX_AXES_UNIFORMS.fields,
    workgroupSize: WORKGROUP_SIZE,
  }, precision);
}
