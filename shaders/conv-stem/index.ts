import type { Conv2dNode } from '../../src/graph/ir.ts';
import { convResidual } from '../../src/graph/ir.ts';
import type { KernelProgram, StoragePrecision } from '../common.ts';
import { columnsWithinSpan, epilogueActivation } from '../common.ts';
import { c4, isDenseConv, isPointwiseConv } from '../conv-common.ts';
import { denseTileGrid, denseTileLaunch } from '../dense-tile.ts';
import type { KernelFamily, NodeView } from '../family.ts';
import { registerTileProblem } from '../register-tile.ts';
import { uniformValues } from '../uniforms.ts';
import { countIn } from '../tiles.ts';
import { STEM_WALK_MAX_WEIGHTS, stemWalkProgram } from './walk.ts';
import { STEM_CONV_UNIFORMS, stemConvProgram } from './wgsl.ts';

/**
 * The stem family's variant: a register tile of output columns along a row x output vec4s per invocation.
 * `walkColumns`: stems small enough to walk (`stemWalks`) run the walking kernel instead (walk.ts: one output
 * vec4 per invocation, its weights in registers, walking that many output columns of a row); larger windows keep
 * the register tile.
 */
export interface StemConvTile {
  readonly family: 'stem';
  readonly pixelsPerThread: number;
  readonly vec4sPerThread: number;
  readonly walkColumns?: number;
}

/** Most columns one walking invocation covers (a row of a 448-pixel input at stride 2 is 224). */
export const MAX_STEM_WALK_COLUMNS = 256;

const tile = (pixelsPerThread: number, vec4sPerThread: number): StemConvTile => ({ family: 'stem', pixelsPerThread, vec4sPerThread });

/**
 * Tiles the tuner tries on stems. Each kernel row's taps are straight-line code (`KW x inC x P x V` multiply-adds),
 * so wider tiles cost compile time fast: on SwiftShader 8 x 4 and 16 x 1 took several times as long as 4 x 2 on the
 * 7x7 stem and are left out (docs/decisions/kernel-defaults.md). The last walks 28 columns where the stem walks
 * (`stemWalks`), the software default.
 */
export const STEM_CONV_TILES: readonly StemConvTile[] = [
  tile(4, 2), tile(8, 2), tile(4, 4), tile(8, 1), tile(2, 4), tile(4, 1), { ...tile(4, 2), walkColumns: 28 },
];

/**
 * A conv the stem kernel runs: dense (groups 1), a KxK window (not a 1x1 GEMM), at most 4 input channels
 * (one NHWC4 vec4 per pixel), dilation 1, no input transform.
 */
export function isStemConv(view: NodeView): boolean {
  if (view.node.op !== 'conv2d' || !isDenseConv(view)) return false;
  const a = view.node.attrs;
  return a.groups === 1 && !isPointwiseConv(a) && view.inShape[1] <= 4 && a.dilation[0] === 1 && a.dilation[1] === 1 && a.input === undefined;
}

/**
 * Most input columns one kernel row of a register-tile invocation may load (`stemSpan`): SwiftShader's compile time
 * grows with the span of this straight-line code, so the cap keeps a wide tile on a large-stride stem (ConvNeXt's
 * 4x4 stride 4, AlexNet's 11x11 stride 4) from costing seconds of compile per program. Its history and figures:
 * docs/decisions/kernel-defaults.md.
 */
export const MAX_STEM_SPAN = 23;

/** The tile's output columns per invocation, fewer where they would make a row's span exceed `MAX_STEM_SPAN`. */
export function stemColumns(pixelsPerThread: number, kernelW: number, strideX: number): number {
  return columnsWithinSpan(pixelsPerThread, kernelW, strideX, 1, MAX_STEM_SPAN);
}

function variantOf({ node, inShape, outShape }: NodeView<Conv2dNode>, t: StemConvTile) {
  const a = node.attrs;
  return {
    kernelH: a.kernel[0],
    kernelW: a.kernel[1],
    strideX: a.stride[1],
    inC: inShape[1],
    pixelsPerThread: stemColumns(t.pixelsPerThread, a.kernel[1], a.stride[1]),
    vec4sPerThread: Math.min(t.vec4sPerThread, c4(outShape[1])),
    residual: convResidual(node) !== undefined,
    ...epilogueActivation(a.activation),
  };
}

/** Why the stem family cannot run `t`, or null: a register tile as conv2d's, and 1 to 256 walked columns. */
export function stemTileProblem(t: StemConvTile): string | null {
  const problem = registerTileProblem(t);
  if (problem !== null || t.walkColumns === undefined) return problem;
  return countIn(t.walkColumns, 1, MAX_STEM_WALK_COLUMNS) ? null : `${String(t.walkColumns)} walked columns is not an integer from 1 to ${MAX_STEM_WALK_COLUMNS}`;
}

/**
 * Whether `t` runs the stem `kernel x inC` on the walking kernel: it asks to walk and the window's weight vec4s
 * fit `STEM_WALK_MAX_WEIGHTS` (a 3x3 RGB stem walks, a 7x7 one keeps the register tile).
 */
export function stemWalks(t: StemConvTile, kernel: readonly [number, number], inC: number): boolean {
  return t.walkColumns !== undefined && kernel[0] * kernel[1] * inC <= STEM_WALK_MAX_WEIGHTS;
}

/** Columns x vec4s per invocation of the kernel that runs `t` on `view`. */
function footprint(view: NodeView<Conv2dNode>, t: StemConvTile): { columns: number; vec4s: number } {
  if (stemWalks(t, view.node.attrs.kernel, view.inShape[1])) return { columns: t.walkColumns!, vec4s: 1 };
  const v = variantOf(view, t);
  return { columns: v.pixelsPerThread, vec4s: v.vec4sPerThread };
}

/** RGB stems: dense convs on at most 4 input channels with each row's shared input columns loaded once (wgsl.ts). */
export const stemConvFamily: KernelFamily<Conv2dNode, StemConvTile> = {
  name: 'stem',
  supports: (view): view is NodeView<Conv2dNode> => isStemConv(view),
  variants: (view) => (isStemConv(view) ? STEM_CONV_TILES : []),
  check: stemTileProblem,
  program: (view, t, precision: StoragePrecision): KernelProgram =>
    stemWalks(t, view.node.attrs.kernel, view.inShape[1])
      ? stemWalkProgram({ ...variantOf(view, t), walkColumns: t.walkColumns! }, precision)
      : stemConvProgram(variantOf(view, t), precision),
  launch(view, t, precision) {
    const { columns, vec4s } = footprint(view, t);
    const grid = denseTileGrid(view, columns, vec4s);
    const { f, oxGroups, coGroups, total } = grid;
    return [denseTileLaunch(view, grid, this.program(view, t, precision), uniformValues(STEM_CONV_UNIFORMS, {
      total, inH: f.inH, inW: f.inW, outH: f.outH, outW: f.outW, outC4: c4(f.outC), oxGroups, coGroups,
      strideY: f.a.stride[0], padTop: f.a.pads[0], padLeft: f.a.pads[1], ...f.act,
    }), precision)];
  },
};
