import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import type { KernelProgram, StoragePrecision } from '../common.ts';
import {
  WORKGROUP_SIZE,
  allOf,
  columnInRow,
  convBindings,
  epilogueFunction,
  epilogueKey,
  finishProgram,
  unroll,
} from '../common.ts';
import type { DepthwiseBlockVariant } from './block.ts';
import { rowBlockPrologue } from './block.ts';
import { DEPTHWISE_UNIFORMS } from './wgsl.ts';

/**
 * Rolling-window depthwise variant (dilation 1, stride baked in), written for SIMD-on-CPU compilers such as
 * SwiftShader, which run both sides of every `if` under lane masks and load each lane's vec4 as four scalar
 * gathers: the code has no data-dependent branch around loads, so each input vec4 costs one gather.
 *
 * Each invocation walks `rowsPerThread` output rows of `pixelsPerThread` columns of one channel vec4 in a loop.
 * The input rows the next output row shares with this one stay in registers (`KH - strideY` of them), so each
 * iteration loads only `strideY` new rows of `(P - 1) * strideX + KW` columns; the channel's weights are loaded
 * once. Column offsets and their padding masks are computed once per invocation; every tap is a clamped load
 * whose padding lanes `select` zero, taken unconditionally. Only the loop body's code is emitted once, so the
 * shader stays as small as the row kernel's.
 *
 * Multiply-adds run in the row kernel's order (kernel rows, then columns, per output); a padding row adds
 * `fma(0, w, acc)` where the row kernel skips it, which leaves `acc` unchanged (it is never -0), so outputs are
 * bit-identical to the row kernel's. The variant is the block kernel's; `rowsPerThread` 'uniform' (the `fit`
 * tiles): the rows the loop walks are the launch's `rows` uniform, not baked into the shader, so layers that walk
 * different row counts share a pipeline.
 */
export type DepthwiseRollingVariant = Omit<DepthwiseBlockVariant, 'rowsPerThread'> & { readonly rowsPerThread: number | 'uniform' };

export function depthwiseRollingProgram(v: DepthwiseRollingVariant, precision: StoragePrecision = 'f32'): KernelProgram {
  const P = v.pixelsPerThread;
  const R = v.rowsPerThread;
  const KH = v.kernelH;
  const KW = v.kernelW;
  const span = (P - 1) * v.strideX + KW;
  // Kernel rows an output row shares with the next one, and the rows each iteration loads.
  const keep = Math.max(KH - v.strideY, 0);
  const bindings = convBindings(v.residual);
  const loadRow = (ky: number, indent: string) => `${indent}{
${indent}  let iy = iyTop + ${ky};
${indent}  let rowOk = ${allOf('iy >= 0', 'iy <= lastY')};
${indent}  let base = u32(clamp(iy, 0, lastY)) * rowStride + imageBase;
${unroll(span, (j) => `${indent}  x${ky}_${j} = select(vec4<f32>(0.0), load_src(base + col${j}), ${allOf('rowOk', `colOk${j}`)});`)}
${indent}}`;
  const body = (indent: string) => `${unroll(KH - keep, (s) => loadRow(keep + s, indent))}
${unroll(P, (p) => `${indent}var acc${p} = vec4<f32>(0.0);`)}
${unroll(KH, (ky) => unroll(P, (p) => unroll(KW, (kx) => `${indent}acc${p} = fma(x${ky}_${p * v.strideX + kx}, w${ky * KW + kx}, acc${p});`)))}
${unroll(P, (p) => `${indent}if (ox0 + ${p}u < params.outW) {
${indent}  let o = ((n * params.outH + oy) * params.outW + ox0 + ${p}u) * params.C4 + c4;
${indent}  store_dst(o, epilogue(acc${p} + b, o));
${indent}}`)}`;
  const shift = (indent: string) => unroll(keep, (ky) => unroll(span, (j) => `${indent}x${ky}_${j} = x${ky + v.strideY}_${j};`));
  const code = wgsl`
${rowBlockPrologue(P, R, bindings, precision)}
  let lastY = i32(params.inH) - 1;
  let rowStride = params.inW * params.C4;
  let imageBase = n * params.inH * rowStride + c4;
  let ix0 = i32(ox0 * ${v.strideX}u) - params.padLeft;
${unroll(span, (j) => `  let col${j} = u32(clamp(ix0 + ${j}, 0, lastX)) * params.C4;
  let colOk${j} = ${columnInRow(`ix0 + ${j}`)};`)}
${unroll(KH * KW, (k) => `  let w${k} = load_weight(${k}u * params.C4 + c4);`)}
  let b = bias[c4];
${unroll(KH, (ky) => unroll(span, (j) => `  var x${ky}_${j} = vec4<f32>(0.0);`))}
  var iyTop = i32(oy0 * ${v.strideY}u) - params.padTop;
${unroll(keep, (ky) => loadRow(ky, '  '))}
${R === 1 ? `  let oy = oy0;\n${body('  ')}` : `  // The last row group may hold fewer rows; the bound is the same for lanes of one row group.
  let rows = min(${R === 'uniform' ? 'params.rows' : `${R}u`}, params.outH - oy0);
  for (var r = 0u; r < rows; r++) {
    let oy = oy0 + r;
${body('    ')}
${shift('    ')}
    iyTop += ${v.strideY};
  }`}
}

${epilogueFunction(v)}
`;
  return finishProgram({
    name: 'depthwise',
    key: `depthwise-rolling/k${KH}x${KW}/s${v.strideY}x${v.strideX}/p${P}${R === 'uniform' ? 'rows' : `r${R}`}/${v.residual ? 'res' : 'nores'}/${epilogueKey(v)}`,
    code,
    bindings,
    uniforms: DEPTHWISE_UNIFORMS.fields,
    workgroupSize: WORKGROUP_SIZE,
  }, precision);
}
