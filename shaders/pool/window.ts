import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import type { KernelProgram, StoragePrecision } from '../common.ts';
import { SRC_DST_BINDINGS, WORKGROUP_SIZE, bindingDecls, entryPoint, finishProgram, maskedColumns, rowTilePrologue, unroll, uniformStruct } from '../common.ts';
import { uniformBlock } from '../uniforms.ts';
import type { PoolKind } from './wgsl.ts';

/**
 * Max and average pooling with the window baked in (dilation 1): each invocation pools `columns` neighbouring
 * output columns of one output row and channel vec4, loading each kernel row's `(columns - 1) * strideX + kernelW`
 * input columns once (3x3 stride 1: 6 loads for 4 outputs instead of 12) and testing the columns against the
 * image with `select`s instead of a branch per tap. Taps are taken in the general kernel's order (rows, then
 * columns), so max pools give the same bits; an average adds +0.0 for a tap outside the image where the general
 * kernel skips it, which can only turn a -0.0 sum into +0.0.
 */
export interface PoolWindowVariant {
  readonly kind: PoolKind;
  readonly kernelH: number;
  readonly kernelW: number;
  readonly strideX: number;
  readonly columns: number;
}

export const POOL_WINDOW_UNIFORMS = uniformBlock({
  total: 'u32',
  inH: 'u32',
  inW: 'u32',
  C4: 'u32',
  outH: 'u32',
  outW: 'u32',
  oxGroups: 'u32',
  strideY: 'u32',
  padTop: 'i32',
  padLeft: 'i32',
  // Average pool only: the padded extent that counts in the divisor when padding is included.
  paddedH: 'i32',
  paddedW: 'i32',
  countIncludePad: 'u32',
});

/** Output columns per invocation of the windowed kernel. */
export const POOL_WINDOW_COLUMNS = 4;
/** Largest window side the windowed kernel takes (larger ones, and dilated ones, run the general kernel). */
export const POOL_WINDOW_MAX_SIDE = 7;

/** Input columns one kernel row of an invocation reads. */
export function poolWindowSpan(v: Pick<PoolWindowVariant, 'columns' | 'strideX' | 'kernelW'>): number {
  return (v.columns - 1) * v.strideX + v.kernelW;
}

export function poolWindowProgram(v: PoolWindowVariant, precision: StoragePrecision = 'f32'): KernelProgram {
  const P = v.columns;
  const span = poolWindowSpan(v);
  const isMax = v.kind === 'max';
  const taps = (p: number) => Array.from({ length: v.kernelW }, (_, kx) => p * v.strideX + kx);
  const accumulate = (p: number, j: number) => isMax
    ? `    acc${p} = select(acc${p}, max(acc${p}, x${j}), valid${j});`
    : `    acc${p} = acc${p} + select(vec4<f32>(0.0), x${j}, valid${j}); count${p} += select(0u, 1u, valid${j});`;
  const result = (p: number) => (isMax ? `acc${p}` : `acc${p} / f32(max(divisor(x0 + ${p * v.strideX}, y0, count${p}), 1u))`);
  const code = wgsl`
${uniformStruct(POOL_WINDOW_UNIFORMS.fields)}
${bindingDecls(SRC_DST_BINDINGS, {}, precision)}

${entryPoint(WORKGROUP_SIZE)}
${rowTilePrologue(P)}
  let y0 = i32(oy * params.strideY) - params.padTop;
  let x0 = i32(ox0 * ${v.strideX}u) - params.padLeft;
${maskedColumns(Array.from({ length: span }, (_, j) => j), 'x0')}
${unroll(P, (p) => (isMax ? `  var acc${p} = vec4<f32>(-3.4028234663852886e38);` : `  var acc${p} = vec4<f32>(0.0);\n  var count${p} = 0u;`))}
  for (var ky = 0u; ky < ${v.kernelH}u; ky++) {
    let iy = y0 + i32(ky);
    if ((iy < 0) | (iy >= i32(params.inH))) { continue; }
    let rowBase = (n * params.inH + u32(iy)) * params.inW;
${unroll(span, (j) => `    let x${j} = load_src((rowBase + col${j}) * params.C4 + c4);`)}
${unroll(P, (p) => taps(p).map((j) => accumulate(p, j)).join('\n'))}
  }
  let rowOut = (n * params.outH + oy) * params.outW;
${unroll(P, (p) => `  if (ox0 + ${p}u < params.outW) { store_dst((rowOut + ox0 + ${p}u) * params.C4 + c4, ${result(p)}); }`)}
}
${isMax ? '' : `
// The divisor of one output: its taps inside the image, or its window clipped to the padded input (as PyTorch and
// ONNX count it) when padding counts.
fn divisor(x0: i32, y0: i32, inside: u32) -> u32 {
  if (params.countIncludePad == 0u) { return inside; }
  let h = min(y0 + ${v.kernelH}, params.paddedH - params.padTop) - max(y0, -params.padTop);
  let w = min(x0 + ${v.kernelW}, params.paddedW - params.padLeft) - max(x0, -params.padLeft);
  return u32(max(h * w, 1));
}`}
`;
  return finishProgram({
    name: `${v.kind}Pool`,
    key: `pool/${v.kind}/k${v.kernelH}x${v.kernelW}/s${v.strideX}/p${P}`,
    code,
    bindings: SRC_DST_BINDINGS,
    uniforms: POOL_WINDOW_UNIFORMS.fields,
    workgroupSize: WORKGROUP_SIZE,
  }, precision);
}
