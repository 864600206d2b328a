import type { ActivationFunction } from '../../src/graph/activations/index.ts';
import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import type { KernelProgram, StoragePrecision } from '../common.ts';
import {
  CONV_ELEMENT_TYPES,
  WORKGROUP_SIZE,
  allOf,
  bindingDecls,
  columnInRow,
  convBindings,
  entryPoint,
  epilogueFunction,
  epilogueKey,
  finishProgram,
  uniformStruct,
  unroll,
} from '../common.ts';
import { DEPTHWISE_UNIFORMS } from './wgsl.ts';

/**
 * Block depthwise variant (dilation 1, stride baked in): each invocation computes one channel vec4 for a block of
 * `rowsPerThread` output rows by `pixelsPerThread` output columns. The channel vec4's KHxKW weights are loaded
 * once into registers, and each of the `(R - 1) * strideY + KH` input rows the block needs is loaded once (its
 * `(P - 1) * strideX + KW` columns) and fed to every output row it contributes to. For 3x3 stride 1 with a 2x4
 * block that is 24 input loads and 9 weight loads per 8 outputs, against 18 and 9 per 4 for the row kernel.
 */
export interface DepthwiseBlockVariant {
  readonly kernelH: number;
  readonly kernelW: number;
  readonly strideY: number;
  readonly strideX: number;
  readonly pixelsPerThread: number;
  readonly rowsPerThread: number;
  readonly residual: boolean;
  readonly activation: boolean;
  /** A table activation function instead of the clamp (`EpilogueActivation`). */
  readonly fn?: ActivationFunction;
}

export function depthwiseBlockProgram(v: DepthwiseBlockVariant, precision: StoragePrecision = 'f32'): KernelProgram {
  const P = v.pixelsPerThread;
  const R = v.rowsPerThread;
  const span = (P - 1) * v.strideX + v.kernelW;
  const inRows = (R - 1) * v.strideY + v.kernelH;
  const bindings = convBindings(v.residual);
  // Input row `r` of the block feeds output row `j` through kernel row `r - j * strideY` where that is a kernel row.
  const taps = (r: number) =>
    unroll(R, (j) => {
      const ky = r - j * v.strideY;
      if (ky < 0 || ky >= v.kernelH) return '';
      return unroll(P, (p) => unroll(v.kernelW, (kx) => `      acc${j}_${p} = fma(x${p * v.strideX + kx}, w${ky * v.kernelW + kx}, acc${j}_${p});`));
    }).replace(/\n+/g, '\n').replace(/^\n|\n$/g, '');
  const code = wgsl`
${rowBlockPrologue(P, R, bindings, precision)}
  let ix0 = i32(ox0 * ${v.strideX}u) - params.padLeft;
  let interior = ${allOf('ix0 >= 0', `ix0 + ${span - 1} <= lastX`)};
${unroll(v.kernelH * v.kernelW, (k) => `  let w${k} = load_weight(${k}u * params.C4 + c4);`)}
${unroll(R, (j) => unroll(P, (p) => `  var acc${j}_${p} = vec4<f32>(0.0);`))}
${unroll(span, (j) => `  var x${j} = vec4<f32>(0.0);`)}
${unroll(inRows, (r) => `  {
    let iy = i32(oy0 * ${v.strideY}u + ${r}u) - params.padTop;
    if (${allOf('iy >= 0', 'iy < i32(params.inH)')}) {
      let rowBase = (n * params.inH + u32(iy)) * params.inW;
      if (interior) {
        let first = (rowBase + u32(ix0)) * params.C4 + c4;
${unroll(span, (j) => `        x${j} = load_src(first + ${j}u * params.C4);`)}
      } else {
${unroll(span, (j) => `        x${j} = select(vec4<f32>(0.0), load_src((rowBase + u32(clamp(ix0 + ${j}, 0, lastX))) * params.C4 + c4), ${columnInRow(`ix0 + ${j}`)});`)}
      }
${taps(r)}
    }
  }`)}
  let b = bias[c4];
${unroll(R, (j) => `  if (oy0 + ${j}u < params.outH) {
${unroll(P, (p) => `    if (ox0 + ${p}u < params.outW) {
      let o = ((n * params.outH + oy0 + ${j}u) * params.outW + ox0 + ${p}u) * params.C4 + c4;
      store_dst(o, epilogue(acc${j}_${p} + b, o));
    }`)}
  }`)}
}

${epilogueFunction(v)}
`;
  return finishProgram({
    name: 'depthwise',
    key: `depthwise-block/k${v.kernelH}x${v.kernelW}/s${v.strideY}x${v.strideX}/p${P}r${R}/${v.residual ? 'res' : 'nores'}/${epilogueKey(v)}`,
    code,
    bindings,
    uniforms: DEPTHWISE_UNIFORMS.fields,
    workgroupSize: WORKGROUP_SIZE,
  }, precision);
}

/**
 * The block and rolling kernels' common start: uniforms, bindings, and the invocation's place (channel vec4
 * `c4`, image `n`, first output column `ox0` of `P`, first output row `oy0` of `R`), plus `lastX`. `R` is a
 * number baked into the shader, or 'uniform': the launch's `params.rows`.
 */
export function rowBlockPrologue(P: number, R: number | 'uniform', bindings: ReturnType<typeof convBindings>, precision: StoragePrecision): string {
  const oyGroups = R === 'uniform' ? '(params.outH + params.rows - 1u) / params.rows' : `(params.outH + ${R - 1}u) / ${R}u`;
  const rows = R === 'uniform' ? 'params.rows' : `${R}u`;
  return `${uniformStruct(DEPTHWISE_UNIFORMS.fields)}
${bindingDecls(bindings, CONV_ELEMENT_TYPES, precision)}

${entryPoint(WORKGROUP_SIZE)}
  if (flat >= params.total) { return; }
  let c4 = flat % params.C4;
  var t = flat / params.C4;
  let oxGroup = t % params.oxGroups;
  t = t / params.oxGroups;
  let oyGroups = ${oyGroups};
  let oy0 = (t % oyGroups) * ${rows};
  let n = t / oyGroups;
  let ox0 = oxGroup * ${P}u;
  let lastX = i32(params.inW) - 1;`;
}
