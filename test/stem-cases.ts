/**
 * RGB stems on the stem family (shared input columns per kernel row, real channels only, unchecked interior
 * loads) against the CPU reference: MobileNetV2 / EfficientNet 3x3 stride 2, ResNet 7x7 stride 2, MobileNetV3's
 * 16 outputs with hard-swish, 1 to 4 input channels, odd output channel counts, odd input sides, batch 2, a map
 * narrower than one invocation's columns, residual and each fused activation; every tile the tuner tries; f32,
 * f16-packed and native f16 (skipped where the adapter lacks `shader-f16`).
 */
import { STEM_CONV_TILES } from '../shaders/conv-stem/index.ts';
import type { StemConvTile } from '../shaders/conv-stem/index.ts';
import type { StoragePrecision } from '../shaders/common.ts';
import { DEFAULT_KERNEL_CHOICE } from '../src/runtime/kernel-choice.ts';
import type { ActivationName, GpuCase } from './gpu-cases.ts';
import type { TileCase } from './tile-cases.ts';

const stem = (n: number, inC: number, hw: [number, number], outC: number, kernel: number, stride: number, extra: { act?: ActivationName; residual?: boolean; batchNorm?: boolean } = {}): GpuCase => ({
  kind: 'conv', n, inC, h: hw[0], w: hw[1], outC, kernel, stride, pad: (kernel - 1) / 2, dilation: 1, groups: 1,
  bias: !extra.batchNorm, batchNorm: extra.batchNorm ?? false, activation: extra.act ?? 'relu6', residual: extra.residual ?? false,
});

const SHAPES: readonly [string, GpuCase][] = [
  ['MobileNetV2 3x3 stride 2, 32 out, odd sides', stem(1, 3, [17, 19], 32, 3, 2, { batchNorm: true })],
  ['ResNet 7x7 stride 2, 64 out, batch 2, odd sides', stem(2, 3, [19, 23], 64, 7, 2, { batchNorm: true, act: 'relu' })],
  ['MobileNetV3 3x3 stride 2, 16 out, hard-swish', stem(1, 3, [15, 16], 16, 3, 2, { batchNorm: true, act: 'fn:hard-swish' })],
  ['EfficientNet 3x3 stride 2, 32 out, SiLU, batch 2', stem(2, 3, [13, 12], 32, 3, 2, { batchNorm: true, act: 'fn:silu' })],
  ['4 channels, 3x3 stride 1, 9 out, residual', stem(1, 4, [7, 9], 9, 3, 1, { act: 'none', residual: true })],
  ['3 channels, 5x5 stride 2, 7 out', stem(1, 3, [11, 10], 7, 5, 2, { act: 'relu' })],
  ['1 channel, 3x3 stride 1, 5 out, batch 2', stem(2, 1, [6, 5], 5, 3, 1, { act: 'none' })],
  ['2 channels, 3x3 stride 2, 13 out', stem(1, 2, [9, 7], 13, 3, 2, { act: 'relu6' })],
  ['7x7 stride 2 on a 3x2 map (narrower than a tile)', stem(1, 3, [3, 2], 6, 7, 2, { act: 'relu' })],
];

const tileName = (t: StemConvTile) => `p${t.pixelsPerThread}v${t.vec4sPerThread}`;

function cases(precision: StoragePrecision): TileCase[] {
  const suffix = precision === 'f32' ? '' : ` [${precision}]`;
  const withPrecision = (c: GpuCase): GpuCase => (precision === 'f32' ? c : { ...c, precision });
  // The walking tile has its own cases (STEM_WALK_CASES) and the tiles group's.
  const [first, ...others] = STEM_CONV_TILES.filter((t) => t.walkColumns === undefined);
  return [
    ...SHAPES.map(([name, c]): TileCase => ({ name: `stem ${tileName(first)}, ${name}${suffix}`, case: withPrecision(c), kernels: { ...DEFAULT_KERNEL_CHOICE, stem: first } })),
    // Every other tile on the two stems of the zoo's networks.
    ...others.flatMap((tile) => SHAPES.slice(0, 2).map(([name, c]): TileCase => ({
      name: `stem ${tileName(tile)}, ${name}${suffix}`, case: withPrecision(c), kernels: { ...DEFAULT_KERNEL_CHOICE, stem: tile },
    }))),
  ];
}

export const STEM_CASES: readonly TileCase[] = cases('f32');
export const STEM_F16_CASES: readonly TileCase[] = [...cases('f16-packed'), ...cases('f16')];

/** Walking stem tiles (`walkColumns`): the software default's 28, and 3 (several walks per row, a short last one). */
const WALK_TILES: readonly StemConvTile[] = [28, 3].map((walkColumns) => ({ family: 'stem', pixelsPerThread: 4, vec4sPerThread: 2, walkColumns }));

/** Stems small enough to walk (`stemWalks`: 3x3 windows on at most 3 channels). */
const WALK_SHAPES: readonly [string, GpuCase][] = [
  ...SHAPES.filter(([, c]) => c.kind === 'conv' && c.kernel === 3 && c.inC <= 3),
  ['3 channels, 3x3 stride 1, 8 out, residual', stem(1, 3, [6, 7], 8, 3, 1, { act: 'none', residual: true })],
  // 25 weight vec4s walk too; at stride 4 a step loads 20 columns, which short-circuit masks made SwiftShader's
  // compiler run out of memory on (found by the shape fuzzer, test/conv-fuzz-cases.ts).
  ['1 channel, 5x5 stride 4, batch 2', stem(2, 1, [24, 8], 78, 5, 4, { act: 'relu6' })],
];

/**
 * The walking kernel (shaders/conv-stem/walk.ts), Node runner only: the default walk on the walking shapes but
 * MobileNetV2's and a 3-column walk on two, at f32 (the tiles group runs the walk on an RGB 3x3 stride-2 stem at
 * f32 and in the f16 modes). `kernel`: the program-key prefix that must have run.
 */
export const STEM_WALK_CASES: readonly (TileCase & { readonly kernel: string })[] = [
  ...WALK_SHAPES.slice(1).map(([name, c]) => [name, c, WALK_TILES[0]] as const),
  ...[WALK_SHAPES[0], WALK_SHAPES[WALK_SHAPES.length - 2]].map(([name, c]) => [name, c, WALK_TILES[1]] as const),
].map(([name, c, tile]) => {
  if (c.kind !== 'conv') throw new Error('stem cases are convs');
  return {
    name: `stem walk ${String(tile.walkColumns)}, ${name}`,
    case: c,
    kernels: { ...DEFAULT_KERNEL_CHOICE, stem: tile },
    kernel: `conv-stem/k${c.kernel}x${c.kernel}/s${c.stride}/c${c.inC}/walk${String(tile.walkColumns)}/`,
  };
});
