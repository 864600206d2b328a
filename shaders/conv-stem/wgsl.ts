import type { ActivationFunction } from '../../src/graph/activations/index.ts';
import type { KernelProgram, StoragePrecision } from '../common.ts';
import { joinUniforms, uniformBlock } from '../uniforms.ts';
import { ACTIVATION_UNIFORMS, allOf, anyOf, columnInRow, epilogueKey, unroll, unroll2 } from '../common.ts';
import { denseTileProgram } from '../dense-tile.ts';

/**
 * Dense KxK convolution on at most 4 input channels (RGB stems), dilation 1, over NHWC4 input (one vec4 per
 * pixel): each invocation computes `pixelsPerThread` neighbouring output columns x `vec4sPerThread` groups of four
 * output channels. Unlike conv2d, which loops over taps and input vec4s with runtime bounds checks per tap:
 * - the window columns, the stride and the input channel count are compile-time constants, so per kernel row
 *   the `(P - 1) * stride + KW` input columns the P outputs share are loaded once (stride 2 with a 3x3 window:
 *   17 loads for 8 outputs instead of 24) and the taps are straight-line multiply-adds;
 * - only the `inC` real channels are multiplied (3 of the 4 lanes of an RGB pixel; conv2d multiplies the zero
 *   padding lane too);
 * - invocations whose columns lie inside the image load them unchecked; only those crossing the left or right
 *   padding clamp and mask (rows outside the image are skipped as in conv2d).
 * The multiply-adds run in conv2d's order (taps row by row, channels from the last to the first), so outputs are
 * the same bits.
 *
 * Weights are the dense families' `[kh][kw][inC4 = 1][outC4][4]` vec4s: entry `(ky, kx, 0, co4, c)` holds the
 * weights from input channel `c` to output channels `4*co4 .. 4*co4+3`.
 */
export interface StemConvVariant {
  readonly kernelH: number;
  readonly kernelW: number;
  /** Horizontal stride (compile-time: it places the shared input columns). */
  readonly strideX: number;
  /** Input channels, 1 to 4. */
  readonly inC: number;
  readonly pixelsPerThread: number;
  readonly vec4sPerThread: number;
  readonly residual: boolean;
  readonly activation: boolean;
  readonly fn?: ActivationFunction;
}

export const STEM_CONV_UNIFORMS = joinUniforms(uniformBlock({
  total: 'u32',
  inH: 'u32',
  inW: 'u32',
  outH: 'u32',
  outW: 'u32',
  outC4: 'u32',
  oxGroups: 'u32',
  coGroups: 'u32',
  strideY: 'u32',
  padTop: 'i32',
  padLeft: 'i32',
}), ACTIVATION_UNIFORMS);

const LANES = ['x', 'y', 'z', 'w'];

/** Input columns one kernel row of an invocation reads. */
export function stemSpan(v: Pick<StemConvVariant, 'pixelsPerThread' | 'strideX' | 'kernelW'>): number {
  return (v.pixelsPerThread - 1) * v.strideX + v.kernelW;
}

/** The multiply-adds of one kernel row: per tap and channel (last channel first), V weight loads used P times. */
function rowTaps(v: StemConvVariant, P: number, V: number): string {
  const lines: string[] = [];
  for (let kx = 0; kx < v.kernelW; kx++) {
    for (let c = v.inC - 1; c >= 0; c--) {
      lines.push(unroll(V, (j) => `    let w${j}_${kx}_${c} = load_weight(((wRow + ${kx}u) * params.outC4 + co${j}) * 4u + ${c}u);`));
      lines.push(unroll2(P, V, (p, j) => `    acc${p}_${j} = fma(vec4<f32>(x${p * v.strideX + kx}.${LANES[c]}), w${j}_${kx}_${c}, acc${p}_${j});`));
    }
  }
  return lines.join('\n');
}

export function stemConvProgram(v: StemConvVariant, precision: StoragePrecision = 'f32'): KernelProgram {
  const P = v.pixelsPerThread;
  const V = v.vec4sPerThread;
  const span = stemSpan(v);
  return denseTileProgram({
    name: 'conv-stem',
    key: `conv-stem/k${v.kernelH}x${v.kernelW}/s${v.strideX}/c${v.inC}/p${P}v${V}/${v.residual ? 'res' : 'nores'}/${epilogueKey(v)}`,
    uniforms: STEM_CONV_UNIFORMS.fields,
    variant: v,
    pixelsPerThread: P,
    vec4sPerThread: V,
    constants: `const KH = ${v.kernelH}u;`,
    placed: `  let ix0 = i32(ox0 * ${v.strideX}u) - params.padLeft;
  let interior = ${allOf('ix0 >= 0', `ix0 + ${span - 1} <= lastX`)};`,
    body: `${unroll(span, (j) => `  var x${j}: vec4<f32>;`)}
  for (var ky = 0u; ky < KH; ky++) {
    let iy = i32(oy * params.strideY + ky) - params.padTop;
    if (${anyOf('iy < 0', 'iy >= i32(params.inH)')}) { continue; }
    let rowBase = (n * params.inH + u32(iy)) * params.inW;
    if (interior) {
      let b = rowBase + u32(ix0);
${unroll(span, (j) => `      x${j} = load_src(b + ${j}u);`)}
    } else {
${unroll(span, (j) => `      x${j} = select(vec4<f32>(0.0), load_src(rowBase + u32(clamp(ix0 + ${j}, 0, lastX))), ${columnInRow(`ix0 + ${j}`)});`)}
    }
    let wRow = ky * ${v.kernelW}u;
${rowTaps(v, P, V)}
  }`,
  }, precision);
}
