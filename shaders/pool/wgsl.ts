import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import type { KernelProgram, StoragePrecision } from '../common.ts';
import { SRC_DST_BINDINGS, WORKGROUP_SIZE, anyOf, bindingDecls, entryPoint, finishProgram, nhwc4Coordinates, uniformStruct } from '../common.ts';
import { uniformBlock } from '../uniforms.ts';

/** Max and average pooling over NHWC4, one output vec4 of channels per invocation. */
export type PoolKind = 'max' | 'avg';

export const POOL_UNIFORMS = uniformBlock({
  total: 'u32',
  inH: 'u32',
  inW: 'u32',
  C4: 'u32',
  outH: 'u32',
  outW: 'u32',
  kernelH: 'u32',
  kernelW: 'u32',
  strideY: 'u32',
  strideX: 'u32',
  dilationY: 'u32',
  dilationX: 'u32',
  padTop: 'i32',
  padLeft: 'i32',
  // Average pool only: the padded extent that counts in the divisor when padding is included.
  paddedH: 'i32',
  paddedW: 'i32',
  countIncludePad: 'u32',
});

export function poolProgram(kind: PoolKind, precision: StoragePrecision = 'f32'): KernelProgram {
  const isMax = kind === 'max';
  const code = wgsl`
${uniformStruct(POOL_UNIFORMS.fields)}
${bindingDecls(SRC_DST_BINDINGS, {}, precision)}

${entryPoint(WORKGROUP_SIZE)}
${nhwc4Coordinates({ c4: 'C4', w: 'outW', h: 'outH' }, { x: 'ox', y: 'oy' })}
  let y0 = i32(oy * params.strideY) - params.padTop;
  let x0 = i32(ox * params.strideX) - params.padLeft;
#if ${isMax}
  var acc = vec4<f32>(-3.4028234663852886e38);
#else
  var acc = vec4<f32>(0.0);
  var count = 0u;
#endif
  for (var ky = 0u; ky < params.kernelH; ky++) {
    let iy = y0 + i32(ky * params.dilationY);
    if (${anyOf('iy < 0', 'iy >= i32(params.inH)')}) { continue; }
    for (var kx = 0u; kx < params.kernelW; kx++) {
      let ix = x0 + i32(kx * params.dilationX);
      if (${anyOf('ix < 0', 'ix >= i32(params.inW)')}) { continue; }
      let v = load_src(((n * params.inH + u32(iy)) * params.inW + u32(ix)) * params.C4 + c4);
#if ${isMax}
      acc = max(acc, v);
#else
      acc += v;
      count++;
#endif
    }
  }
#if ${isMax}
  store_dst(flat, acc);
#else
  if (params.countIncludePad != 0u) {
    // Window clipped to the padded input, as PyTorch and ONNX count it.
    let h = min(y0 + i32(params.kernelH), params.paddedH - params.padTop) - max(y0, -params.padTop);
    let w = min(x0 + i32(params.kernelW), params.paddedW - params.padLeft) - max(x0, -params.padLeft);
    count = u32(max(h * w, 1));
  }
  store_dst(flat, acc / f32(max(count, 1u)));
#endif
}
`;
  return finishProgram({ name: `${kind}Pool`, key: `pool/${kind}`, code, bindings: SRC_DST_BINDINGS, uniforms: POOL_UNIFORMS.fields, workgroupSize: WORKGROUP_SIZE }, precision);
}

export const GLOBAL_AVG_POOL_UNIFORMS = uniformBlock({
  total: 'u32',
  C4: 'u32',
  spatial: 'u32',
});

/** Global average pool: one invocation per (image, channel vec4), summing the whole map. */
/**
 * `mean_src(i)`: the mean of input vec4 `i` and the `spatial - 1` vec4s that follow it `params.<stride>` apart
 * (one channel vec4 at every position of an NHWC4 map), summed in position order. The global pool kernel and the
 * fused pool + FC heads (linear/wgsl.ts) share it, so a fused head reads exactly the pooled values the separate pool
 * kernel would have stored (at f32).
 */
export function meanSrcFunction(stride: 'C4' | 'inC4'): string {
  return `fn mean_src(i: u32) -> vec4<f32> {
  var acc = vec4<f32>(0.0);
  var s = 0u;
  while (s + 4u <= params.spatial) {
    let j = i + s * params.${stride};
    let a = load_src(j);
    let b = load_src(j + params.${stride});
    let c = load_src(j + 2u * params.${stride});
    let d = load_src(j + 3u * params.${stride});
    acc = (((acc + a) + b) + c) + d;
    s += 4u;
  }
  while (s < params.spatial) {
    acc += load_src(i + s * params.${stride});
    s++;
  }
  return acc / f32(params.spatial);
}`;
}

export function globalAvgPoolProgram(precision: StoragePrecision = 'f32'): KernelProgram {
  const code = wgsl`
${uniformStruct(GLOBAL_AVG_POOL_UNIFORMS.fields)}
${bindingDecls(SRC_DST_BINDINGS, {}, precision)}

${entryPoint(WORKGROUP_SIZE)}
  if (flat >= params.total) { return; }
  let c4 = flat % params.C4;
  let n = flat / params.C4;
  store_dst(flat, mean_src(n * params.spatial * params.C4 + c4));
}

${meanSrcFunction('C4')}
`;
  return finishProgram({
    name: 'globalAvgPool',
    key: 'pool/global-avg',
    code,
    bindings: SRC_DST_BINDINGS,
    uniforms: GLOBAL_AVG_POOL_UNIFORMS.fields,
    workgroupSize: WORKGROUP_SIZE,
  }, precision);
}
