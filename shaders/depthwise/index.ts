import type { Conv2dNode } from '../../src/graph/ir.ts';
import { convResidual } from '../../src/graph/ir.ts';
import { depthwisePacking } from '../../src/runtime/pack-weights.ts';
import type { KernelProgram, StoragePrecision } from '../common.ts';
import { ceilDiv, columnsWithinSpan, epilogueActivation } from '../common.ts';
import { c4, convBuffers, convFigures, isDepthwiseConv } from '../conv-common.ts';
import { countIn } from '../tiles.ts';
import type { KernelFamily, NodeView } from '../family.ts';
import { MAX_REGISTER_TILE } from '../register-tile.ts';
import { uniformValues } from '../uniforms.ts';
import { DEPTHWISE_UNIFORMS, depthwiseConvProgram, depthwiseRowsProgram } from './wgsl.ts';
import { depthwiseBlockProgram } from './block.ts';
import { depthwiseRollingProgram } from './rolling.ts';
import { depthwiseRollingFit } from './fit.ts';

/**
 * The depthwise family's variant: output pixels along a row per invocation (one channel vec4 each), and
 * `rows`: the row-reuse kernel where dilation is 1 (absent: true; dilated convs take it from `fit` tiles only,
 * `dilatedRowColumns`). `rowsPerThread` above 1 (with `rows` not
 * false, dilation 1): the block kernel, that many output rows per invocation sharing loaded input rows, the
 * channel vec4's weights in registers (`shaders/depthwise/block.ts`). `rollingRows` (dilation 1): the rolling
 * kernel, a loop down that many output rows keeping the input rows they share in registers, with no branch
 * around loads (`shaders/depthwise/rolling.ts`). `fit` (with `rollingRows`): the rolling kernel's columns and rows
 * chosen per layer from its shape by `depthwiseRollingFit` (`shaders/depthwise/fit.ts`), at most
 * `pixelsPerThread` and `rollingRows`.
 */
export interface DepthwiseTile {
  readonly family: 'depthwise';
  readonly pixelsPerThread: number;
  readonly rows?: boolean;
  readonly rowsPerThread?: number;
  readonly rollingRows?: number;
  readonly fit?: boolean;
}

const tile = (pixelsPerThread: number, rowsPerThread?: number): DepthwiseTile =>
  rowsPerThread === undefined ? { family: 'depthwise', pixelsPerThread } : { family: 'depthwise', pixelsPerThread, rowsPerThread };

const rolling = (pixelsPerThread: number, rollingRows: number): DepthwiseTile => ({ family: 'depthwise', pixelsPerThread, rollingRows });

const fitted = (pixelsPerThread: number, rollingRows: number): DepthwiseTile => ({ family: 'depthwise', pixelsPerThread, rollingRows, fit: true });

/**
 * Tiles the tuner tries: the software default (rolling, 2 columns x 16 rows) first, then the row kernel's tiles (the
 * GPU default, 4, first), the block tiles, the other rolling ones, and the rolling kernel fitted per layer (at most
 * 8 columns x 16 rows; not the default: its wide shaders compile several times slower).
 */
export const DEPTHWISE_TILES: readonly DepthwiseTile[] = [
  rolling(2, 16), tile(4), tile(8), tile(2), tile(1), tile(4, 2), tile(4, 4), tile(8, 2), tile(2, 4), rolling(4, 8), rolling(4, 16),
  fitted(8, 16),
];

/** The most output rows one block invocation computes. */
export const MAX_DEPTHWISE_ROWS = 8;

/** The most output rows one rolling invocation walks (a loop, so code size does not grow with it). */
export const MAX_DEPTHWISE_ROLLING_ROWS = 64;

const dilated = (view: NodeView<Conv2dNode>) => view.node.attrs.dilation[0] !== 1 || view.node.attrs.dilation[1] !== 1;

/** The rolling kernel's rows per invocation on this node, 0 where the tile or the node does not take it. */
function rollingRows(view: NodeView<Conv2dNode>, t: DepthwiseTile): number {
  return t.rollingRows !== undefined && !dilated(view) ? t.rollingRows : 0;
}

/**
 * Most input columns a kernel row of the dilated row kernel loads: its code is unrolled, and SwiftShader compiled
 * DeepLabV3's 5x5 dilation-2 program at 8 columns (16 loaded) in 1.9 s against 0.07 s for the general kernel, a
 * 7x7 dilation-8 one in 12.6 s.
 */
export const DILATED_ROW_MAX_SPAN = 16;

/**
 * Output columns of the dilated row kernel for a `fit` tile (the software upgrade) on a dilated conv: the most, up to
 * the tile's, whose span fits `DILATED_ROW_MAX_SPAN`; 0 where fewer than 2 fit, or the tile is not `fit` (the
 * default's rolling tile keeps the general kernel for dilated convs, which compiles fast for the cold start).
 */
export function dilatedRowColumns(view: NodeView<Conv2dNode>, t: DepthwiseTile): number {
  if (!t.fit || t.rollingRows === undefined || !dilated(view)) return 0;
  const a = view.node.attrs;
  const columns = columnsWithinSpan(t.pixelsPerThread, a.kernel[1], a.stride[1], a.dilation[1], DILATED_ROW_MAX_SPAN);
  return columns >= 2 ? columns : 0;
}

/**
 * The tile as it runs on this node: a `fit` rolling tile with the columns and rows `depthwiseRollingFit` picks, or on
 * a dilated conv the row kernel's `dilatedRowColumns`.
 */
