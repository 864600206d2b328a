import { anyOf, maskedColumns, rowTileColumns, unroll, unroll2 } from '../common.ts';

/** Stride and dilation baked into a grouped row program (the general one reads them from uniforms). */
export interface GroupedRowsGeometry {
  readonly strideY: number;
  readonly strideX: number;
  readonly dilationY: number;
  readonly dilationX: number;
  /** The group's input vec4s, baked in (the loop over them unrolled) where there are few; absent: a loop. */
  readonly inVec4s?: number;
}

/** The input column (from the invocation's first) that output column `p` reads at tap column `kx`. */
function column(g: GroupedRowsGeometry, p: number, kx: number): number {
  return p * g.strideX + kx * g.dilationX;
}

/**
 * The row kernel's loops for the aligned path (channels per group a multiple of 4): per kernel row and input vec4 of
 * the group, the input columns the `P` outputs share are loaded once and reused across the window's columns (a 3x3
 * stride-1 row at 8 columns: 10 loads for 24 taps), each column clamped and masked once per invocation. Taps and
 * input channels are summed in the general kernel's order (ky, input vec4, kx, lane), so both give the same bits.
 * With `inVec4s` the loop over the group's input vec4s is unrolled and their count baked in: SwiftShader runs a
 * loop's body under per-lane masks, which narrow groups pay for on every kernel row (docs/performance.md).
 */
export function groupedRowsBody(g: GroupedRowsGeometry, kernelH: number, kernelW: number, P: number, V: number): string {
  const used = rowTileColumns(P, kernelW, g.strideX, g.dilationX);
  const eachUsed = (line: (j: number) => string) => used.map(line).join('\n');
  const inVec4s = g.inVec4s === undefined ? 'params.inPerGroup4' : `${g.inVec4s}u`;
  return `  let ix0 = i32(ox0 * ${g.strideX}u) - params.padLeft;
${maskedColumns(used, 'ix0')}
  for (var ky = 0u; ky < ${kernelH}u; ky++) {
    let iy = i32(oy * ${g.strideY}u + ky * ${g.dilationY}u) - params.padTop;
    if (${anyOf('iy < 0', 'iy >= i32(params.inH)')}) { continue; }
    let rowBase = (n * params.inH + u32(iy)) * params.inW;
${eachUsed((j) => `    let base${j} = (rowBase + col${j}) * params.inC4 + groupC4;`)}
${inputVec4s(g.inVec4s, `${eachUsed((j) => `      let x${j} = select(vec4<f32>(0.0), load_src(base${j} + i4), valid${j});`)}
${unroll(kernelW, (kx) => `      {
        let wRow = ((ky * ${kernelW}u + ${kx}u) * ${inVec4s} + i4) * params.outC4 + firstCo;
${groupedTapFmas(P, V, (p) => `x${column(g, p, kx)}`)}
      }`)}`)}
  }`;
}

/** `body` (which reads `i4`) once per input vec4 of the group: unrolled over `baked` of them, else a loop. */
function inputVec4s(baked: number | undefined, body: string): string {
  if (baked === undefined) return `    for (var i4 = 0u; i4 < params.inPerGroup4; i4++) {\n${body}\n    }`;
  return unroll(baked, (i) => `    {\n      let i4 = ${i}u;\n${body}\n    }`);
}

/**
 * One tap's weights (`V` output vec4s' 4 x 4 blocks from row `wRow`) and its multiply-adds into `acc<p>_<c>`, input
 * vec4 `x(p)` for output column `p`: shared by the general and row forms, so that both sum in the same order.
 */
export function groupedTapFmas(P: number, V: number, x: (p: number) => string): string {
  return `${unroll(V, (c) => `        let w${c} = (wRow + ${c}u) * 4u;
        let w${c}a = load_weight(w${c}); let w${c}b = load_weight(w${c} + 1u); let w${c}c = load_weight(w${c} + 2u); let w${c}d = load_weight(w${c} + 3u);`)}
${unroll2(P, V, (p, c) => `        acc${p}_${c} = fma(vec4<f32>(${x(p)}.x), w${c}a, fma(vec4<f32>(${x(p)}.y), w${c}b, fma(vec4<f32>(${x(p)}.z), w${c}c, fma(vec4<f32>(${x(p)}.w), w${c}d, acc${p}_${c}))));`)}`;
}
