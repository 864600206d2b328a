import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import type { KernelProgram, StoragePrecision, UniformField } from './common.ts';
import { ACTIVATION_UNIFORMS, CONV_ELEMENT_TYPES, bindingDecls, convBindings, epilogueFunction, finishProgram, uniformStruct } from './common.ts';

/**
 * Fully connected layer for few rows (batch 1 classifier heads): split-K GEMV. One workgroup per output vec4
 * of one row; its 64 invocations take every 64th input vec4, then add their partial sums in workgroup memory.
 * The register-blocked pointwise kernel would give each output vec4 to one invocation that walks the whole
 * input alone (250 invocations for MobileNetV2's 1280 -> 1000 head): too little parallel work for a GPU.
 *
 * Weights are packed `[outC4][inC4][4][4]` (pack-weights.ts `packLinearRowsWeights`): entry `(co4, ci4, k)`
 * holds the weights from input channel `4*ci4 + k` to output channels `4*co4 .. 4*co4+3`.
 */
export const LINEAR_SPLIT_K_UNIFORMS: readonly UniformField[] = [
  { name: 'items', type: 'u32' },
  { name: 'inC4', type: 'u32' },
  { name: 'outC4', type: 'u32' },
  ...ACTIVATION_UNIFORMS,
];

const THREADS = 64;

export function linearSplitKProgram(v: { readonly activation: boolean }, precision: StoragePrecision = 'f32'): KernelProgram {
  const bindings = convBindings(false);
  const code = wgsl`
${uniformStruct(LINEAR_SPLIT_K_UNIFORMS)}
${bindingDecls(bindings, CONV_ELEMENT_TYPES, precision)}

var<workgroup> partial: array<vec4<f32>, ${THREADS}>;

@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
  // Workgroup-uniform: spare workgroups of a folded grid leave before any barrier.
  let item = wg.y * nwg.x + wg.x;
  if (item >= params.items) { return; }
  let co4 = item % params.outC4;
  let row = item / params.outC4;
  let xBase = row * params.inC4;
  let wBase = co4 * params.inC4;
  var acc = vec4<f32>(0.0);
  for (var ci4 = li; ci4 < params.inC4; ci4 += ${THREADS}u) {
    let x = load_src(xBase + ci4);
    let w = (wBase + ci4) * 4u;
    acc = fma(vec4<f32>(x.x), load_weight(w), fma(vec4<f32>(x.y), load_weight(w + 1u), fma(vec4<f32>(x.z), load_weight(w + 2u), fma(vec4<f32>(x.w), load_weight(w + 3u), acc))));
  }
  partial[li] = acc;
  workgroupBarrier();
  for (var s = ${THREADS / 2}u; s > 0u; s = s >> 1u) {
    if (li < s) { partial[li] += partial[li + s]; }
    workgroupBarrier();
  }
  if (li == 0u) {
    let o = row * params.outC4 + co4;
    store_dst(o, epilogue(partial[0] + bias[co4], o));
  }
}

${epilogueFunction({ residual: false, activation: v.activation })}
`;
  return finishProgram({
    name: 'linear-splitk',
    key: `linear-splitk/${v.activation ? 'act' : 'noact'}`,
    code,
    bindings,
    uniforms: LINEAR_SPLIT_K_UNIFORMS,
    workgroupSize: THREADS,
  }, precision);
}
