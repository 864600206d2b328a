import type { KernelProgram, StoragePrecision } from '../common.ts';
import { allOf, columnInRow, epilogueKey, unroll } from '../common.ts';
import { denseTileProgram } from '../dense-tile.ts';
import type { StemConvVariant } from './wgsl.ts';
import { STEM_CONV_UNIFORMS } from './wgsl.ts';

/**
 * The walking stem kernel: an invocation owns one output vec4 (four output channels) and walks `walkColumns`
 * output columns of one row, one column per loop step. Its `KH x KW x inC` weight vec4s are loaded once, before
 * the walk, into named values (constant indices: registers or stack, never a per-lane gather on SwiftShader);
 * each step loads only the `stride` input columns per kernel row that the window slides onto and keeps the
 * `KW - stride` it shares with the last column. Neighbouring invocations are the row's other output vec4s, so
 * the 4 lanes of a SwiftShader SIMD group read the same input address (one load, replicated) where the output
 * has a multiple of 16 channels.
 *
 * Out-of-image rows and columns read as zeros (clamped address, masked), adding `fma(0, w, acc) = acc` where
 * conv2d skips a row: with finite weights the outputs are conv2d's bits, the multiply-adds running in its order
 * (taps row by row, channels from the last to the first).
 *
 * One output vec4 and one column per step on purpose: the weights live across the loop, and SwiftShader's compile
 * time grows much faster than their count (docs/decisions/kernel-defaults.md), so only small windows walk
 * (`STEM_WALK_MAX_WEIGHTS`).
 */
export interface StemWalkVariant extends Omit<StemConvVariant, 'pixelsPerThread' | 'vec4sPerThread'> {
  readonly walkColumns: number;
}

/** Most weight vec4s (`KH x KW x inC`) the walking kernel holds: a 3x3 RGB window. */
export const STEM_WALK_MAX_WEIGHTS = 27;

const LANES = ['x', 'y', 'z', 'w'];

export function stemWalkProgram(v: StemWalkVariant, precision: StoragePrecision = 'f32'): KernelProgram {
  const KH = v.kernelH;
  const KW = v.kernelW;
  const s = v.strideX;
  // Window columns a step keeps from the last one; the ones it loads follow them.
  const kept = Math.max(KW - s, 0);
  const taps: [number, number, number][] = [];
  for (let ky = 0; ky < KH; ky++) for (let kx = 0; kx < KW; kx++) for (let ch = v.inC - 1; ch >= 0; ch--) taps.push([ky, kx, ch]);
  const column = (ky: number, x: number, ix: string) =>
    `x${ky}_${x} = select(vec4<f32>(0.0), load_src(rowBase${ky} + u32(clamp(${ix}, 0, lastX))), ${allOf(`rowOk${ky}`, columnInRow(ix))});`;
  const body = `${taps.map(([ky, kx, ch]) => `  let w${ky}_${kx}_${ch} = load_weight((${ky * KW + kx}u * params.outC4 + co0) * 4u + ${ch}u);`).join('\n')}
${unroll(KH, (ky) => `  let iy${ky} = i32(oy * params.strideY + ${ky}u) - params.padTop;
  let rowOk${ky} = ${allOf(`iy${ky} >= 0`, `iy${ky} < i32(params.inH)`)};
  let rowBase${ky} = (n * params.inH + u32(clamp(iy${ky}, 0, i32(params.inH) - 1))) * params.inW;`)}
  let b0 = bias[co0];
  let ix0 = i32(ox0 * ${s}u) - params.padLeft;
${unroll(KH, (ky) => unroll(KW, (kx) => `  var x${ky}_${kx}: vec4<f32>;`))}
${unroll(KH, (ky) => unroll(kept, (kx) => `  ${column(ky, kx, `ix0 + ${kx}`)}`))}
  let columns = min(${v.walkColumns}u, params.outW - ox0);
  for (var i = 0u; i < columns; i++) {
    let ix = ix0 + i32(i * ${s}u);
${unroll(KH, (ky) => unroll(KW - kept, (j) => `    ${column(ky, kept + j, `ix + ${kept + j}`)}`))}
    var acc = vec4<f32>(0.0);
${taps.map(([ky, kx, ch]) => `    acc = fma(vec4<f32>(x${ky}_${kx}.${LANES[ch]}), w${ky}_${kx}_${ch}, acc);`).join('\n')}
    let o = ((n * params.outH + oy) * params.outW + ox0 + i) * params.outC4 + co0;
    store_dst(o, epilogue(acc + b0, o));
${unroll(KH, (ky) => unroll(kept, (kx) => `    x${ky}_${kx} = x${ky}_${kx + s};`))}
  }`;
  return denseTileProgram({
    name: 'conv-stem',
    key: `conv-stem/k${KH}x${KW}/s${s}/c${v.inC}/walk${v.walkColumns}/${v.residual ? 'res' : 'nores'}/${epilogueKey(v)}`,
    uniforms: STEM_CONV_UNIFORMS.fields,
    variant: v,
    pixelsPerThread: v.walkColumns,
    vec4sPerThread: 1,
    constants: '',
    body,
    ownAccumulators: true,
  }, precision);
}
