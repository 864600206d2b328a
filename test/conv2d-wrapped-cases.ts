/**
 * Dense KxK convs on the conv2d family's wrapped tile (pixels along the flattened map, `shaders/conv2d/wrapped.ts`)
 * against the CPU reference (each shape one that `runsWrapped` gives the wrapped kernel): maps whose width is not a multiple of the tile (a tile runs into the next row, and
 * across images at batch 2), stride 2, a dilation whose taps fall outside the image for whole tiles (skipped), a
 * 1x1 map, residual and fused activations; f32 at 8 x 2 (and 5 x 1 on two shapes), f16-packed at 8 x 2 on two.
 */
import type { Conv2dTile } from '../shaders/conv2d/index.ts';
import type { StoragePrecision } from '../shaders/common.ts';
import { DEFAULT_KERNEL_CHOICE } from '../src/runtime/kernel-choice.ts';
import type { ActivationName, GpuCase } from './gpu-cases.ts';
import type { TileCase } from './tile-cases.ts';

const conv = (n: number, inC: number, hw: [number, number], outC: number, kernel: number, stride: number, extra: { act?: ActivationName; residual?: boolean; dilation?: number } = {}): GpuCase => ({
  kind: 'conv', n, inC, h: hw[0], w: hw[1], outC, kernel, stride, pad: ((kernel - 1) / 2) * (extra.dilation ?? 1), dilation: extra.dilation ?? 1, groups: 1,
  bias: true, batchNorm: false, activation: extra.act ?? 'relu', residual: extra.residual ?? false,
});

const SHAPES: readonly [string, GpuCase][] = [
  ['3x3 on a 12-wide map, batch 2', conv(2, 12, [5, 12], 16, 3, 1)],
  ['3x3 stride 2, odd sides, 9 out + residual', conv(1, 8, [11, 13], 9, 3, 2, { residual: true, act: 'none' })],
  ['5x5 on a 5x5 map, 7 in', conv(1, 7, [5, 5], 8, 5, 1, { act: 'relu6' })],
  ['3x3 dilation 6 on a 5x4 map (empty taps), batch 2', conv(2, 8, [5, 4], 12, 3, 1, { dilation: 6 })],
  ['3x3 on a 1x1 map', conv(1, 16, [1, 1], 8, 3, 1, { act: 'fn:hard-swish' })],
];

const wrapped = (pixelsPerThread: number, vec4sPerThread: number): Conv2dTile => ({ family: 'conv2d', pixelsPerThread, vec4sPerThread, wrapRows: true });
const tileName = (t: Conv2dTile) => `p${t.pixelsPerThread}v${t.vec4sPerThread}`;

function cases(precision: StoragePrecision, tiles: readonly Conv2dTile[], shapes = SHAPES): TileCase[] {
  const suffix = precision === 'f32' ? '' : ` [${precision}]`;
  return tiles.flatMap((tile) => shapes.map(([name, c]): TileCase => ({
    name: `conv2d wrapped ${tileName(tile)}, ${name}${suffix}`, case: precision === 'f32' ? c : { ...c, precision }, kernels: { ...DEFAULT_KERNEL_CHOICE, conv2d: tile },
  })));
}

// Every shape at the software default's 8 x 2; a tile narrower than the map, and f16-packed, on two of them.
export const CONV2D_WRAPPED_CASES: readonly TileCase[] = [
  ...cases('f32', [wrapped(8, 2)]),
  ...cases('f32', [wrapped(5, 1)], SHAPES.slice(0, 2)),
  ...cases('f16-packed', [wrapped(8, 2)], SHAPES.slice(0, 2)),
];
