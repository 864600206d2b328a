import type { ActivationFunction } from '../../src/graph/activations/index.ts';
import type { KernelProgram, StoragePrecision } from '../common.ts';
import { joinUniforms, uniformBlock } from '../uniforms.ts';
import { ACTIVATION_UNIFORMS, anyOf, columnInRow, epilogueKey, unroll, unroll2 } from '../common.ts';
import { denseTileProgram } from '../dense-tile.ts';
import type { GroupedRowsGeometry } from './rows.ts';
import { groupedRowsBody, groupedTapFmas } from './rows.ts';

/**
 * Grouped convolution (1 < groups < channels) doing only each group's multiply-adds, over NHWC4: an invocation
 * computes `pixelsPerThread` neighbouring output columns x `vec4sPerThread` output vec4s and loops over the taps
 * and the input channels of its group only (the dense families run it block-diagonally, zeros included).
 *
 * Weights are packed per group as a dense conv on `inC / groups` input channels: `[kh][kw][inPG4][outC4][4]`
 * vec4s, entry `(ky, kx, i4, co4, k)` holding the weights from the group's input channel `4*i4 + k` to output
 * channels `4*co4 .. 4*co4+3`.
 *
 * Two compile-time paths:
 * - `aligned` (channels per group a multiple of 4, in and out): an output vec4 lies in one group, whose input
 *   channels are whole vec4s; the launch keeps `vec4sPerThread` a divisor of the group's output vec4s, so one
 *   invocation's vec4s share a group and its input loads.
 * - lanes (any other group width, odd ones included): one output vec4 per invocation whose four channels may lie
 *   in different groups; each lane loads its own group's input channel, one scalar at a time.
 *
 * The aligned path has a row form (`rows`, rows.ts): stride and dilation baked in, each kernel row's shared input
 * columns loaded once for all the window's columns.
 */
export interface GroupedConvVariant {
  readonly kernelH: number;
  readonly kernelW: number;
  readonly pixelsPerThread: number;
  /** Output vec4s per invocation (1 on the lanes path). */
  readonly vec4sPerThread: number;
  readonly aligned: boolean;
  readonly residual: boolean;
  readonly activation: boolean;
  readonly fn?: ActivationFunction;
  /** The row form (aligned only): its baked geometry. */
  readonly rows?: GroupedRowsGeometry;
}

export const GROUPED_CONV_UNIFORMS = joinUniforms(uniformBlock({
  total: 'u32',
  inH: 'u32',
  inW: 'u32',
  inC4: 'u32',
  outH: 'u32',
  outW: 'u32',
  outC: 'u32',
  outC4: 'u32',
  oxGroups: 'u32',
  coGroups: 'u32',
  /** Input and output channels per group. */
  inPerGroup: 'u32',
  outPerGroup: 'u32',
  /** Packed input vec4s per group (`ceil(inPerGroup / 4)`): the weights' `inPG4` extent. */
  inPerGroup4: 'u32',
  strideY: 'u32',
  strideX: 'u32',
  dilationY: 'u32',
  dilationX: 'u32',
  padTop: 'i32',
  padLeft: 'i32',
}), ACTIVATION_UNIFORMS);

/**
 * The aligned path's loops: per kernel row, input vec4 of the group, then kernel column (the row form's order), the
 * `P` columns' input vec4s and the tap's multiply-adds.
 */
function alignedBody(P: number, V: number): string {
  return `  for (var ky = 0u; ky < KH; ky++) {
    let iy = i32(oy * params.strideY + ky * params.dilationY) - params.padTop;
    if (${anyOf('iy < 0', 'iy >= i32(params.inH)')}) { continue; }
    let rowBase = (n * params.inH + u32(iy)) * params.inW;
    for (var i4 = 0u; i4 < params.inPerGroup4; i4++) {
      for (var kx = 0u; kx < KW; kx++) {
        let ixBase = i32(kx * params.dilationX) - params.padLeft;
${unroll(P, (p) => `        let ix${p} = i32((ox0 + ${p}u) * params.strideX) + ixBase;
        let x${p} = select(vec4<f32>(0.0), load_src((rowBase + u32(clamp(ix${p}, 0, lastX))) * params.inC4 + groupC4 + i4), ${columnInRow(`ix${p}`)});`)}
        let wRow = ((ky * KW + kx) * params.inPerGroup4 + i4) * params.outC4 + firstCo;
${groupedTapFmas(P, V, (p) => `x${p}`)}
      }
    }
  }`;
}

