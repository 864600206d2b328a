import type { ActivationFunction } from '../../src/graph/activations/index.ts';
import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import type { KernelProgram, StoragePrecision } from '../common.ts';
import { joinUniforms, uniformBlock } from '../uniforms.ts';
import {
  ACTIVATION_UNIFORMS,
  CONV_ELEMENT_TYPES,
  WORKGROUP_SIZE,
  allOf,
  anyOf,
  bindingDecls,
  columnInRow,
  convBindings,
  entryPoint,
  epilogueFunction,
  epilogueKey,
  finishProgram,
  maskedColumns,
  rowTileColumns,
  rowTilePrologue,
  uniformStruct,
  unroll,
} from '../common.ts';

/**
 * Depthwise KxK convolution (groups = channels) over NHWC4: each invocation computes one vec4 of channels for
 * `pixelsPerThread` neighbouring output columns, so each weight is loaded once per tap and reused across them.
 * Padding is a clamped load masked by `select`, not a branch per tap. Weights are packed `[kh][kw][C4]` vec4s.
 */
export interface DepthwiseVariant {
  readonly kernelH: number;
  readonly kernelW: number;
  readonly pixelsPerThread: number;
  readonly residual: boolean;
  readonly activation: boolean;
  /** A table activation function instead of the clamp (`EpilogueActivation`). */
  readonly fn?: ActivationFunction;
}

export const DEPTHWISE_UNIFORMS = joinUniforms(uniformBlock({
  total: 'u32',
  inH: 'u32',
  inW: 'u32',
  C4: 'u32',
  outH: 'u32',
  outW: 'u32',
  oxGroups: 'u32',
  strideY: 'u32',
  strideX: 'u32',
  dilationY: 'u32',
  dilationX: 'u32',
  padTop: 'i32',
  padLeft: 'i32',
  /** Output rows the rolling kernel's loop walks per invocation (the other kernels ignore it). */
  rows: 'u32',
}), ACTIVATION_UNIFORMS);

export function depthwiseConvProgram(v: DepthwiseVariant, precision: StoragePrecision = 'f32'): KernelProgram {
  const P = v.pixelsPerThread;
  const bindings = convBindings(v.residual);
  const code = wgsl`
${uniformStruct(DEPTHWISE_UNIFORMS.fields)}
${bindingDecls(bindings, CONV_ELEMENT_TYPES, precision)}
const KH = ${v.kernelH}u;
const KW = ${v.kernelW}u;

${entryPoint(WORKGROUP_SIZE)}
${rowTilePrologue(P)}
${unroll(P, (p) => `  var acc${p} = vec4<f32>(0.0);`)}
  for (var ky = 0u; ky < KH; ky++) {
    let iy = i32(oy * params.strideY + ky * params.dilationY) - params.padTop;
    if (${anyOf('iy < 0', 'iy >= i32(params.inH)')}) { continue; }
    let rowBase = (n * params.inH + u32(iy)) * params.inW;
    for (var kx = 0u; kx < KW; kx++) {
      let w = load_weight((ky * KW + kx) * params.C4 + c4);
      let ixBase = i32(kx * params.dilationX) - params.padLeft;
${unroll(P, (p) => `      let ix${p} = i32((ox0 + ${p}u) * params.strideX) + ixBase;
      let x${p} = load_src((rowBase + u32(clamp(ix${p}, 0, lastX))) * params.C4 + c4);
      acc${p} = fma(select(vec4<f32>(0.0), x${p}, ${columnInRow(`ix${p}`)}), w, acc${p});`)}
    }
  }
  let b = bias[c4];
${depthwiseStores(P)}
}

${epilogueFunction(v)}
`;
  return finishProgram({
    name: 'depthwise',
    key: `depthwise/k${v.kernelH}x${v.kernelW}/p${P}/${v.residual ? 'res' : 'nores'}/${epilogueKey(v)}`,
    code,
    bindings,
    uniforms: DEPTHWISE_UNIFORMS.fields,
    workgroupSize: WORKGROUP_SIZE,
  }, precision);
}

/**
 * Row-reuse depthwise variant with the stride (and dilation) baked in: per kernel row it loads the input columns
 * its `P` outputs share once (6 loads instead of 12 for 3x3 stride 1, P = 4; 16 instead of 40 for DeepLabV3's
 * 5x5 dilation 2 at P = 8), and tiles that lie inside the image skip the clamp-and-select padding path entirely.
 * Taps run in the general kernel's order (rows, then columns), so the outputs are the same bits.
 */
