/**
 * Depthwise convolutions on the block kernel (several output rows and columns per invocation, weights in
 * registers) and on the rolling kernel (a loop down several output rows, shared input rows kept in registers)
 * against the CPU reference: MobileNet / EfficientNet shapes (3x3 and 5x5, stride 1 and 2), odd channel counts,
 * 1x1 maps, batch 2, residual and fused activations, maps smaller than one block, row counts that leave a short
 * last row group, every block and rolling tile the tuner tries (the `fit` tile on wider shapes of its own); f32,
 * f16-packed and native f16 (skipped where the adapter has no `shader-f16`).
 */
import { DEPTHWISE_TILES } from '../shaders/depthwise/index.ts';
import type { DepthwiseTile } from '../shaders/depthwise/index.ts';
import type { StoragePrecision } from '../shaders/common.ts';
import { DEFAULT_KERNEL_CHOICE } from '../src/runtime/kernel-choice.ts';
import type { GpuCase } from './gpu-cases.ts';
import type { TileCase } from './tile-cases.ts';

type Act = 'none' | 'relu' | 'relu6';
const dw = (n: number, c: number, hw: [number, number], kernel: number, stride: number, extra: { act?: Act; residual?: boolean; batchNorm?: boolean } = {}): GpuCase => ({
  kind: 'conv', n, inC: c, h: hw[0], w: hw[1], outC: c, kernel, stride, pad: (kernel - 1) / 2, dilation: 1, groups: c,
  bias: !extra.batchNorm, batchNorm: extra.batchNorm ?? false, activation: extra.act ?? 'relu6', residual: extra.residual ?? false,
});

const SHAPES: readonly [string, GpuCase][] = [
  ['MobileNetV2 3x3 stride 1', dw(1, 32, [14, 14], 3, 1, { batchNorm: true })],
  ['MobileNetV2 3x3 stride 2, odd map, batch 2', dw(2, 24, [11, 9], 3, 2, { batchNorm: true })],
  ['EfficientNet 5x5 stride 1, odd channels', dw(1, 18, [9, 13], 5, 1, { act: 'none' })],
  ['EfficientNet 5x5 stride 2, odd channels, batch 2', dw(2, 11, [13, 10], 5, 2, { act: 'relu' })],
  ['3x3 stride 1, 7 channels, batch 2, residual', dw(2, 7, [6, 7], 3, 1, { residual: true, act: 'none' })],
  ['3x3 stride 1, 1x1 map', dw(1, 5, [1, 1], 3, 1, { act: 'none' })],
  ['5x5 stride 2, 1x1 map, batch 2', dw(2, 9, [1, 1], 5, 2)],
  ['3x3 stride 2, 2x3 map (smaller than a block)', dw(1, 12, [2, 3], 3, 2)],
  ['3x3 stride 1, 21 rows (a short last row group)', dw(1, 8, [21, 6], 3, 1, { residual: true })],
  ['5x5 stride 2, 37 rows, odd channels (a short last row group)', dw(1, 13, [37, 7], 5, 2)],
];

/**
 * The shapes a `fit` tile runs on: big enough that `depthwiseRollingFit` picks wide tiles (the generic shapes' few
 * channels give it 1 column), each named with its choice: 7 and 8 columns, 5 columns with a padded one, a short
 * last row group, odd channels, residual. 3x3 only: SwiftShader compiles a 5x5 shader 7 columns wide slowly
 * (docs/performance.md, depthwise round 5), and the kernel unrolls the window the same way for both.
 */
const FIT_SHAPES: readonly [string, GpuCase][] = [
  ['960 channels 7x7, 3x3 stride 1 (7 columns x 7 rows)', dw(1, 960, [7, 7], 3, 1, { batchNorm: true })],
  ['30 channels 40x40, 3x3 stride 1, residual (8 columns x 14 rows, a short last row group)', dw(1, 30, [40, 40], 3, 1, { residual: true })],
  ['192 channels 28x28, 3x3 stride 2 (5 columns, one padded, x 14 rows)', dw(1, 192, [28, 28], 3, 2)],
];

const TESTED_TILES = DEPTHWISE_TILES.filter((t) => (t.rowsPerThread ?? 1) > 1 || t.rollingRows !== undefined);
const tileName = (t: DepthwiseTile) =>
  t.rollingRows !== undefined ? `rolling ${t.fit ? 'fit to ' : ''}p${t.pixelsPerThread}r${t.rollingRows}` : `block p${t.pixelsPerThread}r${t.rowsPerThread ?? 1}`;

/** The program-key prefix of the kernel a case's tile must run on: the runners check that it did. */
export function depthwiseKernelPrefix(t: TileCase): string {
  return t.kernels.depthwise.rollingRows !== undefined ? 'depthwise-rolling/' : 'depthwise-block/';
}

/**
 * The f16 modes on one tile per kernel (the first block tile and the rolling software default): their loads and
 * stores convert the same way whatever the tile, while every tile's indexing is covered at f32.
 */
const F16_TILES = [
  TESTED_TILES.find((t) => t.rollingRows === undefined),
  TESTED_TILES.find((t) => t.rollingRows !== undefined),
].filter((t): t is DepthwiseTile => t !== undefined);

function cases(precision: StoragePrecision, tiles: readonly DepthwiseTile[] = TESTED_TILES): TileCase[] {
  const suffix = precision === 'f32' ? '' : ` [${precision}]`;
  const withPrecision = (c: GpuCase): GpuCase => (precision === 'f32' ? c : { ...c, precision });
  return tiles.flatMap((tile) => (tile.fit ? FIT_SHAPES : SHAPES).map(([name, c]): TileCase => ({
    name: `depthwise ${tileName(tile)}, ${name}${suffix}`, case: withPrecision(c), kernels: { ...DEFAULT_KERNEL_CHOICE, depthwise: tile },
  })));
}

export const DEPTHWISE_CASES: readonly TileCase[] = cases('f32');
const FIT_TILE = TESTED_TILES.find((t) => t.fit);
/** The fit tile's wide shaders in one f16 mode, on its first shape. */
const FIT_F16_CASES = FIT_TILE ? cases('f16-packed', [FIT_TILE]).slice(0, 1) : [];

export const DEPTHWISE_F16_CASES: readonly TileCase[] = [...cases('f16-packed', F16_TILES), ...cases('f16', F16_TILES), ...FIT_F16_CASES];
