import type { Conv2dNode } from '../../src/graph/ir.ts';
import { denseConvPacking } from '../../src/runtime/pack-weights.ts';
import type { KernelProgram, StoragePrecision } from '../common.ts';
import { ceilDiv, columnsWithinSpan, epilogueActivation } from '../common.ts';
import { c4, convBuffers, convFigures, isDepthwiseConv } from '../conv-common.ts';
import type { KernelFamily, NodeView } from '../family.ts';
import { registerTileProblem } from '../register-tile.ts';
import { uniformValues } from '../uniforms.ts';
import { GROUPED_CONV_UNIFORMS, groupedConvProgram } from './wgsl.ts';

/**
 * The grouped family's variant: a register tile of pixels along a row x output vec4s (within one group); `rows`
 * takes the row form (rows.ts) where a group's channels are whole vec4s, and narrows the columns so that a kernel
 * row loads at most `GROUPED_ROWS_MAX_SPAN` input columns.
 */
export interface GroupedConvTile {
  readonly family: 'grouped';
  readonly pixelsPerThread: number;
  readonly vec4sPerThread: number;
  readonly rows?: boolean;
}

/** Groups of at most this many input vec4s run the row form with the loop over them unrolled (and baked in). */
export const GROUPED_ROWS_UNROLLED_IN_VEC4S = 2;
/** Input columns a kernel row of the row form loads at most (unrolled code, compile time: as the stems' span cap). */
export const GROUPED_ROWS_MAX_SPAN = 18;

const tile = (pixelsPerThread: number, vec4sPerThread: number, rows = false): GroupedConvTile =>
  ({ family: 'grouped', pixelsPerThread, vec4sPerThread, ...(rows ? { rows } : {}) });

/** Tiles the tuner tries, the software default (8 x 2) first; the last is the software upgrade's (the row form). */
export const GROUPED_CONV_TILES: readonly GroupedConvTile[] = [tile(8, 2), tile(4, 2), tile(8, 1), tile(4, 1), tile(4, 4), tile(16, 1), tile(2, 2), tile(1, 1), tile(8, 4, true)];

/** A grouped convolution that is not depthwise (1 < groups; the depthwise family runs groups = channels). */
export function isGroupedConv(view: NodeView): boolean {
  return view.node.op === 'conv2d' && view.node.attrs.groups > 1 && !isDepthwiseConv(view);
}

/** The largest divisor of `n` that is at most `limit` (so an invocation's output vec4s stay in one group). */
function largestDivisorAtMost(n: number, limit: number): number {
  for (let d = Math.min(n, limit); d > 1; d--) if (n % d === 0) return d;
  return 1;
}

/** The columns of a row-form tile of `P` columns that keep a kernel row's span within `GROUPED_ROWS_MAX_SPAN` (at least 1). */
export function groupedRowsColumns(P: number, strideX: number, kernelW: number, dilationX: number): number {
  return columnsWithinSpan(P, kernelW, strideX, dilationX, GROUPED_ROWS_MAX_SPAN);
}

function variantOf({ node, inShape, outShape }: NodeView<Conv2dNode>, t: GroupedConvTile) {
  const a = node.attrs;
  const inPerGroup = inShape[1] / a.groups;
  const outPerGroup = outShape[1] / a.groups;
  const aligned = inPerGroup % 4 === 0 && outPerGroup % 4 === 0;
  const inVec4s = inPerGroup / 4;
  const rows = t.rows === true && aligned
    ? { strideY: a.stride[0], strideX: a.stride[1], dilationY: a.dilation[0], dilationX: a.dilation[1], ...(inVec4s <= GROUPED_ROWS_UNROLLED_IN_VEC4S ? { inVec4s } : {}) }
    : undefined;
  return {
    kernelH: a.kernel[0],
    kernelW: a.kernel[1],
    pixelsPerThread: rows ? groupedRowsColumns(t.pixelsPerThread, rows.strideX, a.kernel[1], rows.dilationX) : t.pixelsPerThread,
    rows,
    vec4sPerThread: aligned ? largestDivisorAtMost(outPerGroup / 4, t.vec4sPerThread) : 1,
    aligned,
    residual: node.inputs.length > 1,
    ...epilogueActivation(a.activation),
  };
}

/** Grouped convolutions (any window, stride, dilation, padding), each group's multiply-adds only (wgsl.ts). */
export const groupedConvFamily: KernelFamily<Conv2dNode, GroupedConvTile> = {
  name: 'grouped',
  supports: (view): view is NodeView<Conv2dNode> => isGroupedConv(view),
  variants: (view) => (isGroupedConv(view) ? GROUPED_CONV_TILES : []),
  check: (t) => (t.rows !== undefined && typeof t.rows !== 'boolean' ? `grouped tile rows must be true or false, not ${JSON.stringify(t.rows)}` : registerTileProblem(t)),
  program: (view, t, precision: StoragePrecision): KernelProgram => groupedConvProgram(variantOf(view, t), precision),
  launch(view, t, precision) {
    const f = convFigures(view);
    const { pixelsPerThread: P, vec4sPerThread: V } = variantOf(view, t);
    const inPerGroup = f.inC / f.a.groups;
    const oxGroups = ceilDiv(f.outW, P);
    const coGroups = ceilDiv(c4(f.outC), V);
    const total = f.n * f.outH * oxGroups * coGroups;
    return [{
      kind: 'grouped',
      program: this.program(view, t, precision),
      uniforms: uniformValues(GROUPED_CONV_UNIFORMS, {
        total, inH: f.inH, inW: f.inW, inC4: c4(f.inC), outH: f.outH, outW: f.outW, outC: f.outC, outC4: c4(f.outC), oxGroups, coGroups,
        inPerGroup, outPerGroup: f.outC / f.a.groups, inPerGroup4: c4(inPerGroup),
        strideY: f.a.stride[0], strideX: f.a.stride[1], dilationY: f.a.dilation[0], dilationX: f.a.dilation[1],
        padTop: f.a.pads[0], padLeft: f.a.pads[1], ...f.act,
      }),
      workgroups: ceilDiv(total, 64),
      // Per group, the weights are a dense conv's on the group's input channels.
      buffers: convBuffers(view.node, denseConvPacking(f.a.weight, f.outC, inPerGroup, f.kh, f.kw, f.a.weightScale ?? null), f.bias, precision),
      macs: f.macs,
    }];
  },
};
