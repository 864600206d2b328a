import type { Conv2dNode } from '../../src/graph/ir.ts';
import { convResidual } from '../../src/graph/ir.ts';
import type { KernelProgram, StoragePrecision } from '../common.ts';
import { epilogueActivation } from '../common.ts';
import { c4, isDenseConv, isPointwiseConv } from '../conv-common.ts';
import { denseTileGrid, denseTileLaunch } from '../dense-tile.ts';
import type { KernelFamily, NodeView } from '../family.ts';
import { registerTileProblem } from '../register-tile.ts';
import { uniformValues } from '../uniforms.ts';
import { CONV2D_UNIFORMS, conv2dProgram } from './wgsl.ts';

/** The conv2d family's variant: a register tile of pixels along a row x output vec4s per invocation. */
export interface Conv2dTile {
  readonly family: 'conv2d';
  readonly pixelsPerThread: number;
  readonly vec4sPerThread: number;
}

const tile = (pixelsPerThread: number, vec4sPerThread: number): Conv2dTile => ({ family: 'conv2d', pixelsPerThread, vec4sPerThread });

/** Tiles the tuner tries, the software default (8 x 2) first. */
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

/** Dense KxK convolutions (any stride, dilation, padding, groups) with register-blocked direct loops. */
export const conv2dFamily: KernelFamily<Conv2dNode, Conv2dTile> = {
  name: 'conv2d',
  // No input transform (ConvInputTransform): the pointwise and conv-shared families apply those.
  supports: (view): view is NodeView<Conv2dNode> =>
    view.node.op === 'conv2d' && isDenseConv(view) && !isPointwiseConv(view.node.attrs) && view.node.attrs.input === undefined,
  variants: () => CONV2D_TILES,
  check: registerTileProblem,
  program: (view, t, precision: StoragePrecision): KernelProgram => conv2dProgram(variantOf(view, t), precision),
  launch(view, t, precision) {
    const { pixelsPerThread: P, vec4sPerThread: V } = variantOf(view, t);
    const grid = denseTileGrid(view, P, V);
    const { f, oxGroups, coGroups, total } = grid;
    return [denseTileLaunch(view, grid, this.program(view, t, precision), uniformValues(CONV2D_UNIFORMS, {
      total, inH: f.inH, inW: f.inW, inC4: c4(f.inC), outH: f.outH, outW: f.outW, outC4: c4(f.outC), oxGroups, coGroups,
      strideY: f.a.stride[0], strideX: f.a.stride[1], dilationY: f.a.dilation[0], dilationX: f.a.dilation[1],
      padTop: f.a.pads[0], padLeft: f.a.pads[1], ...f.act,
    }), precision)];
  },
};
