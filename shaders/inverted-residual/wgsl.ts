import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import type { EpilogueActivation, KernelBinding, KernelProgram, StoragePrecision } from '../common.ts';
import { ACTIVATION_UNIFORMS, bindingDecls, epilogueFunction, epilogueKey, finishProgram, uniformStruct, unroll } from '../common.ts';
import { activationFunctionWgsl } from '../../src/graph/activations/index.ts';
import { joinUniforms, uniformBlock } from '../uniforms.ts';

/**
 * One inverted-residual block in one launch (issue #18): expand 1x1 + activation, depthwise KxK + activation,
 * project 1x1 (+ residual) + activation. A workgroup of 64 invocations owns a `tileH x tileW` tile of output
 * pixels and every output channel. It walks the expanded (hidden) channels `chunk` vec4s at a time:
 * 1. the expand 1x1 of the tile's input window (the tile plus the depthwise halo) into workgroup memory `hid`
 *    (zero outside the image: the depthwise pads the activated hidden map);
 * 2. the depthwise taps for the tile's pixels into workgroup memory `mid`;
 * 3. the project 1x1 partial sums in registers, each invocation owning `pixelsPerItem` pixels x one output vec4.
 * The hidden map is never written to global memory; the price is the expand recomputed on halo pixels that
 * neighbouring tiles share. Without `expand` (MobileNetV2's first block) step 1 only copies the input.
 *
 * Weights: expand and project in the pointwise layout (`[inC4][outC4][4]` vec4s), depthwise `[kh][kw][C4]`;
 * the three biases in one f32 buffer `[expand hidC4 | depthwise hidC4 | project outC4]` vec4s (eight storage
 * bindings is WebGPU's default limit per stage).
 */
export interface InvertedResidualVariant {
  readonly tileH: number;
  readonly tileW: number;
  /** Hidden vec4s per step of the channel walk. */
  readonly chunk: number;
  readonly kernelH: number;
  readonly kernelW: number;
  readonly strideY: number;
  readonly strideX: number;
  /** Output vec4s of the project conv (the register tile is laid out for them). */
  readonly outC4: number;
  readonly expand: boolean;
  readonly residual: boolean;
  /** The project conv's epilogue activation (uniforms `actMin`, `actMax`). */
  readonly activation: boolean;
  readonly fn?: EpilogueActivation['fn'];
  /** The expand conv's activation (uniforms `expandMin`, `expandMax`). */
  readonly expandAct: EpilogueActivation;
  /** The depthwise conv's activation (uniforms `dwMin`, `dwMax`). */
  readonly depthwiseAct: EpilogueActivation;
  /**
   * A block with squeeze-and-excitation runs as three launches (index.ts): `squeeze` stops after the depthwise
   * and writes each tile's per-channel sums of the depthwise output (f32 `partial`, `[tile][hidC4]` vec4s);
   * `excite` recomputes expand and depthwise, multiplies the depthwise output by the gate (`scale`,
   * `[n][hidC4]`) and projects. Absent: a block without one.
   */
  readonly se?: 'squeeze' | 'excite';
}

export const INVERTED_RESIDUAL_UNIFORMS = joinUniforms(uniformBlock({
  tiles: 'u32',
  tilesX: 'u32',
  tilesY: 'u32',
  inH: 'u32',
  inW: 'u32',
  inC4: 'u32',
  hidC4: 'u32',
  outH: 'u32',
  outW: 'u32',
  outC4: 'u32',
  padTop: 'i32',
  padLeft: 'i32',
  expandMin: 'f32',
  expandMax: 'f32',
  dwMin: 'f32',
  dwMax: 'f32',
}), ACTIVATION_UNIFORMS);

const WG = 64;
/** WebGPU's default `maxComputeWorkgroupStorageSize`. */
export const WORKGROUP_BYTES = 16384;

/** The input window a tile reads, in input pixels. */
export function inputWindow(v: Pick<InvertedResidualVariant, 'tileH' | 'tileW' | 'kernelH' | 'kernelW' | 'strideY' | 'strideX'>): [number, number] {
  return [(v.tileH - 1) * v.strideY + v.kernelH, (v.tileW - 1) * v.strideX + v.kernelW];
}

/** Workgroup memory of a variant: the hidden window and the depthwise results, `chunk` vec4s per pixel. */
export function workgroupBytes(v: Pick<InvertedResidualVariant, 'tileH' | 'tileW' | 'kernelH' | 'kernelW' | 'strideY' | 'strideX' | 'chunk'>): number {
  const [ih, iw] = inputWindow(v);
  return (ih * iw + v.tileH * v.tileW) * v.chunk * 16;
}

/**
 * How the project's register tile is spread: each invocation owns `pixelsPerItem` tile pixels x one output vec4
 * per item, and `rounds` items. Few output channels give each item fewer pixels, so most invocations work.
 */
