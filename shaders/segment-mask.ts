import type { KernelBinding, KernelProgram } from './common.ts';
import { entryPoint, uniformStruct } from './common.ts';
import type { CropRect } from './preprocess.ts';
import { uniformBlock } from './uniforms.ts';

/**
 * A segmentation model's output -> a class mask at the source image's size, on the GPU. Each destination pixel
 * maps back into the model's output through the crop the preprocessing took (half-pixel centres, as PyTorch's
 * `interpolate(align_corners=False)`; coordinates past the edges are clamped to them). From a score map
 * `[1, C, H, W]` it interpolates every class's score bilinearly and takes the arg max (the first largest class
 * wins, as `torch.argmax`); from a class map (an arg max inside the model, indices stored as f32) it takes the
 * nearest pixel. Each workgroup also counts its pixels per class in workgroup memory and adds the counts to
 * `counts` (cleared before the pass), so a caller learns which classes are present without reading the mask.
 * The oracle is src/reference/segment-mask.ts.
 */
export const SEGMENT_MASK_UNIFORMS = uniformBlock({
  dstW: 'u32',
  dstH: 'u32',
  srcW: 'i32',
  srcH: 'i32',
  classes: 'u32',
  offsetX: 'f32',
  offsetY: 'f32',
  scaleX: 'f32',
  scaleY: 'f32',
});

export const SEGMENT_MASK_BINDINGS: readonly KernelBinding[] = [
  { name: 'src', kind: 'read' },
  { name: 'mask', kind: 'write' },
  { name: 'counts', kind: 'write' },
  { name: 'params', kind: 'uniform' },
];

/** Invocations per workgroup, one pixel each; also the size of the workgroup's histogram. */
export const SEGMENT_MASK_WORKGROUP = 256;

/** `input: 'scores'` for a score map, `'mask'` for a class map. */
export function segmentMaskProgram(input: 'scores' | 'mask'): KernelProgram {
  const pick = input === 'scores'
    ? `
  let u = clamp((f32(x) + 0.5 - params.offsetX) * params.scaleX - 0.5, 0.0, f32(params.srcW - 1));
  let v = clamp((f32(y) + 0.5 - params.offsetY) * params.scaleY - 0.5, 0.0, f32(params.srcH - 1));
  let x0 = i32(floor(u));
  let y0 = i32(floor(v));
  let x1 = min(x0 + 1, params.srcW - 1);
  let y1 = min(y0 + 1, params.srcH - 1);
  let lx = u - f32(x0);
  let ly = v - f32(y0);
  let plane = u32(params.srcW * params.srcH);
  let i00 = u32(y0 * params.srcW + x0);
  let i01 = u32(y0 * params.srcW + x1);
  let i10 = u32(y1 * params.srcW + x0);
  let i11 = u32(y1 * params.srcW + x1);
  var best = -3.4e38;
  var label = 0u;
  for (var c = 0u; c < params.classes; c++) {
    let base = c * plane;
    let top = (1.0 - lx) * src[base + i00] + lx * src[base + i01];
    let bottom = (1.0 - lx) * src[base + i10] + lx * src[base + i11];
    let score = (1.0 - ly) * top + ly * bottom;
    // NaN never wins; the first largest class does.
    if (score > best || c == 0u) {
      best = score;
      label = c;
    }
  }`
    : `
  let sx = clamp(i32(floor((f32(x) + 0.5 - params.offsetX) * params.scaleX)), 0, params.srcW - 1);
  let sy = clamp(i32(floor((f32(y) + 0.5 - params.offsetY) * params.scaleY)), 0, params.srcH - 1);
  let label = u32(max(src[u32(sy * params.srcW + sx)], 0.0));`;
  const code = `
${uniformStruct(SEGMENT_MASK_UNIFORMS.fields)}
@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> mask: array<u32>;
@group(0) @binding(2) var<storage, read_write> counts: array<atomic<u32>>;
@group(0) @binding(3) var<uniform> params: Params;

var<workgroup> local: array<atomic<u32>, ${SEGMENT_MASK_WORKGROUP}>;

fn classify(x: u32, y: u32) -> u32 {${pick}
  return label;
}

${entryPoint(SEGMENT_MASK_WORKGROUP)}
  // No early return: every invocation must reach the barrier.
  if (flat < params.dstW * params.dstH) {
    let label = classify(flat % params.dstW, flat / params.dstW);
    mask[flat] = label;
    if (label < ${SEGMENT_MASK_WORKGROUP}u) {
      atomicAdd(&local[label], 1u);
    } else if (label < params.classes) {
      atomicAdd(&counts[label], 1u);
    }
  }
  workgroupBarrier();
  let n = atomicLoad(&local[li]);
  if (n != 0u && li < params.classes) {
    atomicAdd(&counts[li], n);
  }
}
`;
  return {
    name: 'segment-mask',
    key: `segment-mask/${input}`,
    code,
    bindings: SEGMENT_MASK_BINDINGS,
    uniforms: SEGMENT_MASK_UNIFORMS.fields,
    workgroupSize: SEGMENT_MASK_WORKGROUP,
  };
}

/**
 * Uniform values mapping a `dstW x dstH` source image, of which `crop` was resized to the model's input, onto a
 * `srcW x srcH` model output of `classes` classes.
 */
export function segmentMaskUniforms(dstW: number, dstH: number, crop: CropRect, srcW: number, srcH: number, classes: number): Record<string, number> {
  return {
    dstW, dstH, srcW, srcH, classes,
    offsetX: crop.x, offsetY: crop.y,
    scaleX: srcW / crop.width, scaleY: srcH / crop.height,
  };
}