/** The same for the lanes path: each of the four output channels reads input channel `i` of its own group. */
function lanesTapBody(P: number): string {
  return `      for (var i = 0u; i < params.inPerGroup; i++) {
        let w = load_weight(((tapRow + i / 4u) * params.outC4 + firstCo) * 4u + i % 4u);
${unroll(4, (l) => `        let ch${l} = laneBase${l} + i;`)}
${unroll(P, (p) => `        let x${p} = select(vec4<f32>(0.0), vec4<f32>(${[0, 1, 2, 3].map((l) => `load_src_lane(base${p} + ch${l} / 4u, ch${l} % 4u)`).join(', ')}), inside${p});
        acc${p}_0 = fma(x${p}, w, acc${p}_0);`)}
      }`;
}

export function groupedConvProgram(v: GroupedConvVariant, precision: StoragePrecision = 'f32'): KernelProgram {
  const P = v.pixelsPerThread;
  const V = v.aligned ? v.vec4sPerThread : 1;
  const groupSetup = v.aligned
    ? `  let groupC4 = (firstCo * 4u / params.outPerGroup) * (params.inPerGroup / 4u);`
    : unroll(4, (l) => `  let laneBase${l} = (min(firstCo * 4u + ${l}u, params.outC - 1u) / params.outPerGroup) * params.inPerGroup;`);
  const r = v.aligned ? v.rows : undefined;
  const rowsKey = r && `grouped-rows/k${v.kernelH}x${v.kernelW}/s${r.strideY}x${r.strideX}${r.dilationY === 1 && r.dilationX === 1 ? '' : `/d${r.dilationY}x${r.dilationX}`}${r.inVec4s === undefined ? '' : `/i${r.inVec4s}`}`;
  return denseTileProgram({
    name: 'grouped',
    key: `${rowsKey ?? `grouped/k${v.kernelH}x${v.kernelW}`}/p${P}v${V}/${v.aligned ? 'aligned' : 'lanes'}/${v.residual ? 'res' : 'nores'}/${epilogueKey(v)}`,
    uniforms: GROUPED_CONV_UNIFORMS.fields,
    variant: v,
    pixelsPerThread: P,
    vec4sPerThread: V,
    // The launch keeps V a divisor of the group's output vec4s (1 on the lanes path).
    exactVec4Groups: true,
    constants: `const KH = ${v.kernelH}u;
const KW = ${v.kernelW}u;`,
    placed: groupSetup,
    body: r ? groupedRowsBody(r, v.kernelH, v.kernelW, P, V) : v.aligned ? alignedBody(P, V) : `  for (var ky = 0u; ky < KH; ky++) {
    let iy = i32(oy * params.strideY + ky * params.dilationY) - params.padTop;
    if (${anyOf('iy < 0', 'iy >= i32(params.inH)')}) { continue; }
    let rowBase = (n * params.inH + u32(iy)) * params.inW;
    for (var kx = 0u; kx < KW; kx++) {
      let ixBase = i32(kx * params.dilationX) - params.padLeft;
${unroll(P, (p) => `      let ix${p} = i32((ox0 + ${p}u) * params.strideX) + ixBase;
      let inside${p} = ${columnInRow(`ix${p}`)};
      let base${p} = (rowBase + u32(clamp(ix${p}, 0, lastX))) * params.inC4;`)}
      let tapRow = (ky * KW + kx) * params.inPerGroup4;
${lanesTapBody(P)}
    }
  }`,
  }, precision);
}