export function projectItems(tilePixels: number, outC4: number): { pixelsPerItem: number; items: number; rounds: number } {
  let pixelsPerItem = 1;
  while (pixelsPerItem < tilePixels && tilePixels % (pixelsPerItem * 2) === 0 && outC4 * (tilePixels / pixelsPerItem) > WG) pixelsPerItem *= 2;
  const items = outC4 * (tilePixels / pixelsPerItem);
  return { pixelsPerItem, items, rounds: Math.ceil(items / WG) };
}

/** WGSL applying an activation whose clamp bounds are the uniforms `lo`, `hi` to the vec4 variable `v`. */
function activationStatement(a: EpilogueActivation, v: string, lo: string, hi: string): string {
  if (a.fn) return `${v} = ${activationFunctionWgsl(a.fn, v)};`;
  return a.activation ? `${v} = clamp(${v}, vec4<f32>(params.${lo}), vec4<f32>(params.${hi}));` : '';
}

/** Without expansion there is no expand weight to bind (an unused binding is not in the pipeline's layout). */
export function invertedResidualBindings(residual: boolean, expand: boolean, se?: 'squeeze' | 'excite'): KernelBinding[] {
  const head: KernelBinding[] = [
    { name: 'src', kind: 'read' },
    ...(expand ? [{ name: 'expandWeight', kind: 'read' } as const] : []),
    { name: 'depthwiseWeight', kind: 'read' },
  ];
  if (se === 'squeeze') return [...head, { name: 'bias', kind: 'read' }, { name: 'partial', kind: 'write' }, { name: 'params', kind: 'uniform' }];
  return [
    ...head,
    { name: 'projectWeight', kind: 'read' },
    { name: 'bias', kind: 'read' },
    ...(residual ? [{ name: 'residual', kind: 'read' } as const] : []),
    ...(se === 'excite' ? [{ name: 'scale', kind: 'read' } as const] : []),
    { name: 'dst', kind: 'write' },
    { name: 'params', kind: 'uniform' },
  ];
}

/** The squeeze launch's tail per channel step: the tile's sums of the depthwise output over its in-map pixels. */
function squeezeSums(v: InvertedResidualVariant): string {
  return `    if (li < E) {
      var s = vec4<f32>(0.0);
${unroll(v.tileH * v.tileW, (p) => `      if (oy0 + ${Math.floor(p / v.tileW)}u < params.outH && ox0 + ${p % v.tileW}u < params.outW) { s += mid[${p}u * E + li]; }`)}
      if (live && e0 + li < params.hidC4) { partial[tile * params.hidC4 + e0 + li] = s; }
    }
    workgroupBarrier();`;
}

