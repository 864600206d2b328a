import { unroll, unroll2 } from '../common.ts';

/** Stride and dilation baked into a grouped row program (the general one reads them from uniforms). */
export interface GroupedRowsGeometry {
  readonly strideY: number;
  readonly strideX: number;
  readonly dilationY: number;
  readonly dilationX: number;
}

/** The input column (from the invocation's first) that output column `p` reads at tap column `kx`. */
function column(g: GroupedRowsGeometry, p: number, kx: number): number {
  return p * g.strideX + kx * g.dilationX;
}

/** The input columns some tap of a `P`-column tile reads, in order (stride and dilation above 1 skip some). */
export function usedColumns(g: GroupedRowsGeometry, P: number, kernelW: number): number[] {
  const used = new Set<number>();
  for (let p = 0; p < P; p++) for (let kx = 0; kx < kernelW; kx++) used.add(column(g, p, kx));
  return [...used].sort((a, b) => a - b);
}

/**
 * The row kernel's loops for the aligned path (channels per group a multiple of 4) with the group's input vec4s
 * baked in (`inVec4s`): per kernel row, the input columns the `P` outputs share are loaded once, every input vec4
 * of the group, and reused across the window's columns (a 3x3 stride-1 row at 8 columns: 10 loads per input vec4
 * for 24 taps), each column clamped and masked once per invocation. Taps and input channels are summed in the
 * general kernel's order (ky, kx, input vec4, lane), so both give the same bits.
 */
export function groupedRowsBody(g: GroupedRowsGeometry, kernelH: number, kernelW: number, P: number, V: number, inVec4s: number): string {
  const used = usedColumns(g, P, kernelW);
  const eachUsed = (line: (j: number) => string) => used.map(line).join('\n');
  const fmas = (kx: number, i: number) =>
    unroll2(P, V, (p, c) => {
      const x = `x${column(g, p, kx)}_${i}`;
      return `      acc${p}_${c} = fma(vec4<f32>(${x}.x), w${c}a, fma(vec4<f32>(${x}.y), w${c}b, fma(vec4<f32>(${x}.z), w${c}c, fma(vec4<f32>(${x}.w), w${c}d, acc${p}_${c}))));`;
    });
  return `  let ix0 = i32(ox0 * ${g.strideX}u) - params.padLeft;
${eachUsed((j) => `  let valid${j} = (ix0 + ${j} >= 0) & (ix0 + ${j} <= lastX);
  let col${j} = u32(clamp(ix0 + ${j}, 0, lastX));`)}
  for (var ky = 0u; ky < ${kernelH}u; ky++) {
    let iy = i32(oy * ${g.strideY}u + ky * ${g.dilationY}u) - params.padTop;
    if (iy < 0 || iy >= i32(params.inH)) { continue; }
    let rowBase = (n * params.inH + u32(iy)) * params.inW;
${eachUsed((j) => `    let base${j} = (rowBase + col${j}) * params.inC4 + groupC4;
${unroll(inVec4s, (i) => `    let x${j}_${i} = select(vec4<f32>(0.0), load_src(base${j} + ${i}u), valid${j});`)}`)}
${unroll(kernelW, (kx) => unroll(inVec4s, (i) => `    {
      let w = (((ky * ${kernelW}u + ${kx}u) * ${inVec4s}u + ${i}u) * params.outC4 + firstCo) * 4u;
${unroll(V, (c) => `      let w${c}a = load_weight(w + ${4 * c}u); let w${c}b = load_weight(w + ${4 * c + 1}u); let w${c}c = load_weight(w + ${4 * c + 2}u); let w${c}d = load_weight(w + ${4 * c + 3}u);`)}
${fmas(kx, i)}
    }`))}
  }`;
}
