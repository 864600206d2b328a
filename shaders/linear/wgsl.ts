import type { ActivationFunction } from '../../src/graph/activations/index.ts';
import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import type { KernelProgram, StoragePrecision } from '../common.ts';
import { ACTIVATION_UNIFORMS, CONV_ELEMENT_TYPES, allOf, bindingDecls, convBindings, epilogueFunction, epilogueKey, finishProgram, uniformStruct, unroll, unroll2 } from '../common.ts';
import { joinUniforms, uniformBlock } from '../uniforms.ts';
import { meanSrcFunction } from '../pool/wgsl.ts';

/**
 * Fully connected layer for few rows (batch 1 classifier heads): split-K GEMV. One workgroup per output vec4
 * of one row; its 64 invocations take every 64th input vec4, then add their partial sums in workgroup memory.
 * The register-blocked pointwise kernel would give each output vec4 to one invocation that walks the whole
 * input alone (250 invocations for MobileNetV2's 1280 -> 1000 head): too little parallel work for a GPU.
 *
 * `pooled`: a global average pool fused in front (IR `LinearAttrs.poolInput`). The input is the `[n, in, h, w]`
 * map in NHWC4 and each input vec4 is read as its mean over the `spatial = h * w` positions (`mean_src`), so the
 * pooled vector never goes through memory and the head is one launch. Each workgroup reads its row's whole map
 * (outC4 times over): on a GPU that is L2 traffic (the map is 250-400 KB for the ImageNet heads), while the
 * separate pool kernel it replaces runs one invocation per channel vec4 over 49 dependent loads.
 *
 * Weights are packed `[outC4][inC4][4][4]` (pack-weights.ts `packLinearRowsWeights`): entry `(co4, ci4, k)`
 * holds the weights from input channel `4*ci4 + k` to output channels `4*co4 .. 4*co4+3`.
 */
export const LINEAR_SPLIT_K_UNIFORMS = joinUniforms(uniformBlock({
  items: 'u32',
  inC4: 'u32',
  outC4: 'u32',
}), ACTIVATION_UNIFORMS);

/** The pooled split-K kernel's uniforms: positions per map (`h * w`) as well. */
export const LINEAR_SPLIT_K_POOLED_UNIFORMS = joinUniforms(uniformBlock({
  items: 'u32',
  inC4: 'u32',
  outC4: 'u32',
  spatial: 'u32',
}), ACTIVATION_UNIFORMS);

const THREADS = 64;

export interface LinearSplitKVariant {
  readonly activation: boolean;
  /** A table activation function instead of the clamp (`EpilogueActivation`). */
  readonly fn?: ActivationFunction;
  /** Input is a `[n, in, h, w]` map read through its mean over `h * w` (fused global average pool). */
  readonly pooled?: boolean;
}

export function linearSplitKProgram(v: LinearSplitKVariant, precision: StoragePrecision = 'f32'): KernelProgram {
  const pooled = v.pooled ?? false;
  const uniforms = (pooled ? LINEAR_SPLIT_K_POOLED_UNIFORMS : LINEAR_SPLIT_K_UNIFORMS).fields;
  const bindings = convBindings(false);
  const code = wgsl`
${uniformStruct(uniforms)}
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
  let xBase = row * ${pooled ? 'params.spatial * ' : ''}params.inC4;
  let wBase = co4 * params.inC4;
  var acc = vec4<f32>(0.0);
  for (var ci4 = li; ci4 < params.inC4; ci4 += ${THREADS}u) {
    let x = ${pooled ? 'mean_src' : 'load_src'}(xBase + ci4);
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

${epilogueFunction({ ...v, residual: false })}${pooled ? `\n${meanSrcFunction('inC4')}` : ''}
`;
  return finishProgram({
    name: pooled ? 'linear-splitk-pooled' : 'linear-splitk',
    key: `linear-splitk/${pooled ? 'pooled/' : ''}${epilogueKey(v)}`,
    code,
    bindings,
    uniforms,
    workgroupSize: THREADS,
  }, precision);
}

/**
 * Fused global average pool + fully connected layer on the register path (software adapters, and many rows on
 * GPUs): the pointwise kernel's register-blocked GEMM with the pooled input staged in workgroup memory. A workgroup
 * serves `rowsPerThread` rows (images) and 64 x `vec4sPerThread` output vec4s, each invocation all of those rows
 * for its `vec4sPerThread` output vec4s. Per chunk of input vec4s its 64 invocations first pool the chunk of every
 * row together (`mean_src`, each input vec4 once per workgroup) into workgroup memory, then each runs its tile
 * over the staged means with the pointwise kernel's weight layout and accumulation order. So a row's map is read
 * ceil(outC4 / (64 x vec4sPerThread)) times (once for the ImageNet heads at 4 vec4s per invocation, the software
 * default), not once per output vec4 as the pooled split-K kernel does, and there are two barriers per chunk.
 * SwiftShader pays dearly for both (docs/decisions/kernel-defaults.md).
 *
 * Weights are packed `[inC4][outC4][4]` like the pointwise kernel (`packDenseConvWeights(w, out, in, 1, 1)`).
 */
