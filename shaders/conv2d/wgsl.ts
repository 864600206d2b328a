import type { ActivationFunction } from '../../src/graph/activations/index.ts';
import type { KernelProgram, StoragePrecision } from '../common.ts';
import { joinUniforms, uniformBlock } from '../uniforms.ts';
import { ACTIVATION_UNIFORMS, anyOf, columnInRow, epilogueKey, unroll, unroll2 } from '../common.ts';
import { denseTileProgram } from '../dense-tile.ts';

/**
 * Dense KxK convolution (groups = 1) as a direct implicit GEMM over NHWC4: each invocation computes
 * `pixelsPerThread` neighbouring output columns x `vec4sPerThread` groups of four output channels, looping over
 * taps and input-channel vec4s. Out-of-image taps load a clamped address and are masked to zero (the bounds
 * check doubles as zero padding). Serves the 3x3 convs, the 7x7 stem and the 3-channel MobileNetV2 stem
 * (input padded to 4 channels).
 *
 * Weights are packed `[kh][kw][inC4][outC4][4]` vec4s: entry `(ky, kx, ci4, co4, k)` holds the weights from
 * input channel `4*ci4 + k` to output channels `4*co4 .. 4*co4+3`.
 */
export interface Conv2dVariant {
  readonly kernelH: number;
  readonly kernelW: number;
  readonly pixelsPerThread: number;
  readonly vec4sPerThread: number;
  readonly residual: boolean;
  readonly activation: boolean;
  /** A table activation function instead of the clamp (`EpilogueActivation`). */
  readonly fn?: ActivationFunction;
}

/** The uniforms the row and wrapped kernels share, in two runs (each kernel's own fields go before or between). */
export const CONV2D_SIZES = { inH: 'u32', inW: 'u32', inC4: 'u32', outH: 'u32', outW: 'u32', outC4: 'u32' } as const;
export const CONV2D_WINDOW = {
  coGroups: 'u32', strideY: 'u32', strideX: 'u32', dilationY: 'u32', dilationX: 'u32', padTop: 'i32', padLeft: 'i32',
} as const;

export const CONV2D_UNIFORMS = joinUniforms(uniformBlock({ total: 'u32', ...CONV2D_SIZES, oxGroups: 'u32', ...CONV2D_WINDOW }), ACTIVATION_UNIFORMS);

export function conv2dProgram(v: Conv2dVariant, precision: StoragePrecision = 'f32'): KernelProgram {
  const P = v.pixelsPerThread;
  const V = v.vec4sPerThread;
  return denseTileProgram({
    name: 'conv2d',
    key: `conv2d/k${v.kernelH}x${v.kernelW}/p${P}v${V}/${v.residual ? 'res' : 'nores'}/${epilogueKey(v)}`,
    uniforms: CONV2D_UNIFORMS.fields,
    variant: v,
    pixelsPerThread: P,
    vec4sPerThread: V,
    constants: `const KH = ${v.kernelH}u;
const KW = ${v.kernelW}u;`,
    body: `  for (var ky = 0u; ky < KH; ky++) {
    let iy = i32(oy * params.strideY + ky * params.dilationY) - params.padTop;
    if (${anyOf('iy < 0', 'iy >= i32(params.inH)')}) { continue; }
    let rowBase = (n * params.inH + u32(iy)) * params.inW;
    for (var kx = 0u; kx < KW; kx++) {
      let ixBase = i32(kx * params.dilationX) - params.padLeft;
${unroll(P, (p) => `      let ix${p} = i32((ox0 + ${p}u) * params.strideX) + ixBase;
      let inside${p} = ${columnInRow(`ix${p}`)};
      let base${p} = (rowBase + u32(clamp(ix${p}, 0, lastX))) * params.inC4;`)}
${conv2dTapSums(P, V, (p) => `base${p}`, (p) => `inside${p}`)}
    }
  }`,
  }, precision);
}

/**
 * The multiply-adds of tap (`ky`, `kx`) into `acc<p>_<c>`, inside the kernel's tap loops: per input vec4 `ci4`,
 * pixel p's input at `base(p) + ci4` (zero where `inside(p)` is false) times `V` output vec4s' weights. The row
 * and wrapped kernels (`wrapped.ts`) both run it, so their outputs are the same.
 */
export function conv2dTapSums(P: number, V: number, base: (p: number) => string, inside: (p: number) => string): string {
  return `      let tapRow = (ky * KW + kx) * params.inC4;
      for (var ci4 = 0u; ci4 < params.inC4; ci4++) {
        let wRow = (tapRow + ci4) * params.outC4;
${unroll(P, (p) => `        let x${p} = select(vec4<f32>(0.0), load_src(${base(p)} + ci4), ${inside(p)});`)}
${unroll(V, (c) => `        let w${c} = (wRow + co${c}) * 4u;
        let w${c}a = load_weight(w${c}); let w${c}b = load_weight(w${c} + 1u); let w${c}c = load_weight(w${c} + 2u); let w${c}d = load_weight(w${c} + 3u);`)}
${unroll2(P, V, (p, c) => `        acc${p}_${c} = fma(vec4<f32>(x${p}.x), w${c}a, fma(vec4<f32>(x${p}.y), w${c}b, fma(vec4<f32>(x${p}.z), w${c}c, fma(vec4<f32>(x${p}.w), w${c}d, acc${p}_${c}))));`)}
      }`;
}
