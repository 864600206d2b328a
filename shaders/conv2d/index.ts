import type { Conv2dNode } from '../../src/graph/ir.ts';
import { convResidual } from '../../src/graph/ir.ts';
import type { KernelProgram, StoragePrecision } from '../common.ts';
import { ceilDiv, epilogueActivation } from '../common.ts';
import { c4, isDenseConv, isPointwiseConv } from '../conv-common.ts';
import { denseTileGrid, denseTileLaunch } from '../dense-tile.ts';
import type { KernelFamily, NodeView } from '../family.ts';
import { registerTileProblem } from '../register-tile.ts';
import { uniformValues } from '../uniforms.ts';
import { CONV2D_UNIFORMS, conv2dProgram } from './wgsl.ts';
import { CONV2D_WRAPPED_UNIFORMS, conv2dWrappedProgram } from './wrapped.ts';

/** The conv2d family's variant: a register tile of pixels along a row x output vec4s per invocation. */
export interface Conv2dTile {
  readonly family: 'conv2d';
  readonly pixelsPerThread: number;
  readonly vec4sPerThread: number;
  /**
   * Take the tile's pixels along the flattened map rather than along one row (`wrapped.ts`) on the convs where
   * that saves work (`runsWrapped`): no row padded to a multiple of `pixelsPerThread`, and dilated convs' empty
   * taps skipped; absent: the row tile everywhere.
   */
  readonly wrapRows?: boolean;
}

const tile = (pixelsPerThread: number, vec4sPerThread: number): Conv2dTile => ({ family: 'conv2d', pixelsPerThread, vec4sPerThread });

/** Tiles the tuner tries, all row tiles; 8 x 2 first, the software default's size (the default adds `wrapRows`). */
export const CONV2D_TILES: readonly Conv2dTile[] = [tile(8, 2), tile(4, 2), tile(4, 4), tile(8, 4), tile(2, 2), tile(16, 2), tile(2, 1), tile(1, 1)];

function variantOf({ node, outShape }: NodeView<Conv2dNode>, t: Conv2dTile) {
  const a = node.attrs;
  return {
    kernelH: a.kernel[0],
    kernelW: a.kernel[1],
    pixelsPerThread: t.pixelsPerThread,
    vec4sPerThread: Math.min(t.vec4sPerThread, c4(outShape[1])),
    residual: convResidual(node) !== undefined,
    ...epilogueActivation(a.activation),
  };
}

/**
 * Whether a `wrapRows` tile runs `view` on the wrapped kernel: where the row tile would pad the rows (output width
 * not a multiple of `pixelsPerThread`) or the conv is dilated (the wrapped kernel skips taps outside the image for
 * a whole tile). On maps a multiple of the tile wide the row kernel's cheaper tap arithmetic wins.
 */
export function runsWrapped(view: NodeView<Conv2dNode>, t: Conv2dTile): boolean {
  const a = view.node.attrs;
  return wrapsAt(t, view.outShape[3], a.dilation[0] > 1 || a.dilation[1] > 1);
}

/** `runsWrapped` on a layer's output width and whether it is dilated (the shape rule's form, `shape-tile.ts`). */
export function wrapsAt(t: Conv2dTile, outW: number, dilated: boolean): boolean {
  return t.wrapRows === true && (outW % t.pixelsPerThread !== 0 || dilated);
}

/** Dense KxK convolutions (any stride, dilation, padding, groups) with register-blocked direct loops. */
export const conv2dFamily: KernelFamily<Conv2dNode, Conv2dTile> = {
  name: 'conv2d',
  // No input transform (ConvInputTransform): the pointwise and conv-shared families apply those.
  supports: (view): view is NodeView<Conv2dNode> =>
    view.node.op === 'conv2d' && isDenseConv(view) && !isPointwiseConv(view.node.attrs) && view.node.attrs.input === undefined,
  variants: () => CONV2D_TILES,
  check: registerTileProblem,
  program: (view, t, precision: StoragePrecision): KernelProgram =>
    (runsWrapped(view, t) ? conv2dWrappedProgram : conv2dProgram)(variantOf(view, t), precision),
  launch(view, t, precision) {
    const { pixelsPerThread: P, vec4sPerThread: V } = variantOf(view, t);
    const grid = denseTileGrid(view, P, V);
    const { f, oxGroups, coGroups, total } = grid;
    const shape = {
      inH: f.inH, inW: f.inW, inC4: c4(f.inC), outH: f.outH, outW: f.outW, outC4: c4(f.outC), coGroups,
      strideY: f.a.stride[0], strideX: f.a.stride[1], dilationY: f.a.dilation[0], dilationX: f.a.dilation[1],
      padTop: f.a.pads[0], padLeft: f.a.pads[1], ...f.act,
    };
    const program = this.program(view, t, precision);
    if (!runsWrapped(view, t)) return [denseTileLaunch(view, grid, program, uniformValues(CONV2D_UNIFORMS, { total, oxGroups, ...shape }), precision)];
    // The wrapped kernel: `P` pixels of the flattened map (not of one row) x `V` output vec4s per invocation.
    const pixels = f.n * f.outH * f.outW;
    const wrappedGrid = { f, total: ceilDiv(pixels, P) * coGroups };
    return [denseTileLaunch(view, wrappedGrid, program, uniformValues(CONV2D_WRAPPED_UNIFORMS, { pixels, ...shape }), precision)];
  },
};
