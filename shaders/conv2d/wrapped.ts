import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import type { KernelProgram, StoragePrecision } from '../common.ts';
import {
  ACTIVATION_UNIFORMS,
  CONV_ELEMENT_TYPES,
  WORKGROUP_SIZE,
  bindingDecls,
  convBindings,
  entryPoint,
  epilogueFunction, epilogueKey,
  finishProgram,
  uniformStruct,
  unroll,
  unroll2,
} from '../common.ts';
import { joinUniforms, uniformBlock } from '../uniforms.ts';
import { CONV2D_SIZES, CONV2D_WINDOW, conv2dTapSums, type Conv2dVariant } from './wgsl.ts';

/**
 * The conv2d kernel with its `pixelsPerThread` output pixels taken along the flattened map (n, y, x) instead of
 * along one row: a tile runs on into the next row, so no invocation computes columns past a row's end. The row
 * tile pads every row to a multiple of its width (8 on a 28-wide map computes 32 columns, on a 12-wide one 16),
 * and on SwiftShader the padded columns cost their loads and multiply-adds in full.
 *
 * Same weights, loop order and per-pixel multiply-adds as the row kernel (`wgsl.ts`, `conv2dTapSums`), so the
 * outputs are the same; the key starts `conv2d/wrap/`. Each pixel keeps its own input row; a tap is skipped
 * (`continue`) only where it lies outside the image for every pixel of the tile, which keeps dilated convs
 * (DeepLab's ASPP) from loading their empty taps. Uniforms: `pixels` (n * outH * outW), then the row kernel's.
 */
export const CONV2D_WRAPPED_UNIFORMS = joinUniforms(uniformBlock({ pixels: 'u32', ...CONV2D_SIZES, ...CONV2D_WINDOW }), ACTIVATION_UNIFORMS);

export function conv2dWrappedProgram(v: Conv2dVariant, precision: StoragePrecision = 'f32'): KernelProgram {
  const P = v.pixelsPerThread;
  const V = v.vec4sPerThread;
  const bindings = convBindings(v.residual);
  const anyOf = (name: string, field: string) => unroll(P, (p) => `${name}${p}${field}`).split('\n').join(' | ');
  const code = wgsl`
${uniformStruct(CONV2D_WRAPPED_UNIFORMS.fields)}
${bindingDecls(bindings, CONV_ELEMENT_TYPES, precision)}
const KH = ${v.kernelH}u;
const KW = ${v.kernelW}u;

${entryPoint(WORKGROUP_SIZE)}
  let coGroup = flat % params.coGroups;
  let firstPixel = (flat / params.coGroups) * ${P}u;
  if (firstPixel >= params.pixels) { return; }
  let firstCo = coGroup * ${V}u;
  let lastPixel = params.pixels - 1u;
  let lastCo = params.outC4 - 1u;
${unroll(P, (p) => `  let m${p} = min(firstPixel + ${p}u, lastPixel);
  let pixel${p} = pixelOf(m${p});`)}
${unroll(V, (c) => `  let co${c} = min(firstCo + ${c}u, lastCo);`)}
${unroll2(P, V, (p, c) => `  var acc${p}_${c} = vec4<f32>(0.0);`)}
  for (var ky = 0u; ky < KH; ky++) {
    for (var kx = 0u; kx < KW; kx++) {
${unroll(P, (p) => `      let tap${p} = tapOf(pixel${p}, ky, kx);`)}
      if (!(${anyOf('tap', '.inside')})) { continue; }
${conv2dTapSums(P, V, (p) => `tap${p}.base`, (p) => `tap${p}.inside`)}
    }
  }
${unroll(V, (c) => `  let b${c} = bias[co${c}];`)}
${unroll2(P, V, (p, c) => `  if ((firstPixel + ${p}u <= lastPixel) & (firstCo + ${c}u <= lastCo)) {
    let o = m${p} * params.outC4 + co${c};
    store_dst(o, epilogue(acc${p}_${c} + b${c}, o));
  }`)}
}

${epilogueFunction(v)}

struct Pixel {
  /** The pixel's first input row (image row offset included) and column, before padding, at tap (0, 0). */
  image: u32,
  iy: i32,
  ix: i32,
}

struct Tap {
  base: u32,
  inside: bool,
}

// Output pixel m's window origin, computed once per pixel (SwiftShader divides lane by lane).
fn pixelOf(m: u32) -> Pixel {
  let t = m / params.outW;
  let iy = i32((t % params.outH) * params.strideY) - params.padTop;
  let ix = i32((m % params.outW) * params.strideX) - params.padLeft;
  return Pixel((t / params.outH) * params.inH, iy, ix);
}

// The pixel's input vec4 index at tap (ky, kx), and whether the tap lies inside the image (else the load's
// clamped address is masked to zero). Non-short-circuit & throughout: each && or || is a branch to SwiftShader's
// compiler, which compiled 8 x 2 with them many times slower (docs/performance.md, the conv2d wrapped tile).
fn tapOf(p: Pixel, ky: u32, kx: u32) -> Tap {
  let iy = p.iy + i32(ky * params.dilationY);
  let ix = p.ix + i32(kx * params.dilationX);
  let lastY = i32(params.inH) - 1;
  let lastX = i32(params.inW) - 1;
  let row = p.image + u32(clamp(iy, 0, lastY));
  return Tap((row * params.inW + u32(clamp(ix, 0, lastX))) * params.inC4, (iy >= 0) & (iy <= lastY) & (ix >= 0) & (ix <= lastX));
}
`;
  return finishProgram({
    name: 'conv2d',
    key: `conv2d/wrap/k${v.kernelH}x${v.kernelW}/p${P}v${V}/${v.residual ? 'res' : 'nores'}/${epilogueKey(v)}`,
    code,
    bindings,
    uniforms: CONV2D_WRAPPED_UNIFORMS.fields,
    workgroupSize: WORKGROUP_SIZE,
  }, precision);
}
