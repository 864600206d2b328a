/**
 * Grouped convolutions on the grouped family (each group's multiply-adds only) against the CPU reference: RegNet
 * (8 and 16 channels per group), ResNeXt (4 per group, and 32), ShuffleNet's grouped 1x1, odd channels per group
 * (the lanes path), groups whose in and out widths differ, stride 2, dilation, batch 2, 1x1 maps, residual and
 * fused activations; every tile the tuner tries; f32 and f16-packed. The row form (`rows` tiles) on its own
 * shapes, each with the program key it must run.
 */
import { GROUPED_CONV_TILES } from '../shaders/conv-grouped/index.ts';
import type { StoragePrecision } from '../shaders/common.ts';
import { DEFAULT_KERNEL_CHOICE } from '../src/runtime/kernel-choice.ts';
import type { CaseEntry } from './case-share.ts';
import type { GpuCase } from './gpu-cases.ts';
import type { TileCase } from './tile-cases.ts';

type Act = 'none' | 'relu' | 'relu6';
const grouped = (n: number, inC: number, hw: [number, number], outC: number, kernel: number, stride: number, groups: number, extra: { act?: Act; residual?: boolean; dilation?: number; batchNorm?: boolean } = {}): GpuCase => ({
  kind: 'conv', n, inC, h: hw[0], w: hw[1], outC, kernel, stride, pad: ((kernel - 1) / 2) * (extra.dilation ?? 1), dilation: extra.dilation ?? 1, groups,
  bias: !extra.batchNorm, batchNorm: extra.batchNorm ?? false, activation: extra.act ?? 'relu', residual: extra.residual ?? false,
});

const SHAPES: readonly [string, GpuCase][] = [
  ['RegNetX 16 per group, 3x3', grouped(1, 64, [9, 11], 64, 3, 1, 4, { batchNorm: true })],
  ['RegNetY 8 per group, 3x3 stride 2', grouped(1, 48, [13, 10], 48, 3, 2, 6, { batchNorm: true })],
  ['ResNeXt 4 per group, 3x3, batch 2', grouped(2, 32, [7, 7], 32, 3, 1, 8)],
  ['ResNeXt 32 per group, 3x3 stride 2 + residual', grouped(1, 64, [8, 9], 64, 3, 2, 2, { residual: true, act: 'relu' })],
  ['ShuffleNet grouped 1x1, batch 2', grouped(2, 24, [6, 5], 48, 1, 1, 3, { act: 'none' })],
  ['grouped 1x1 stride 2, in 8 out 12 per group', grouped(1, 16, [7, 9], 24, 1, 2, 2, { act: 'relu6' })],
  ['odd channels per group (5 -> 3), 3x3 stride 2, batch 2', grouped(2, 15, [9, 8], 9, 3, 2, 3)],
  ['odd channels per group (3 -> 7), 3x3 + residual', grouped(1, 9, [6, 7], 21, 3, 1, 3, { residual: true, act: 'none' })],
  ['odd channels per group, 1x1 map', grouped(1, 10, [1, 1], 14, 3, 1, 2, { act: 'relu6' })],
  ['aligned groups, 1x1 map, batch 2', grouped(2, 32, [1, 1], 16, 3, 1, 4)],
  ['2 per group (depthwise-like multiplier 2), 5x5 dilation 2', grouped(1, 12, [11, 9], 24, 5, 1, 6, { dilation: 2 })],
];

function cases(precision: StoragePrecision): TileCase[] {
  const suffix = precision === 'f32' ? '' : ` [${precision}]`;
  const withPrecision = (c: GpuCase): GpuCase => (precision === 'f32' ? c : { ...c, precision });
  return [
    ...SHAPES.map(([name, c]): TileCase => ({ name: `grouped ${name}${suffix}`, case: withPrecision(c), kernels: { ...DEFAULT_KERNEL_CHOICE, grouped: GROUPED_CONV_TILES[0] } })),
    // Every tile on an aligned shape (vec4s per invocation cut to divide the group's output vec4s) and an odd one.
    ...GROUPED_CONV_TILES.flatMap((tile): TileCase[] => [SHAPES[1], SHAPES[6]].map(([name, c]) => ({
      name: `grouped p${tile.pixelsPerThread}v${tile.vec4sPerThread}, ${name}${suffix}`, case: withPrecision(c), kernels: { ...DEFAULT_KERNEL_CHOICE, grouped: tile },
    }))),
  ];
}

export const GROUPED_CASES: readonly TileCase[] = cases('f32');
export const GROUPED_F16_CASES: readonly TileCase[] = cases('f16-packed');

const ROWS_TILE = { family: 'grouped', pixelsPerThread: 8, vec4sPerThread: 4, rows: true } as const;

/** The row form: program keys pin the baked stride, dilation and input vec4s and the columns (narrowed past a span of 18). */
const ROW_SHAPES: readonly [string, GpuCase, string][] = [
  ['ResNeXt 4 per group, 3x3, batch 2 + residual', grouped(2, 32, [7, 9], 32, 3, 1, 8, { residual: true, act: 'none' }), 'grouped-rows/k3x3/s1x1/i1/p8v1/aligned/res/'],
  ['RegNetY 8 per group, 3x3 stride 2', grouped(1, 48, [13, 10], 48, 3, 2, 6, { batchNorm: true }), 'grouped-rows/k3x3/s2x2/i2/p8v2/'],
  ['8 per group, 3x3 dilation 2, a partial last tile', grouped(1, 32, [11, 12], 32, 3, 1, 4, { dilation: 2, act: 'relu6' }), 'grouped-rows/k3x3/s1x1/d2x2/i2/p8v2/'],
  ['4 per group, 5x5 stride 2 narrowed to 7 columns', grouped(1, 16, [15, 17], 16, 5, 2, 4), 'grouped-rows/k5x5/s2x2/i1/p7v1/'],
  ['in 4 out 8 per group, 19 wide', grouped(1, 16, [6, 19], 32, 3, 1, 4), 'grouped-rows/k3x3/s1x1/i1/p8v2/'],
  ['in 8 out 4 per group, 1x1 map, batch 2', grouped(2, 32, [1, 1], 16, 3, 1, 4), 'grouped-rows/k3x3/s1x1/i2/p8v1/'],
  ['16 per group, 4 vec4s (a loop over the input vec4s)', grouped(1, 64, [9, 11], 64, 3, 1, 4, { batchNorm: true }), 'grouped-rows/k3x3/s1x1/p8v4/'],
  ['32 per group, 3x3 stride 2 + residual', grouped(1, 64, [8, 9], 64, 3, 2, 2, { residual: true }), 'grouped-rows/k3x3/s2x2/p8v4/aligned/res/'],
  ['odd channels per group: the lanes path', grouped(2, 15, [9, 8], 9, 3, 2, 3), 'grouped/k3x3/p8v1/lanes/'],
];

export const GROUPED_ROW_ENTRIES: readonly CaseEntry[] = [
  ...ROW_SHAPES.map(([name, c, kernel]): CaseEntry => ({ name: `grouped rows ${name}`, case: c, kernels: { ...DEFAULT_KERNEL_CHOICE, grouped: ROWS_TILE }, kernel })),
  ...ROW_SHAPES.slice(0, 2).map(([name, c, kernel]): CaseEntry => ({
    name: `grouped rows ${name} [f16-packed]`, case: { ...c, precision: 'f16-packed' }, kernels: { ...DEFAULT_KERNEL_CHOICE, grouped: ROWS_TILE }, kernel,
  })),
];
