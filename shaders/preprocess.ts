import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import type { KernelBinding, KernelProgram, UniformField } from './common.ts';
import { WORKGROUP_SIZE, bindingDecls, entryPoint, uniformStruct } from './common.ts';

/**
 * Image -> network input, on the GPU: crops a rectangle of an RGBA texture, resamples it to the network's
 * input size as PIL's `resize(BILINEAR)` and torchvision's `antialias=True` do (a triangle filter widened by
 * the downscale factor, so large frames are averaged, not aliased; its weights normalised over the source
 * pixels inside the image, so edges are not replicated; plain bilinear when upscaling), normalises
 * `(p - mean) / std` and writes NCHW f32. One output pixel per invocation; the oracle is
 * src/reference/preprocess.ts. Each invocation reads every source pixel its window covers, so a frame costs
 * about 4 x its pixel count in texture reads whatever the output size.
 */
export const PREPROCESS_UNIFORMS: readonly UniformField[] = [
  { name: 'outW', type: 'u32' },
  { name: 'outH', type: 'u32' },
  { name: 'srcW', type: 'i32' },
  { name: 'srcH', type: 'i32' },
  { name: 'cropX', type: 'f32' },
  { name: 'cropY', type: 'f32' },
  { name: 'scaleX', type: 'f32' },
  { name: 'scaleY', type: 'f32' },
  { name: 'supportX', type: 'f32' },
  { name: 'supportY', type: 'f32' },
  { name: 'mean0', type: 'f32' },
  { name: 'mean1', type: 'f32' },
  { name: 'mean2', type: 'f32' },
  { name: 'invStd0', type: 'f32' },
  { name: 'invStd1', type: 'f32' },
  { name: 'invStd2', type: 'f32' },
];

const BINDINGS: readonly KernelBinding[] = [
  { name: 'image', kind: 'read' },
  { name: 'dst', kind: 'write' },
  { name: 'params', kind: 'uniform' },
];

/**
 * @param external read a `texture_external` (a video frame imported with `importExternalTexture`, no copy)
 *   instead of an rgba8unorm `texture_2d`.
 */
export function preprocessProgram(external = false): KernelProgram {
  // Both bindings are declared as they are (no tensor accessors): the image's declaration is replaced by a texture.
  const decls = bindingDecls(BINDINGS, { image: 'array<f32>', dst: 'array<f32>' }).replace(
    /@group\(0\) @binding\(0\) var<storage, read> image: [^;]+;/,
    `@group(0) @binding(0) var image: ${external ? 'texture_external' : 'texture_2d<f32>'};`,
  );
  const code = wgsl`
${uniformStruct(PREPROCESS_UNIFORMS)}
${decls}

// The source pixels inside the image under the filter of one output pixel (center in pixel indices).
struct Taps { first: i32, last: i32, center: f32, support: f32 }

fn taps(outIndex: u32, crop: f32, scale: f32, support: f32, size: i32) -> Taps {
  let center = crop + (f32(outIndex) + 0.5) * scale - 0.5;
  let first = max(i32(ceil(center - support)), 0);
  let last = min(i32(floor(center + support)), size - 1);
  return Taps(first, last, center, support);
}

${entryPoint(WORKGROUP_SIZE)}
  if (flat >= params.outW * params.outH) { return; }
  let ox = flat % params.outW;
  let oy = flat / params.outW;
  let tx = taps(ox, params.cropX, params.scaleX, params.supportX, params.srcW);
  let ty = taps(oy, params.cropY, params.scaleY, params.supportY, params.srcH);
  var sum = vec3<f32>(0.0);
  var weightSum = 0.0;
  for (var y = ty.first; y <= ty.last; y++) {
    let wy = max(0.0, 1.0 - abs(f32(y) - ty.center) / ty.support);
    if (wy == 0.0) { continue; }
    for (var x = tx.first; x <= tx.last; x++) {
      let w = max(0.0, 1.0 - abs(f32(x) - tx.center) / tx.support) * wy;
      sum += w * ${external ? 'textureLoad(image, vec2<i32>(x, y))' : 'textureLoad(image, vec2<i32>(x, y), 0)'}.rgb;
      weightSum += w;
    }
  }
  let rgb = sum / max(weightSum, 1e-8);
  let plane = params.outW * params.outH;
  let o = oy * params.outW + ox;
  dst[o] = (rgb.r - params.mean0) * params.invStd0;
  dst[plane + o] = (rgb.g - params.mean1) * params.invStd1;
  dst[2u * plane + o] = (rgb.b - params.mean2) * params.invStd2;
}
`;
  return { name: 'preprocess', key: external ? 'preprocess/external-texture' : 'preprocess/rgba-texture', code, bindings: BINDINGS, uniforms: PREPROCESS_UNIFORMS, workgroupSize: WORKGROUP_SIZE };
}

export interface CropRect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** Uniform values for resampling `crop` of a `srcW x srcH` image to `outW x outH`. */
export function preprocessUniforms(
  srcW: number,
  srcH: number,
  crop: CropRect,
  outW: number,
  outH: number,
  mean: readonly [number, number, number],
  std: readonly [number, number, number],
): Record<string, number> {
  const scaleX = crop.width / outW;
  const scaleY = crop.height / outH;
  return {
    outW, outH, srcW, srcH,
    cropX: crop.x, cropY: crop.y, scaleX, scaleY,
    // Upsampling keeps the plain bilinear support of one source pixel.
    supportX: Math.max(1, scaleX), supportY: Math.max(1, scaleY),
    mean0: mean[0], mean1: mean[1], mean2: mean[2],
    invStd0: 1 / std[0], invStd1: 1 / std[1], invStd2: 1 / std[2],
  };
}