export const LINEAR_POOLED_UNIFORMS = joinUniforms(uniformBlock({
  rows: 'u32',
  items: 'u32',
  coGroups: 'u32',
  inC4: 'u32',
  outC4: 'u32',
  spatial: 'u32',
}), ACTIVATION_UNIFORMS);

/** Pooled input vec4s staged in workgroup memory per chunk, over all rows of a workgroup: 8 KiB at f32. */
export const POOLED_STAGE_VEC4S = 512;

export interface LinearPooledVariant {
  readonly activation: boolean;
  /** A table activation function instead of the clamp (`EpilogueActivation`). */
  readonly fn?: ActivationFunction;
  /** Rows (images) per invocation, as the pointwise tile's pixels. */
  readonly rowsPerThread: number;
  /** Output vec4s per invocation. */
  readonly vec4sPerThread: number;
}

export function linearPooledProgram(v: LinearPooledVariant, precision: StoragePrecision = 'f32'): KernelProgram {
  const P = v.rowsPerThread;
  const V = v.vec4sPerThread;
  // Input vec4s per chunk: every row's means of a chunk fit the stage.
  const chunk = Math.floor(POOLED_STAGE_VEC4S / P);
  if (chunk < 1) throw new RangeError(`linearPooledProgram: ${P} rows per invocation do not fit ${POOLED_STAGE_VEC4S} staged vec4s`);
  const bindings = convBindings(false);
  const code = wgsl`
${uniformStruct(LINEAR_POOLED_UNIFORMS.fields)}
${bindingDecls(bindings, CONV_ELEMENT_TYPES, precision)}

const CHUNK = ${chunk}u;
var<workgroup> pooled: array<vec4<f32>, ${P * chunk}>;

@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
  // Workgroup-uniform: spare workgroups of a folded grid leave before any barrier.
  let item = wg.y * nwg.x + wg.x;
  if (item >= params.items) { return; }
  let group = item % params.coGroups;
  let firstRow = (item / params.coGroups) * ${P}u;
  let lastRow = params.rows - 1u;
  let firstCo = (group * ${THREADS}u + li) * ${V}u;
  let lastCo = params.outC4 - 1u;
  let rowSize = params.spatial * params.inC4;
${unroll(V, (c) => `  let co${c} = min(firstCo + ${c}u, lastCo);`)}
${unroll2(P, V, (p, c) => `  var acc${p}_${c} = vec4<f32>(0.0);`)}
  for (var c0 = 0u; c0 < params.inC4; c0 += CHUNK) {
    let len = min(CHUNK, params.inC4 - c0);
    for (var i = li; i < ${P}u * len; i += ${THREADS}u) {
      let p = i / len;
      let r = min(firstRow + p, lastRow);
      pooled[p * CHUNK + i % len] = mean_src(r * rowSize + c0 + i % len);
    }
    workgroupBarrier();
    for (var i = 0u; i < len; i++) {
${unroll(P, (p) => `      let x${p} = pooled[${p * chunk}u + i];`)}
      let wRow = (c0 + i) * params.outC4;
${unroll(V, (c) => `      let w${c} = (wRow + co${c}) * 4u;
      let w${c}a = load_weight(w${c}); let w${c}b = load_weight(w${c} + 1u); let w${c}c = load_weight(w${c} + 2u); let w${c}d = load_weight(w${c} + 3u);`)}
${unroll2(P, V, (p, c) => `      acc${p}_${c} = fma(vec4<f32>(x${p}.x), w${c}a, fma(vec4<f32>(x${p}.y), w${c}b, fma(vec4<f32>(x${p}.z), w${c}c, fma(vec4<f32>(x${p}.w), w${c}d, acc${p}_${c}))));`)}
    }
    workgroupBarrier();
  }
${unroll2(P, V, (p, c) => `  if (${allOf(`firstRow + ${p}u <= lastRow`, `firstCo + ${c}u <= lastCo`)}) {
    let o = (firstRow + ${p}u) * params.outC4 + co${c};
    store_dst(o, epilogue(acc${p}_${c} + bias[co${c}], o));
  }`)}
}

${epilogueFunction({ ...v, residual: false })}
${meanSrcFunction('inC4')}
`;
  return finishProgram({
    name: 'linear-pooled',
    key: `linear-pooled/p${P}v${V}/${epilogueKey(v)}`,
    code,
    bindings,
    uniforms: LINEAR_POOLED_UNIFORMS.fields,
    workgroupSize: THREADS,
  }, precision);
}
