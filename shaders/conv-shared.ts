import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import type { KernelProgram, StoragePrecision, UniformField } from './common.ts';
import { ACTIVATION_UNIFORMS, CONV_ELEMENT_TYPES, bindingDecls, convBindings, epilogueFunction, finishProgram, uniformStruct, unroll, unroll2 } from './common.ts';

/**
 * Dense convolution (any KxK, stride, dilation, padding; 1x1 included) as an implicit GEMM staged through
 * workgroup memory: `[pixels, KH*KW*inC] x [KH*KW*inC, outC]`. The 64 invocations of a workgroup form an 8 x 8
 * grid; each computes `pixelsPerThread` pixels x `vec4sPerThread` output vec4s, so a workgroup owns an
 * (8P pixels) x (8V vec4s) block of the output. Per step of four input vec4s, the workgroup loads the input
 * patch (im2col on the fly, zero outside the image) and the weight slice into workgroup memory once and every
 * invocation reads them from there: each global load serves 8 invocations, where the register-blocked kernels
 * (pointwise.ts, conv2d.ts) load everything per invocation. Real GPUs reward that; software adapters, whose
 * barriers are expensive, do not, so the autotuner decides per layer and adapter.
 *
 * Workgroup memory holds f32 at every storage precision (values are converted once, when staged).
 *
 * Weights are packed like conv2d.ts: `[kh][kw][inC4][outC4][4]` vec4s, so K index `k = tap * inC4 + ci4`.
 */
export interface ConvSharedVariant {
  readonly kernelH: number;
  readonly kernelW: number;
  /** Even, so the input tile spreads evenly over the workgroup's loads. */
  readonly pixelsPerThread: number;
  readonly vec4sPerThread: number;
  readonly residual: boolean;
  readonly activation: boolean;
}

/** Input vec4s (4 channels each) per staging step. */
const STEP = 4;
const GRID = 8;
const THREADS = GRID * GRID;

export const CONV_SHARED_UNIFORMS: readonly UniformField[] = [
  { name: 'pixels', type: 'u32' },
  { name: 'K', type: 'u32' },
  { name: 'tilesN', type: 'u32' },
  { name: 'tiles', type: 'u32' },
  { name: 'inH', type: 'u32' },
  { name: 'inW', type: 'u32' },
  { name: 'inC4', type: 'u32' },
  { name: 'outH', type: 'u32' },
  { name: 'outW', type: 'u32' },
  { name: 'outC4', type: 'u32' },
  { name: 'strideY', type: 'u32' },
  { name: 'strideX', type: 'u32' },
  { name: 'dilationY', type: 'u32' },
  { name: 'dilationX', type: 'u32' },
  { name: 'padTop', type: 'i32' },
  { name: 'padLeft', type: 'i32' },
  ...ACTIVATION_UNIFORMS,
];

/** Output block of one workgroup, in pixels and vec4s of output channels. */
export function convSharedBlock(v: Pick<ConvSharedVariant, 'pixelsPerThread' | 'vec4sPerThread'>): { pixels: number; vec4s: number } {
  return { pixels: GRID * v.pixelsPerThread, vec4s: GRID * v.vec4sPerThread };
}

export function convSharedProgram(v: ConvSharedVariant, precision: StoragePrecision = 'f32'): KernelProgram {
  const P = v.pixelsPerThread;
  const V = v.vec4sPerThread;
  if (!Number.isInteger(P / 2) || P < 2 || P > 8 || !Number.isInteger(V) || V < 1 || V > 4) {
    throw new Error(`conv-shared: unsupported tile ${P} pixels x ${V} vec4s per invocation`);
  }
  const BM = GRID * P;
  const BN = GRID * V;
  // Each invocation loads `aLoads` input vec4s and `bLoads` weight vec4s per step.
  const aLoads = (BM * STEP) / THREADS;
  const bLoads = (STEP * 4 * BN) / THREADS;
  const pointwise = v.kernelH === 1 && v.kernelW === 1;
  const bindings = convBindings(v.residual);
  const code = wgsl`
${uniformStruct(CONV_SHARED_UNIFORMS)}
${bindingDecls(bindings, CONV_ELEMENT_TYPES, precision)}
const KW = ${v.kernelW}u;

var<workgroup> tileA: array<vec4<f32>, ${BM * STEP}>;
var<workgroup> tileB: array<vec4<f32>, ${STEP * 4 * BN}>;

@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
  // Workgroup-uniform: spare workgroups of a folded grid leave before any barrier.
  let tile = wg.y * nwg.x + wg.x;
  if (tile >= params.tiles) { return; }
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
  for (var k0 = 0u; k0 < params.K; k0 += ${STEP}u) {
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
    store_dst(o, epilogue(acc${p}_${c} + bias[co${c}], o));
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
  return load_src(((row.imageRow + u32(iy)) * params.inW + u32(ix)) * params.inC4 + ci4);
}

${epilogueFunction(v)}
`;
  return finishProgram({
    name: 'conv-shared',
    key: `conv-shared/k${v.kernelH}x${v.kernelW}/p${P}v${V}/${v.residual ? 'res' : 'nores'}/${v.activation ? 'act' : 'noact'}`,
    code,
    bindings,
    uniforms: CONV_SHARED_UNIFORMS,
    workgroupSize: THREADS,
  }, precision);
}