function tileOnNode(view: NodeView<Conv2dNode>, t: DepthwiseTile): DepthwiseTile {
  const dilatedColumns = dilatedRowColumns(view, t);
  if (dilatedColumns > 0) return { family: 'depthwise', pixelsPerThread: dilatedColumns };
  if (!t.fit || rollingRows(view, t) === 0) return t;
  const f = convFigures(view);
  const shape = depthwiseRollingFit({
    n: f.n, c4: c4(f.outC), outH: f.outH, outW: f.outW, kernelH: f.kh, kernelW: f.kw, strideY: f.a.stride[0], strideX: f.a.stride[1],
  }, { pixelsPerThread: t.pixelsPerThread, rollingRows: t.rollingRows! });
  return { family: 'depthwise', ...shape };
}

/** Output rows per invocation the tile runs with on this node: above 1 only on the block and rolling kernels. */
function blockRows(view: NodeView<Conv2dNode>, t: DepthwiseTile): number {
  const rolling = rollingRows(view, t);
  if (rolling > 0) return rolling;
  return t.rows !== false && (t.rowsPerThread ?? 1) > 1 && !dilated(view) ? t.rowsPerThread! : 1;
}

/** Depthwise convolutions (groups = channels), any window, stride, dilation and padding. */
export const depthwiseFamily: KernelFamily<Conv2dNode, DepthwiseTile> = {
  name: 'depthwise',
  // No input transform (ConvInputTransform): the pointwise and conv-shared families apply those.
  supports: (view): view is NodeView<Conv2dNode> => isDepthwiseConv(view) && (view.node as Conv2dNode).attrs.input === undefined,
  variants: () => DEPTHWISE_TILES,
  check(t) {
    if (!countIn(t.pixelsPerThread, 1, MAX_REGISTER_TILE.pixels)) {
      return `${String(t.pixelsPerThread)} pixels per invocation is not an integer from 1 to ${MAX_REGISTER_TILE.pixels}`;
    }
    if (t.rowsPerThread !== undefined && !countIn(t.rowsPerThread, 1, MAX_DEPTHWISE_ROWS)) {
      return `${String(t.rowsPerThread)} rows per invocation is not an integer from 1 to ${MAX_DEPTHWISE_ROWS}`;
    }
    if (t.rollingRows !== undefined) {
      if (!countIn(t.rollingRows, 1, MAX_DEPTHWISE_ROLLING_ROWS)) {
        return `${String(t.rollingRows)} rolling rows per invocation is not an integer from 1 to ${MAX_DEPTHWISE_ROLLING_ROWS}`;
      }
      if (t.rowsPerThread !== undefined || t.rows !== undefined) return 'rollingRows excludes rows and rowsPerThread';
    }
    if (t.fit !== undefined && typeof t.fit !== 'boolean') return `fit ${String(t.fit)} is not a boolean`;
    if (t.fit && t.rollingRows === undefined) return 'fit needs rollingRows (it fits the rolling kernel)';
    return t.rows === undefined || typeof t.rows === 'boolean' ? null : `rows ${String(t.rows)} is not a boolean`;
  },
  program(view, tile, precision: StoragePrecision): KernelProgram {
    const t = tileOnNode(view, tile);
    const a = view.node.attrs;
    const common = { kernelH: a.kernel[0], kernelW: a.kernel[1], pixelsPerThread: t.pixelsPerThread, residual: convResidual(view.node) !== undefined, ...epilogueActivation(a.activation) };
    const rolling = rollingRows(view, t);
    if (rolling > 0) return depthwiseRollingProgram({ ...common, strideY: a.stride[0], strideX: a.stride[1], rowsPerThread: tile.fit ? 'uniform' : rolling }, precision);
    const rowsPerThread = blockRows(view, t);
    if (rowsPerThread > 1) return depthwiseBlockProgram({ ...common, strideY: a.stride[0], strideX: a.stride[1], rowsPerThread }, precision);
    // Dilated convs take the row kernel only from a `fit` tile (the software upgrade, `dilatedRowColumns`); the
    // default's rolling tile and row tiles (the GPU default) keep the general kernel for them.
    return t.rows !== false && (!dilated(view) || dilatedRowColumns(view, tile) > 0)
      ? depthwiseRowsProgram({ ...common, strideY: a.stride[0], strideX: a.stride[1], dilationY: a.dilation[0], dilationX: a.dilation[1] }, precision)
      : depthwiseConvProgram(common, precision);
  },
  launch(view: NodeView<Conv2dNode>, tile, precision) {
    const t = tileOnNode(view, tile);
    const f = convFigures(view);
    const oxGroups = ceilDiv(f.outW, t.pixelsPerThread);
    const rows = blockRows(view, t);
    const total = f.n * ceilDiv(f.outH, rows) * oxGroups * c4(f.outC);
    return [{
      kind: 'depthwise',
      program: this.program(view, tile, precision),
      uniforms: uniformValues(DEPTHWISE_UNIFORMS, {
        total, inH: f.inH, inW: f.inW, C4: c4(f.outC), outH: f.outH, outW: f.outW, oxGroups,
        strideY: f.a.stride[0], strideX: f.a.stride[1], dilationY: f.a.dilation[0], dilationX: f.a.dilation[1],
        padTop: f.a.pads[0], padLeft: f.a.pads[1], rows, ...f.act,
      }),
      workgroups: ceilDiv(total, 64),
      buffers: convBuffers(view.node, depthwisePacking(f.a.weight, f.outC, f.kh, f.kw, f.a.weightScale ?? null), f.bias, precision),
      macs: f.macs,
    }];
  },
};
