import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import type { KernelBinding, KernelProgram, StoragePrecision } from '../common.ts';
import { WORKGROUP_SIZE, bindingDecls, entryPoint, finishProgram, uniformStruct } from '../common.ts';
import { uniformBlock } from '../uniforms.ts';

/** Output rows and columns each invocation computes (a register tile). */
export const MATMUL_TILE = 4;

/** No bias, a computed bias tensor, or a constant bias (f32 NHWC4 of its own shape, like binary constants). */
export type MatMulBiasMode = 'none' | 'tensor' | 'constant';

/**
 * A batched matmul on NHWC4 storage, the matrices in the `h, w` axes and the batch in `n, c`: the four lanes of
 * a vec4 are four batch channels, so every invocation computes a 4 x 4 register tile of outputs for four
 * channels at once (an operand with one channel is splatted across the lanes). Each operand is addressed as
 * `base + row * rowStride + col * colStride` in vec4s, with the strides swapped for a transposed operand, so
 * `transA` / `transB` cost nothing. Padding lanes of the output (channels past `outC`) are written as 0.
 */
export const MATMUL_UNIFORMS = uniformBlock({
  total: 'u32',
  M: 'u32',
  N: 'u32',
  K: 'u32',
  tilesM: 'u32',
  tilesN: 'u32',
  outC: 'u32',
  outC4: 'u32',
  aN: 'u32',
  aC: 'u32',
  aBatch: 'u32',
  aRow: 'u32',
  aCol: 'u32',
  bN: 'u32',
  bC: 'u32',
  bBatch: 'u32',
  bRow: 'u32',
  bCol: 'u32',
  cN: 'u32',
  cC: 'u32',
  cH: 'u32',
  cW: 'u32',
  alpha: 'f32',
  beta: 'f32',
});

export function matMulBindings(bias: MatMulBiasMode): KernelBinding[] {
  return [
    { name: 'lhs', kind: 'read' },
    { name: 'rhs', kind: 'read' },
    ...(bias === 'none' ? [] : [{ name: 'bias', kind: 'read' } as const]),
    { name: 'dst', kind: 'write' },
    { name: 'params', kind: 'uniform' },
  ];
}

export function matMulProgram(bias: MatMulBiasMode, precision: StoragePrecision = 'f32'): KernelProgram {
  const bindings = matMulBindings(bias);
  const T = MATMUL_TILE;
  // Constants stay f32 at every storage precision (like biases elsewhere), with their own plain accessor.
  const elementTypes: Record<string, string> = bias === 'constant' ? { bias: 'array<vec4<f32>>' } : {};
  const constantAccessor = bias === 'constant' ? 'fn load_bias(i: u32) -> vec4<f32> { return bias[i]; }' : '';
  const biasTerm = bias === 'none' ? '' : `
      let bi = (((n % params.cN) * params.cH + m % params.cH) * params.cW + j % params.cW) * ((params.cC + 3u) / 4u) + select(c4, 0u, params.cC == 1u);
      var cv = load_bias(bi);
      if (params.cC == 1u) { cv = vec4<f32>(cv.x); }
      v += params.beta * cv;`;
  const code = wgsl`
${uniformStruct(MATMUL_UNIFORMS.fields)}
${bindingDecls(bindings, elementTypes, precision)}
${constantAccessor}

${entryPoint(WORKGROUP_SIZE)}
  if (flat >= params.total) { return; }
  let jt = flat % params.tilesN;
  var rest = flat / params.tilesN;
  let it = rest % params.tilesM;
  rest = rest / params.tilesM;
  let c4 = rest % params.outC4;
  let n = rest / params.outC4;
  let m0 = it * ${T}u;
  let j0 = jt * ${T}u;
  let aBase = (n % params.aN) * params.aBatch + select(c4, 0u, params.aC == 1u);
  let bBase = (n % params.bN) * params.bBatch + select(c4, 0u, params.bC == 1u);
  var acc: array<vec4<f32>, ${T * T}>;
  for (var k = 0u; k < params.K; k++) {
    var av: array<vec4<f32>, ${T}>;
    var bv: array<vec4<f32>, ${T}>;
    for (var i = 0u; i < ${T}u; i++) {
      // Rows / columns past the edge read the last one; their results are never stored.
      var a = load_lhs(aBase + min(m0 + i, params.M - 1u) * params.aRow + k * params.aCol);
      if (params.aC == 1u) { a = vec4<f32>(a.x); }
      av[i] = a;
      var b = load_rhs(bBase + k * params.bRow + min(j0 + i, params.N - 1u) * params.bCol);
      if (params.bC == 1u) { b = vec4<f32>(b.x); }
      bv[i] = b;
    }
    for (var i = 0u; i < ${T}u; i++) {
      for (var j = 0u; j < ${T}u; j++) {
        acc[i * ${T}u + j] += av[i] * bv[j];
      }
    }
  }
  let lane = vec4<u32>(c4 * 4u) + vec4<u32>(0u, 1u, 2u, 3u);
  for (var i = 0u; i < ${T}u; i++) {
    let m = m0 + i;
    if (m >= params.M) { break; }
    for (var jj = 0u; jj < ${T}u; jj++) {
      let j = j0 + jj;
      if (j >= params.N) { break; }
      var v = params.alpha * acc[i * ${T}u + jj];${biasTerm}
      store_dst(((n * params.M + m) * params.N + j) * params.outC4 + c4, select(vec4<f32>(0.0), v, lane < vec4<u32>(params.outC)));
    }
  }
}
`;
  return finishProgram({
    name: 'matmul',
    key: `matmul/${bias}`,
    code,
    bindings,
    uniforms: MATMUL_UNIFORMS.fields,
    workgroupSize: WORKGROUP_SIZE,
  }, precision);
}
