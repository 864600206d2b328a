import type { ActivationFunction } from '../../src/graph/activations/index.ts';
import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import type { KernelProgram, StoragePrecision } from '../common.ts';
import type { KernelBinding } from '../common.ts';
import { ACTIVATION_UNIFORMS, CONV_ELEMENT_TYPES, bindingDecls, convBindings, epilogueFunction, epilogueKey, finishProgram, uniformStruct, unroll, unroll2 } from '../common.ts';
import { convSharedTileProblem } from './limits.ts';
import { joinUniforms, uniformBlock } from '../uniforms.ts';
import type { InputTransformVariant } from '../conv-input.ts';
import { INPUT_TRANSFORM_ELEMENT_TYPES, inputTransformBindings, inputTransformKey, inputTransformWgsl } from '../conv-input.ts';

/**
 * Dense convolution (any KxK, stride, dilation, padding; 1x1 included) as an implicit GEMM staged through
 * workgroup memory: `[pixels, KH*KW*inC] x [KH*KW*inC, outC]`. The 64 invocations of a workgroup form an 8 x 8
 * grid; each computes `pixelsPerThread` pixels x `vec4sPerThread` output vec4s, so a workgroup owns an
 * (8P pixels) x (8V vec4s) block of the output. Per step of four input vec4s, the workgroup loads the input
 * patch (im2col on the fly, zero outside the image) and the weight slice into workgroup memory once and every
 * invocation reads them from there: each global load serves 8 invocations, where the register-blocked kernels
 * (pointwise/, conv2d/) load everything per invocation. Real GPUs reward that; software adapters, whose
 * barriers are expensive, do not, so the autotuner decides per layer and adapter.
 *
 * Workgroup memory holds f32 at every storage precision (values are converted once, when staged).
 *
 * Weights are packed like conv2d/wgsl.ts: `[kh][kw][inC4][outC4][4]` vec4s, so K index `k = tap * inC4 + ci4`.
 *
 * Split-K (`splitK`): for outputs too small to give a GPU enough workgroups (ResNet-50's 7x7 maps: 49 pixels x
 * 512 channels are 32 workgroups of 16 x 64), the K loop is cut into `params.slices` slices of
 * `params.kPerSlice` input vec4s (whole staging steps), one workgroup per (output tile, slice). Each writes its
 * f32 partial sums, without bias or epilogue, to `partial[(slice * pixels + m) * outC4 + co]` (a scratch buffer);
 * `splitKReduceProgram` (split-k-reduce.ts) adds the slices, then applies bias, residual and clamp and stores at the
 * model's precision. WGSL has no float atomics, hence the second launch.
 */
export interface ConvSharedVariant {
  readonly kernelH: number;
  readonly kernelW: number;
  /** Even, so the input tile spreads evenly over the workgroup's loads. */
  readonly pixelsPerThread: number;
  readonly vec4sPerThread: number;
  readonly residual: boolean;
  readonly activation: boolean;
  /** A table activation function instead of the clamp (`EpilogueActivation`). */
  readonly fn?: ActivationFunction;
  /**
   * Write f32 partial sums of one K slice per workgroup instead of finished outputs (see above). The epilogue
   * then belongs to the reduce launch: `residual` and `activation` must be false.
   */
  readonly splitK?: boolean;
  /** A per-channel transform applied to each loaded (not padded) input vec4 (shaders/conv-input.ts); absent: none. */
  readonly input?: InputTransformVariant;
}

/** Input vec4s (4 channels each) per staging step; split-K slices are whole steps. */
export const CONV_SHARED_STEP = 4;
const STEP = CONV_SHARED_STEP;
const GRID = 8;
const THREADS = GRID * GRID;

const GEOMETRY_UNIFORMS = uniformBlock({
  pixels: 'u32',
  K: 'u32',
  tilesN: 'u32',
  tiles: 'u32',
  inH: 'u32',
  inW: 'u32',
  inC4: 'u32',
  outH: 'u32',
  outW: 'u32',
  outC4: 'u32',
  strideY: 'u32',
  strideX: 'u32',
  dilationY: 'u32',
  dilationX: 'u32',
  padTop: 'i32',
  padLeft: 'i32',
});

export const CONV_SHARED_UNIFORMS = joinUniforms(GEOMETRY_UNIFORMS, ACTIVATION_UNIFORMS);

/** The split-K variant's: no clamp (the reduce launch applies it); K slices and their length in input vec4s. */
export const CONV_SHARED_SPLIT_K_UNIFORMS = joinUniforms(GEOMETRY_UNIFORMS, uniformBlock({
  slices: 'u32',
  kPerSlice: 'u32',
}));