export function invertedResidualProgram(v: InvertedResidualVariant, precision: StoragePrecision = 'f32'): KernelProgram {
  const E = v.chunk;
  const TP = v.tileH * v.tileW;
  const [IH, IW] = inputWindow(v);
  const { pixelsPerItem: PP, items, rounds: R } = projectItems(TP, v.outC4);
  const bindings = invertedResidualBindings(v.residual, v.expand, v.se);
  const squeeze = v.se === 'squeeze';
  const projectTail = (code: string) => (squeeze ? '' : code);
  const expandBody = v.expand
    ? `        var a = bias[ec];
        for (var ci4 = 0u; ci4 < params.inC4; ci4++) {
          let x = load_src(base + ci4);
          let w = (ci4 * params.hidC4 + ec) * 4u;
          a = fma(vec4<f32>(x.x), load_expandWeight(w), fma(vec4<f32>(x.y), load_expandWeight(w + 1u),
              fma(vec4<f32>(x.z), load_expandWeight(w + 2u), fma(vec4<f32>(x.w), load_expandWeight(w + 3u), a))));
        }
        ${activationStatement(v.expandAct, 'a', 'expandMin', 'expandMax')}
        h = a;`
    : '        h = load_src(base + ec);';
  const taps = unroll(v.kernelH, (ky) =>
    unroll(v.kernelW, (kx) => `    a = fma(hid[((py * ${v.strideY}u + ${ky}u) * ${IW}u + px * ${v.strideX}u + ${kx}u) * E + e], load_depthwiseWeight(${ky * v.kernelW + kx}u * params.hidC4 + ec), a);`),
  );
  const code = wgsl`
${uniformStruct(INVERTED_RESIDUAL_UNIFORMS.fields)}
${bindingDecls(bindings, { bias: 'array<vec4<f32>>', ...(squeeze ? { partial: 'array<vec4<f32>>' } : {}) }, precision)}
const E = ${E}u;
var<workgroup> hid: array<vec4<f32>, ${IH * IW * E}>;
var<workgroup> mid: array<vec4<f32>, ${TP * E}>;

@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
  // Uniform per workgroup: every invocation reaches every barrier, so nothing returns early.
  let tile = wg.y * nwg.x + wg.x;
  let live = tile < params.tiles;
  let tx = tile % params.tilesX;
  let ty = (tile / params.tilesX) % params.tilesY;
  let n = tile / (params.tilesX * params.tilesY);
  let oy0 = ty * ${v.tileH}u;
  let ox0 = tx * ${v.tileW}u;
  let iy0 = i32(oy0 * ${v.strideY}u) - params.padTop;
  let ix0 = i32(ox0 * ${v.strideX}u) - params.padLeft;
${projectTail(`  let lastOc = params.outC4 - 1u;
${unroll(R, (r) => `  let item${r} = li + ${r * WG}u;
  let valid${r} = item${r} < ${items}u;
  let oc${r} = min(item${r} % params.outC4, lastOc);
  let pg${r} = min(item${r} / params.outC4, ${TP / PP - 1}u) * ${PP}u;
${unroll(PP, (p) => `  var acc${r}_${p} = vec4<f32>(0.0);`)}`)}`)}
  for (var e0 = 0u; e0 < params.hidC4; e0 += E) {
    for (var j = li; j < ${IH * IW}u * E; j += ${WG}u) {
      let e = j % E;
      let q = j / E;
      let iy = iy0 + i32(q / ${IW}u);
      let ix = ix0 + i32(q % ${IW}u);
      let ec = e0 + e;
      var h = vec4<f32>(0.0);
      if (live && ec < params.hidC4 && iy >= 0 && iy < i32(params.inH) && ix >= 0 && ix < i32(params.inW)) {
        let base = ((n * params.inH + u32(iy)) * params.inW + u32(ix)) * params.inC4;
${expandBody}
      }
      hid[j] = h;
    }
    workgroupBarrier();
    for (var j = li; j < ${TP}u * E; j += ${WG}u) {
      let e = j % E;
      let p = j / E;
      let py = p / ${v.tileW}u;
      let px = p % ${v.tileW}u;
      let ec = min(e0 + e, params.hidC4 - 1u);
      var a = bias[params.hidC4 + ec];
${taps}
    ${activationStatement(v.depthwiseAct, 'a', 'dwMin', 'dwMax')}
${v.se === 'excite' ? `      // A tile past the last has no image n to read a gate for (and stores nothing).
      if (live) { a *= load_scale(n * params.hidC4 + ec); }` : ''}
      mid[j] = a;
    }
    workgroupBarrier();
${squeeze ? squeezeSums(v) : `    let eCount = min(E, params.hidC4 - e0);
${unroll(R, (r) => `    if (valid${r}) {
      for (var e = 0u; e < eCount; e++) {
        let w = ((e0 + e) * params.outC4 + oc${r}) * 4u;
        let wx = load_projectWeight(w);
        let wy = load_projectWeight(w + 1u);
        let wz = load_projectWeight(w + 2u);
        let ww = load_projectWeight(w + 3u);
${unroll(PP, (p) => `        let m${p} = mid[(pg${r} + ${p}u) * E + e];
        acc${r}_${p} = fma(vec4<f32>(m${p}.x), wx, fma(vec4<f32>(m${p}.y), wy, fma(vec4<f32>(m${p}.z), wz, fma(vec4<f32>(m${p}.w), ww, acc${r}_${p}))));`)}
      }
    }`)}
    workgroupBarrier();`}
  }
${projectTail(`  if (!live) { return; }
${unroll(R, (r) => `  if (valid${r}) {
    let b = bias[2u * params.hidC4 + oc${r}];
${unroll(PP, (p) => `    {
      let oy = oy0 + (pg${r} + ${p}u) / ${v.tileW}u;
      let ox = ox0 + (pg${r} + ${p}u) % ${v.tileW}u;
      if (oy < params.outH && ox < params.outW) {
        let o = ((n * params.outH + oy) * params.outW + ox) * params.outC4 + oc${r};
        store_dst(o, epilogue(acc${r}_${p} + b, o));
      }
    }`)}
  }`)}`)}
}

${squeeze ? '' : epilogueFunction(v)}
`;
  const act = (a: EpilogueActivation) => epilogueKey(a).replace(/\//g, ':');
  return finishProgram({
    name: 'inverted-residual',
    key: `inverted-residual/t${v.tileH}x${v.tileW}/e${E}/k${v.kernelH}x${v.kernelW}/s${v.strideY}x${v.strideX}/o${v.outC4}`
      + `/${v.expand ? `x-${act(v.expandAct)}` : 'nox'}/dw-${act(v.depthwiseAct)}/${v.residual ? 'res' : 'nores'}/${epilogueKey(v)}`
      + (v.se ? `/se-${v.se}` : ''),
    code,
    bindings,
    uniforms: INVERTED_RESIDUAL_UNIFORMS.fields,
    workgroupSize: WG,
  }, precision);
}
