import type { ActivationFunction } from '../../src/graph/activations/index.ts';
import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import type { KernelProgram, StoragePrecision } from '../common.ts';
import { joinUniforms, uniformBlock } from '../uniforms.ts';
import type { InputTransformVariant } from '../conv-input.ts';
import { INPUT_TRANSFORM_ELEMENT_TYPES, inputTransformApply, inputTransformBindings, inputTransformHoist, inputTransformKey } from '../conv-input.ts';
import {
  ACTIVATION_UNIFORMS,
  CONV_ELEMENT_TYPES,
  WORKGROUP_SIZE,
  allOf,
  bindingDecls,
  convBindings,
  entryPoint,
  epilogueFunction,
  epilogueKey,
  finishProgram,
  uniformStruct,
  unroll,
  unroll2,
} from '../common.ts';

/**
 * Pointwise (1x1) convolution as a register-blocked GEMM over NHWC4 activations:
 * `[pixels, inC] x [inC, outC]`, each invocation computing `pixelsPerThread` pixels x `vec4sPerThread` groups of
 * four output channels without workgroup memory. Also serves fully connected layers (pixels = batch).
 *
 * Weights are packed `[inC4][outC4][4]` vec4s: entry `(ci4, co4, k)` holds the weights from input channel
 * `4*ci4 + k` to output channels `4*co4 .. 4*co4+3`.
 */
export interface PointwiseVariant {
  readonly pixelsPerThread: number;
  readonly vec4sPerThread: number;
  /** Invocations per workgroup; absent: `WORKGROUP_SIZE`. */
  readonly workgroupSize?: number;
  /** Input pixels are read at `stride * (oy, ox)` (ResNet's strided 1x1 downsample). */
  readonly strided: boolean;
  readonly residual: boolean;
  readonly activation: boolean;
  /** A table activation function instead of the clamp (`EpilogueActivation`). */
  readonly fn?: ActivationFunction;
  /** A per-channel transform applied to each loaded input vec4 (shaders/conv-input.ts); absent: none. */
  readonly input?: InputTransformVariant;
}

export const POINTWISE_UNIFORMS = joinUniforms(uniformBlock({
  pixels: 'u32',
  inH: 'u32',
  inW: 'u32',
  inC4: 'u32',
  outH: 'u32',
  outW: 'u32',
  outC4: 'u32',
  strideY: 'u32',
  strideX: 'u32',
  coGroups: 'u32',
}), ACTIVATION_UNIFORMS);

export function pointwiseConvProgram(v: PointwiseVariant, precision: StoragePrecision = 'f32'): KernelProgram {
  const P = v.pixelsPerThread;
  const V = v.vec4sPerThread;
  const workgroupSize = v.workgroupSize ?? WORKGROUP_SIZE;
  const bindings = convBindings(v.residual, inputTransformBindings(v.input));
  const scaled = v.input?.kind === 'channelScale';
  // The transform's per-channel values are read once per input vec4, not once per pixel.
  const load = (p: number): string => {
    const x = `load_src(base${p} + ci4)`;
    return v.input ? inputTransformApply(v.input, x, `n${p}`) : x;
  };
  const code = wgsl`
${uniformStruct(POINTWISE_UNIFORMS.fields)}
${bindingDecls(bindings, { ...CONV_ELEMENT_TYPES, ...INPUT_TRANSFORM_ELEMENT_TYPES }, precision)}

${entryPoint(workgroupSize)}
  let coGroup = flat % params.coGroups;
  let firstPixel = (flat / params.coGroups) * ${P}u;
  if (firstPixel >= params.pixels) { return; }
  let firstCo = coGroup * ${V}u;
  let lastPixel = params.pixels - 1u;
  let lastCo = params.outC4 - 1u;
${unroll(P, (p) => `  let m${p} = min(firstPixel + ${p}u, lastPixel);`)}
#if ${v.strided}
${unroll(P, (p) => `  let base${p} = pixelBase(m${p});`)}
#else
${unroll(P, (p) => `  let base${p} = m${p} * params.inC4;`)}
#endif
${scaled ? `${unroll(P, (p) => `  let n${p} = m${p} / (params.outH * params.outW);`)}\n` : ''}${unroll(V, (c) => `  let co${c} = min(firstCo + ${c}u, lastCo);`)}
${unroll2(P, V, (p, c) => `  var acc${p}_${c} = vec4<f32>(0.0);`)}
  for (var ci4 = 0u; ci4 < params.inC4; ci4++) {
    let wRow = ci4 * params.outC4;${v.input ? ` ${inputTransformHoist(v.input)}` : ''}
${unroll(P, (p) => `    let x${p} = ${load(p)};`)}
${unroll(V, (c) => `    let w${c} = (wRow + co${c}) * 4u;
    let w${c}a = load_weight(w${c}); let w${c}b = load_weight(w${c} + 1u); let w${c}c = load_weight(w${c} + 2u); let w${c}d = load_weight(w${c} + 3u);`)}
${unroll2(P, V, (p, c) => `    acc${p}_${c} = fma(vec4<f32>(x${p}.x), w${c}a, fma(vec4<f32>(x${p}.y), w${c}b, fma(vec4<f32>(x${p}.z), w${c}c, fma(vec4<f32>(x${p}.w), w${c}d, acc${p}_${c}))));`)}
  }
${unroll(V, (c) => `  let b${c} = bias[co${c}];`)}
${unroll2(P, V, (p, c) => `  if (${allOf(`firstPixel + ${p}u <= lastPixel`, `firstCo + ${c}u <= lastCo`)}) {
    let o = m${p} * params.outC4 + co${c};
    store_dst(o, epilogue(acc${p}_${c} + b${c}, o));
  }`)}
}

${epilogueFunction(v)}

#if ${v.strided}
fn pixelBase(m: u32) -> u32 {
  let ox = m % params.outW;
  let t = m / params.outW;
  let oy = t % params.outH;
  let n = t / params.outH;
  return ((n * params.inH + oy * params.strideY) * params.inW + ox * params.strideX) * params.inC4;
}
#endif
`;
  return finishProgram({
    name: 'pointwise',
    key: `pointwise/p${P}v${V}${workgroupSize === WORKGROUP_SIZE ? '' : `w${workgroupSize}`}/${v.strided ? 's' : '1'}/${v.residual ? 'res' : 'nores'}/${epilogueKey(v)}${inputTransformKey(v.input)}`,
    code,
    bindings,
    uniforms: POINTWISE_UNIFORMS.fields,
    workgroupSize,
  }, precision);
}