/** Bindings of the split-K variant: input, weights, the f32 partial sums it writes, uniforms. */
const SPLIT_K_BINDINGS: readonly KernelBinding[] = [
  { name: 'src', kind: 'read' },
  { name: 'weight', kind: 'read' },
  { name: 'partial', kind: 'write' },
  { name: 'params', kind: 'uniform' },
];

/** Output block of one workgroup, in pixels and vec4s of output channels. */
export function convSharedBlock(v: Pick<ConvSharedVariant, 'pixelsPerThread' | 'vec4sPerThread'>): { pixels: number; vec4s: number } {
  return { pixels: GRID * v.pixelsPerThread, vec4s: GRID * v.vec4sPerThread };
}

export function convSharedProgram(v: ConvSharedVariant, precision: StoragePrecision = 'f32'): KernelProgram {
  const P = v.pixelsPerThread;
  const V = v.vec4sPerThread;
  if (convSharedTileProblem(v) !== null) throw new Error(`conv-shared: unsupported tile ${P} pixels x ${V} vec4s per invocation`);
  const splitK = v.splitK === true;
  if (splitK && (v.residual || v.activation || v.fn)) throw new Error('conv-shared: the split-K variant leaves residual and activation to its reduce launch');
  const BM = GRID * P;
  const BN = GRID * V;
  // Each invocation loads `aLoads` input vec4s and `bLoads` weight vec4s per step.
  const aLoads = (BM * STEP) / THREADS;
  const bLoads = (STEP * 4 * BN) / THREADS;
  const pointwise = v.kernelH === 1 && v.kernelW === 1;
  const extra = inputTransformBindings(v.input);
  const bindings = splitK ? [...SPLIT_K_BINDINGS.slice(0, 2), ...extra, ...SPLIT_K_BINDINGS.slice(2)] : convBindings(v.residual, extra);
  const uniforms = (splitK ? CONV_SHARED_SPLIT_K_UNIFORMS : CONV_SHARED_UNIFORMS).fields;
  const loaded = '((row.imageRow + u32(iy)) * params.inW + u32(ix)) * params.inC4 + ci4';
  const load = v.input ? `transform_input(load_src(${loaded}), row.imageRow / params.inH, ci4)` : `load_src(${loaded})`;
  const code = wgsl`
${uniformStruct(uniforms)}
${bindingDecls(bindings, { ...(splitK ? { partial: 'array<vec4<f32>>' } : CONV_ELEMENT_TYPES), ...INPUT_TRANSFORM_ELEMENT_TYPES }, precision)}
const KW = ${v.kernelW}u;

var<workgroup> tileA: array<vec4<f32>, ${BM * STEP}>;
var<workgroup> tileB: array<vec4<f32>, ${STEP * 4 * BN}>;

@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
  // Workgroup-uniform: spare workgroups of a folded grid leave before any barrier.
#if ${splitK}
  // One workgroup per (output tile, K slice), tiles fastest; slice s sums K indices [kBegin, kEnd).
  let group = wg.y * nwg.x + wg.x;
  let slice = group / params.tiles;
  if (slice >= params.slices) { return; }
  let tile = group - slice * params.tiles;
  let kBegin = slice * params.kPerSlice;
  let kEnd = min(kBegin + params.kPerSlice, params.K);
#else
  let tile = wg.y * nwg.x + wg.x;
  if (tile >= params.tiles) { return; }
#endif
  let firstPixel = (tile / params.tilesN) * ${BM}u;
  let firstCo = (tile % params.tilesN) * ${BN}u;
  let ty = li / ${GRID}u;
  let tx = li % ${GRID}u;

  // The input rows this invocation stages: row r = li / STEP + j * (THREADS / STEP), K offset li % STEP.
  let kA = li % ${STEP}u;
${unroll(aLoads, (j) => `  let rowA${j} = setupRow(firstPixel + li / ${STEP}u + ${(j * THREADS) / STEP}u);`)}
  // The weight entries it stages: lane, output vec4 column and K offset of entry li + j * THREADS.
${unroll(bLoads, (j) => `  let eB${j} = li + ${j * THREADS}u;
  let laneB${j} = eB${j} % 4u;
  let colB${j} = (eB${j} / 4u) % ${BN}u;
  let kB${j} = eB${j} / ${4 * BN}u;
  let coB${j} = firstCo + colB${j};`)}

${unroll2(P, V, (p, c) => `  var acc${p}_${c} = vec4<f32>(0.0);`)}
#if ${splitK}
  // kBegin and kPerSlice are multiples of STEP: a step never straddles two slices (loads past K read zeros).
  for (var k0 = kBegin; k0 < kEnd; k0 += ${STEP}u) {
#else
  for (var k0 = 0u; k0 < params.K; k0 += ${STEP}u) {
#endif
${unroll(aLoads, (j) => `    tileA[(li / ${STEP}u + ${(j * THREADS) / STEP}u) * ${STEP}u + kA] = loadInput(rowA${j}, k0 + kA);`)}
${unroll(bLoads, (j) => `    {
      let k = k0 + kB${j};
      var w = vec4<f32>(0.0);
      if (k < params.K && coB${j} < params.outC4) { w = load_weight((k * params.outC4 + coB${j}) * 4u + laneB${j}); }
      tileB[(kB${j} * 4u + laneB${j}) * ${BN}u + colB${j}] = w;
    }`)}
    workgroupBarrier();
    for (var kk = 0u; kk < ${STEP}u; kk++) {
      let wRow = kk * ${4 * BN}u + tx;
${unroll(P, (p) => `      let x${p} = tileA[(ty + ${p * GRID}u) * ${STEP}u + kk];`)}
${unroll(V, (c) => `      let w${c}a = tileB[wRow + ${c * GRID}u]; let w${c}b = tileB[wRow + ${BN + c * GRID}u]; let w${c}c = tileB[wRow + ${2 * BN + c * GRID}u]; let w${c}d = tileB[wRow + ${3 * BN + c * GRID}u];`)}
${unroll2(P, V, (p, c) => `      acc${p}_${c} = fma(vec4<f32>(x${p}.x), w${c}a, fma(vec4<f32>(x${p}.y), w${c}b, fma(vec4<f32>(x${p}.z), w${c}c, fma(vec4<f32>(x${p}.w), w${c}d, acc${p}_${c}))));`)}
    }
    workgroupBarrier();
  }

${unroll(V, (c) => `  let co${c} = firstCo + tx + ${c * GRID}u;`)}
${unroll(P, (p) => `  let m${p} = firstPixel + ty + ${p * GRID}u;`)}
${unroll2(P, V, (p, c) => `  if (m${p} < params.pixels && co${c} < params.outC4) {
    let o = m${p} * params.outC4 + co${c};
    ${splitK ? `partial[slice * params.pixels * params.outC4 + o] = acc${p}_${c};` : `store_dst(o, epilogue(acc${p}_${c} + bias[co${c}], o));`}
  }`)}
}

/** Where an output pixel's window starts: image row base, top-left input coordinate, and whether it exists. */
struct Row {
  imageRow: u32,
  iy: i32,
  ix: i32,
  valid: bool,
}

fn setupRow(m: u32) -> Row {
  let ox = m % params.outW;
  let t = m / params.outW;
  let oy = t % params.outH;
  let n = t / params.outH;
  return Row(n * params.inH, i32(oy * params.strideY) - params.padTop, i32(ox * params.strideX) - params.padLeft, m < params.pixels);
}

/** Input vec4 at K index k of a row's im2col line; zero outside the image (padding) and past K. */
fn loadInput(row: Row, k: u32) -> vec4<f32> {
#if ${pointwise}
  let ci4 = k;
  let iy = row.iy;
  let ix = row.ix;
#else
  let tap = k / params.inC4;
  let ci4 = k - tap * params.inC4;
  let ky = tap / KW;
  let kx = tap - ky * KW;
  let iy = row.iy + i32(ky * params.dilationY);
  let ix = row.ix + i32(kx * params.dilationX);
#endif
  if (!row.valid || k >= params.K || iy < 0 || iy >= i32(params.inH) || ix < 0 || ix >= i32(params.inW)) {
    return vec4<f32>(0.0);
  }
  return ${load};
}

${splitK ? '' : epilogueFunction(v)}${v.input ? `\n${inputTransformWgsl(v.input)}` : ''}
`;
  const tail = (splitK ? 'split-k' : `${v.residual ? 'res' : 'nores'}/${epilogueKey(v)}`) + inputTransformKey(v.input);
  return finishProgram({
    name: 'conv-shared',
    key: `conv-shared/k${v.kernelH}x${v.kernelW}/p${P}v${V}/${tail}`,
    code,
    bindings,
    uniforms,
    workgroupSize: THREADS,
  }, precision);
}
