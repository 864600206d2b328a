import type { Conv2dNode } from '../src/graph/ir.ts';
import type { KernelProgram, StoragePrecision, UniformField } from './common.ts';
import {
  CONV_ELEMENT_TYPES,
  WORKGROUP_SIZE,
  allOf,
  bindingDecls,
  ceilDiv,
  convBindings,
  entryPoint,
  epilogueFunction,
  finishProgram,
  nhwc4Coordinates,
  uniformStruct,
  unroll,
  unroll2,
} from './common.ts';
import { c4, convBuffers, convFigures, denseWeights } from './conv-common.ts';
import type { Launch, NodeView } from './family.ts';
import type { EpilogueActivation } from './common.ts';
import type { CheckedUniforms } from './uniforms.ts';

/**
 * What the dense register-tile kernels (conv2d, the RGB stem, grouped) share: an invocation owns `P` neighbouring
 * output columns of one output row x `V` output vec4s, found from `flat` with the output vec4 groups fastest; its
 * accumulators `acc<p>_<c>` are added to the bias and stored through `epilogue` at the end. The families differ
 * only in how they fill the accumulators (`body`).
 */
export interface DenseTileSource {
  readonly name: string;
  readonly key: string;
  readonly uniforms: readonly UniformField[];
  readonly variant: { readonly residual: boolean } & EpilogueActivation;
  readonly pixelsPerThread: number;
  readonly vec4sPerThread: number;
  /** Module-scope constants (`const KH = ...`). */
  readonly constants: string;
  /** Lines after the invocation's place (`n`, `oy`, `ox0`, `firstCo`, `lastCo`, `lastX`), before `co<c>`. */
  readonly placed?: string;
  /** The loops that fill `acc<p>_<c>`. */
  readonly body: string;
  /** The body declares, adds the bias `b<c>` to and stores its own accumulators (no `acc<p>_<c>`). */
  readonly ownAccumulators?: boolean;
  /**
   * The launch's `vec4sPerThread` divides the output vec4s (the grouped family's), so no invocation's vec4s run
   * past the last: no `lastCo`, no clamped `co<c>`; bias and stores index `firstCo + c` without a channel check.
   */
  readonly exactVec4Groups?: boolean;
}

export function denseTileProgram(s: DenseTileSource, precision: StoragePrecision): KernelProgram {
  const P = s.pixelsPerThread;
  const V = s.vec4sPerThread;
  const bindings = convBindings(s.variant.residual);
  const exact = s.exactVec4Groups === true;
  const co = (c: number) => (exact ? `firstCo + ${c}u` : `co${c}`);
  const inTile = (p: number, c: number) => allOf(`ox0 + ${p}u < params.outW`, ...(exact ? [] : [`firstCo + ${c}u <= lastCo`]));
  const code = `
${uniformStruct(s.uniforms)}
${bindingDecls(bindings, CONV_ELEMENT_TYPES, precision)}
${s.constants}

${entryPoint(WORKGROUP_SIZE)}
${nhwc4Coordinates({ c4: 'coGroups', w: 'oxGroups', h: 'outH' }, { x: 'oxGroup', y: 'oy', c4: 'coGroup' })}
  let ox0 = oxGroup * ${P}u;
  let firstCo = coGroup * ${V}u;${exact ? '' : `
  let lastCo = params.outC4 - 1u;`}
  let lastX = i32(params.inW) - 1;${s.placed === undefined ? '' : `\n${s.placed}`}${exact ? '' : `
${unroll(V, (c) => `  let co${c} = min(firstCo + ${c}u, lastCo);`)}`}
${s.ownAccumulators ? s.body : `${unroll2(P, V, (p, c) => `  var acc${p}_${c} = vec4<f32>(0.0);`)}
${s.body}
${unroll(V, (c) => `  let b${c} = bias[${co(c)}];`)}
${unroll2(P, V, (p, c) => `  if (${inTile(p, c)}) {
    let o = ((n * params.outH + oy) * params.outW + ox0 + ${p}u) * params.outC4 + ${co(c)};
    store_dst(o, epilogue(acc${p}_${c} + b${c}, o));
  }`)}`}
}

${epilogueFunction(s.variant)}
`;
  return finishProgram({ name: s.name, key: s.key, code, bindings, uniforms: s.uniforms, workgroupSize: WORKGROUP_SIZE }, precision);
}

/** The invocation grid of a dense tile kernel: images x output rows x column groups of `P` x vec4 groups of `V`. */
export function denseTileGrid(view: NodeView<Conv2dNode>, P: number, V: number) {
  const f = convFigures(view);
  const oxGroups = ceilDiv(f.outW, P);
  const coGroups = ceilDiv(c4(f.outC), V);
  return { f, oxGroups, coGroups, total: f.n * f.outH * oxGroups * coGroups };
}

/**
 * The one launch of a dense tile kernel over `grid.total` invocations, `denseTileGrid`'s or another layout's
 * (conv2d's wrapped tile): layer kind conv2d, the tuner's, for every dense family.
 */
export function denseTileLaunch(
  view: NodeView<Conv2dNode>,
  grid: Pick<ReturnType<typeof denseTileGrid>, 'f' | 'total'>,
  program: KernelProgram,
  uniforms: CheckedUniforms,
  precision: StoragePrecision,
): Launch {
  return {
    kind: 'conv2d',
    program,
    uniforms,
    workgroups: ceilDiv(grid.total, WORKGROUP_SIZE),
    buffers: convBuffers(view.node, denseWeights(view), grid.f.bias, precision),
    macs: grid.f.macs,
  };
}