export interface DepthwiseRowsVariant {
  readonly kernelH: number;
  readonly kernelW: number;
  readonly strideY: number;
  readonly strideX: number;
  /** Absent: 1. */
  readonly dilationY?: number;
  readonly dilationX?: number;
  readonly pixelsPerThread: number;
  readonly residual: boolean;
  readonly activation: boolean;
  /** A table activation function instead of the clamp (`EpilogueActivation`). */
  readonly fn?: ActivationFunction;
}

export function depthwiseRowsProgram(v: DepthwiseRowsVariant, precision: StoragePrecision = 'f32'): KernelProgram {
  const P = v.pixelsPerThread;
  const dy = v.dilationY ?? 1;
  const dx = v.dilationX ?? 1;
  const column = (p: number, kx: number) => p * v.strideX + kx * dx;
  const span = column(P - 1, v.kernelW - 1) + 1;
  const used = rowTileColumns(P, v.kernelW, v.strideX, dx);
  const bindings = convBindings(v.residual);
  const taps = (indent: string) =>
    unroll(P, (p) =>
      unroll(v.kernelW, (kx) => `${indent}acc${p} = fma(x${column(p, kx)}, w${kx}, acc${p});`),
    );
  const eachUsed = (line: (j: number) => string) => used.map(line).join('\n');
  // Dilated windows read columns too far apart for a branch-free interior test to pay: each column is clamped and
  // masked once per invocation, and every row loads through the mask (SwiftShader runs both sides of a branch).
  const dilated = dy !== 1 || dx !== 1;
  const code = wgsl`
${uniformStruct(DEPTHWISE_UNIFORMS.fields)}
${bindingDecls(bindings, CONV_ELEMENT_TYPES, precision)}

${entryPoint(WORKGROUP_SIZE)}
${rowTilePrologue(P)}
  let ix0 = i32(ox0 * ${v.strideX}u) - params.padLeft;
${dilated ? maskedColumns(used, 'ix0') : `  let interior = ${allOf('ix0 >= 0', `ix0 + ${span - 1} <= lastX`)};`}
${unroll(P, (p) => `  var acc${p} = vec4<f32>(0.0);`)}
${eachUsed((j) => `  var x${j} = vec4<f32>(0.0);`)}
${unroll(v.kernelH, (ky) => `  {
    let iy = i32(oy * ${v.strideY}u + ${ky * dy}u) - params.padTop;
    if (${allOf('iy >= 0', 'iy < i32(params.inH)')}) {
      let rowBase = (n * params.inH + u32(iy)) * params.inW;
${unroll(v.kernelW, (kx) => `      let w${kx} = load_weight(${ky * v.kernelW + kx}u * params.C4 + c4);`)}
${dilated ? eachUsed((j) => `      x${j} = select(vec4<f32>(0.0), load_src((rowBase + col${j}) * params.C4 + c4), valid${j});`) : `      if (interior) {
        let first = (rowBase + u32(ix0)) * params.C4 + c4;
${eachUsed((j) => `        x${j} = load_src(first + ${j}u * params.C4);`)}
      } else {
${eachUsed((j) => `        x${j} = select(vec4<f32>(0.0), load_src((rowBase + u32(clamp(ix0 + ${j}, 0, lastX))) * params.C4 + c4), ${columnInRow(`ix0 + ${j}`)});`)}
      }`}
${taps('      ')}
    }
  }`)}
  let b = bias[c4];
${depthwiseStores(P)}
}

${epilogueFunction(v)}
`;
  return finishProgram({
    name: 'depthwise',
    key: `depthwise-rows/k${v.kernelH}x${v.kernelW}/s${v.strideY}x${v.strideX}${dy === 1 && dx === 1 ? '' : `/d${dy}x${dx}`}/p${P}/${v.residual ? 'res' : 'nores'}/${epilogueKey(v)}`,
    code,
    bindings,
    uniforms: DEPTHWISE_UNIFORMS.fields,
    workgroupSize: WORKGROUP_SIZE,
  }, precision);
}

/** Bias, fused epilogue and store of the `P` accumulators of one depthwise invocation. */
function depthwiseStores(P: number): string {
  return unroll(
    P,
    (p) => `  if (ox0 + ${p}u < params.outW) {
    let o = ((n * params.outH + oy) * params.outW + ox0 + ${p}u) * params.C4 + c4;
    store_dst(o, epilogue(acc${p} + b, o));
  }`,
  );
}
