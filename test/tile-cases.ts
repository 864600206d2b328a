/**
 * Every register tile the autotuner can choose, applied to convolutions whose shapes leave partial tiles at
 * the edges (odd widths, channel counts that are not multiples of the tile), so each variant is checked
 * against the CPU reference.
 */
import { SPLIT_K_MAX_TILES } from '../shaders/conv-shared/geometry.ts';
import { TILE_CANDIDATES } from '../src/runtime/autotune.ts';
import type { KernelChoice } from '../src/runtime/kernel-choice.ts';
import { DEFAULT_KERNEL_CHOICE, GPU_KERNEL_CHOICE } from '../src/runtime/kernel-choice.ts';
import type { GpuCase } from './gpu-cases.ts';
import { ATROUS_CASES } from './atrous-cases.ts';

export interface TileCase {
  readonly name: string;
  readonly case: GpuCase;
  readonly kernels: KernelChoice;
}

const SHAPES: Record<keyof typeof TILE_CANDIDATES, GpuCase> = {
  pointwise: { kind: 'conv', n: 2, inC: 12, h: 5, w: 7, outC: 22, kernel: 1, stride: 1, pad: 0, groups: 1, bias: true, activation: 'relu6', residual: true },
  conv2d: { kind: 'conv', n: 1, inC: 6, h: 9, w: 11, outC: 18, kernel: 3, stride: 2, pad: 1, groups: 1, bias: true, activation: 'relu', residual: false },
  depthwise: { kind: 'conv', n: 2, inC: 10, h: 7, w: 13, outC: 10, kernel: 3, stride: 1, pad: 1, groups: 10, bias: true, activation: 'none', residual: true },
};

/** Grouped tiles (the grouped family) get grouped convs of the same kinds: 4 and 8 channels per group. */
const GROUPED_SHAPES: Record<'pointwise' | 'conv2d', GpuCase> = {
  pointwise: { kind: 'conv', n: 2, inC: 12, h: 5, w: 7, outC: 24, kernel: 1, stride: 1, pad: 0, groups: 3, bias: true, activation: 'relu6', residual: true },
  conv2d: { kind: 'conv', n: 1, inC: 16, h: 9, w: 11, outC: 32, kernel: 3, stride: 2, pad: 1, groups: 2, bias: true, activation: 'relu', residual: false },
};

/** Stem tiles (the stem family) get an RGB stem: 3 input channels, 3x3 stride 2 on odd sides. */
const STEM_SHAPE: GpuCase = { kind: 'conv', n: 1, inC: 3, h: 13, w: 11, outC: 18, kernel: 3, stride: 2, pad: 1, groups: 1, bias: true, activation: 'relu', residual: false };

/**
 * Split-K tiles get shapes with K = 63 input vec4s: 2, 4, 8 and 16 slices of whole staging steps (32, 16, 8, 4
 * vec4s; the last slice shorter), channel counts that leave padding lanes, partial tiles at the edges.
 */
const SPLIT_K_SHAPES: Record<'pointwise' | 'conv2d', GpuCase> = {
  pointwise: { kind: 'conv', n: 2, inC: 250, h: 5, w: 7, outC: 22, kernel: 1, stride: 1, pad: 0, groups: 1, bias: true, activation: 'relu6', residual: true },
  conv2d: { kind: 'conv', n: 1, inC: 26, h: 9, w: 11, outC: 18, kernel: 3, stride: 2, pad: 1, groups: 1, bias: true, activation: 'relu', residual: false },
};

const SHARED_TILE = { family: 'conv-shared', pixelsPerThread: 4, vec4sPerThread: 2 } as const;

/** The GPU default's workgroup-memory tile with K split `splitK` ways. */
const splitTile = (splitK: number) => ({ family: 'conv-shared', pixelsPerThread: 2, vec4sPerThread: 2, splitK }) as const;

/**
 * Split-K beyond the candidates' own shapes: ResNet-50's 7x7 3x3 layer scaled down (residual + ReLU), stride 2 on
 * odd sizes at batch 2 (ReLU6), K not a multiple of the split, a strided 1x1, a 1x1 map, 5x5 with dilation, every
 * reduce variant (residual or not, clamp or not); and ResNet-50 with split-K on its layers of few output tiles.
 */
const SPLIT_K_EXTRA: readonly TileCase[] = [
  {
    name: 'split-K 8: 3x3 on a 7x7 map, residual + relu',
    case: { kind: 'conv', n: 1, inC: 64, h: 7, w: 7, outC: 64, kernel: 3, stride: 1, pad: 1, groups: 1, bias: false, batchNorm: true, activation: 'relu', residual: true },
    kernels: { ...DEFAULT_KERNEL_CHOICE, conv2d: splitTile(8) },
  },
  {
    name: 'split-K 4: 3x3 stride 2, 11x9, batch 2, relu6, K = 45 (slices 12, 12, 12, 9)',
    case: { kind: 'conv', n: 2, inC: 20, h: 11, w: 9, outC: 30, kernel: 3, stride: 2, pad: 1, groups: 1, bias: true, activation: 'relu6', residual: false },
    kernels: { ...DEFAULT_KERNEL_CHOICE, conv2d: splitTile(4) },
  },
  {
    name: 'split-K 2: pointwise stride 2, 7x7 -> 4x4, batch norm, no activation',
    case: { kind: 'conv', n: 1, inC: 100, h: 7, w: 7, outC: 36, kernel: 1, stride: 2, pad: 0, groups: 1, bias: false, batchNorm: true, activation: 'none', residual: false },
    kernels: { ...DEFAULT_KERNEL_CHOICE, pointwise: splitTile(2) },
  },
  {
    name: 'split-K 4: 3x3 on a 1x1 map, residual, no activation',
    case: { kind: 'conv', n: 1, inC: 40, h: 1, w: 1, outC: 12, kernel: 3, stride: 1, pad: 1, groups: 1, bias: true, activation: 'none', residual: true },
    kernels: { ...DEFAULT_KERNEL_CHOICE, conv2d: splitTile(4) },
  },
  {
    name: 'split-K 2: 5x5 dilation 2, 9x9',
    case: { kind: 'conv', n: 1, inC: 24, h: 9, w: 9, outC: 20, kernel: 5, stride: 1, pad: 4, dilation: 2, groups: 1, bias: true, activation: 'relu6', residual: false },
    kernels: { ...DEFAULT_KERNEL_CHOICE, conv2d: splitTile(2) },
  },
  {
    name: 'resnet50 64 with the GPU default choice + split-K 4 on layers of at most 8 output tiles',
    case: { kind: 'resnet50', n: 1, inputSize: 64, numClasses: 10, softmax: true },
    kernels: { ...GPU_KERNEL_CHOICE, smallMapSplitK: { splits: 4, maxTiles: 8 } },
  },
  {
    name: `mobilenetV2 96 (batch 2) with the GPU default choice + split-K 2 on layers of at most ${SPLIT_K_MAX_TILES} output tiles`,
    case: { kind: 'mobilenetV2', n: 2, inputSize: 96, widthMultiplier: 0.5, numClasses: 10, softmax: true },
    kernels: { ...GPU_KERNEL_CHOICE, smallMapSplitK: { splits: 2, maxTiles: SPLIT_K_MAX_TILES } },
  },
];

/**
 * Shapes only the workgroup-memory kernels treat specially: strided 1x1, dilation, an RGB stem, K not a multiple
 * of its step; and the split-K fully connected kernel.
 */
const SHARED_EXTRA: readonly TileCase[] = [
  {
    name: 'pointwise stride 2 shared',
    case: { kind: 'conv', n: 1, inC: 20, h: 9, w: 9, outC: 72, kernel: 1, stride: 2, pad: 0, groups: 1, bias: true, activation: 'none', residual: false },
    kernels: { ...DEFAULT_KERNEL_CHOICE, pointwise: SHARED_TILE },
  },
  {
    name: 'conv2d 3x3 dilation 2 shared',
    case: { kind: 'conv', n: 2, inC: 8, h: 10, w: 9, outC: 12, kernel: 3, stride: 1, pad: 2, dilation: 2, groups: 1, bias: true, activation: 'relu6', residual: true },
    kernels: { ...DEFAULT_KERNEL_CHOICE, conv2d: SHARED_TILE },
  },
  {
    name: 'stem 7x7 stride 2 on RGB shared',
    case: { kind: 'conv', n: 1, inC: 3, h: 23, w: 21, outC: 16, kernel: 7, stride: 2, pad: 3, groups: 1, bias: true, activation: 'relu', residual: false },
    kernels: { ...DEFAULT_KERNEL_CHOICE, conv2d: SHARED_TILE, stem: SHARED_TILE },
  },
  {
    name: 'linear split-K, 1 row',
    case: { kind: 'linear', n: 1, inF: 1283, outF: 1001, activation: 'none' },
    kernels: { ...DEFAULT_KERNEL_CHOICE, linear: 'splitK' },
  },
  {
    name: 'linear split-K, 3 rows, clamp',
    case: { kind: 'linear', n: 3, inF: 70, outF: 9, activation: 'relu6' },
    kernels: { ...DEFAULT_KERNEL_CHOICE, linear: 'splitK' },
  },
  // The fused global average pool + FC head (fusePoolLinear) on every kernel the lowering picks for it: pooled
  // split-K (few rows with 'splitK': the GPU default at batch 1), the pooled register GEMV with the GPU default's
  // 2 x 2 tile (batch 2 on GPUs), with 1 x 1 (the register head on the GPU choice), with 4 x 4, and the software
  // default's 1 x 4 and 8 x 4 (which that default does not fuse, but a caller's choice may). KERNEL_CASES run the
  // same heads with each adapter's default choice, fused or not.
  {
    name: 'pool + linear split-K, 1 row',
    case: { kind: 'poolLinear', n: 1, c: 1283, h: 7, w: 7, outF: 1001, bias: true, activation: 'none' },
    kernels: { ...DEFAULT_KERNEL_CHOICE, linear: 'splitK', fusePoolLinear: true },
  },
  {
    name: 'pool + linear split-K, 3 rows, clamp, TFLite head',
    case: { kind: 'poolLinear', n: 3, c: 70, h: 3, w: 3, outF: 9, bias: false, activation: 'relu6', via: 'tflite' },
    kernels: { ...DEFAULT_KERNEL_CHOICE, linear: 'splitK', fusePoolLinear: true },
  },
  {
    name: 'pool + linear with the GPU default choice, 1 row',
    case: { kind: 'poolLinear', n: 1, c: 96, h: 5, w: 5, outF: 37, bias: true, activation: 'relu' },
    kernels: GPU_KERNEL_CHOICE,
  },
  {
    name: 'pool + linear with the GPU default choice, 2 rows',
    case: { kind: 'poolLinear', n: 2, c: 1030, h: 3, w: 3, outF: 77, bias: true, activation: 'none', via: 'reshape' },
    kernels: GPU_KERNEL_CHOICE,
  },
  {
    name: 'pool + linear register head with the GPU choice, 1 row',
    case: { kind: 'poolLinear', n: 1, c: 260, h: 7, w: 7, outF: 300, bias: true, activation: 'relu6', via: 'direct' },
    kernels: { ...GPU_KERNEL_CHOICE, linear: 'register' },
  },
  {
    name: 'pool + linear register 4 x 4 tile, 5 rows',
    case: { kind: 'poolLinear', n: 5, c: 44, h: 2, w: 3, outF: 150, bias: false, activation: 'relu6' },
    kernels: { ...DEFAULT_KERNEL_CHOICE, pointwise: { family: 'pointwise', pixelsPerThread: 4, vec4sPerThread: 4 }, fusePoolLinear: true },
  },
  {
    name: 'pool + linear with the software default fused, 1 row (1 x 4)',
    case: { kind: 'poolLinear', n: 1, c: 1280, h: 7, w: 7, outF: 1000, bias: true, activation: 'none' },
    kernels: { ...DEFAULT_KERNEL_CHOICE, fusePoolLinear: true },
  },
  {
    name: 'pool + linear with the software default fused, 9 rows (8 x 4), TFLite head',
    case: { kind: 'poolLinear', n: 9, c: 40, h: 3, w: 3, outF: 70, bias: true, activation: 'relu', via: 'tflite' },
    kernels: { ...DEFAULT_KERNEL_CHOICE, fusePoolLinear: true },
  },
  {
    name: 'mobilenetV2 96 with the GPU default choice',
    case: { kind: 'mobilenetV2', n: 1, inputSize: 96, widthMultiplier: 0.5, numClasses: 10, softmax: true },
    kernels: GPU_KERNEL_CHOICE,
  },
  {
    name: 'resnet50 33x33 every dense conv shared',
    case: { kind: 'resnet50', n: 2, inputSize: 33, numClasses: 10, softmax: true },
    kernels: { ...DEFAULT_KERNEL_CHOICE, pointwise: SHARED_TILE, conv2d: SHARED_TILE, stem: SHARED_TILE, linear: 'splitK' },
  },
];

export const TILE_CASES: readonly TileCase[] = [...(Object.keys(TILE_CANDIDATES) as (keyof typeof TILE_CANDIDATES)[]).flatMap((kind) =>
  TILE_CANDIDATES[kind].map((tile): TileCase => {
    if (tile.family === 'grouped' && kind !== 'depthwise') {
      return { name: `${kind} p${tile.pixelsPerThread}v${tile.vec4sPerThread} grouped`, case: GROUPED_SHAPES[kind], kernels: { ...DEFAULT_KERNEL_CHOICE, grouped: tile } };
    }
    if (tile.family === 'stem') {
      return { name: `stem p${tile.pixelsPerThread}v${tile.vec4sPerThread}${tile.walkColumns ? ` walk ${tile.walkColumns}` : ''}`, case: STEM_SHAPE, kernels: { ...DEFAULT_KERNEL_CHOICE, stem: tile } };
    }
    const shared = tile.family === 'conv-shared';
    const splitK = shared ? tile.splitK : undefined;
    const vec4s = tile.family === 'depthwise' ? 1 : tile.vec4sPerThread;
    return {
      name: `${kind} p${tile.pixelsPerThread}v${vec4s}${tile.family === 'depthwise' && tile.rowsPerThread ? ` r${tile.rowsPerThread}` : ''}${tile.family === 'depthwise' && tile.rollingRows ? ` rolling ${tile.rollingRows}${tile.fit ? ' fit' : ''}` : ''}${shared ? ' shared' : ''}${splitK ? ` split-K ${splitK}` : ''}`,
      case: splitK && kind !== 'depthwise' ? SPLIT_K_SHAPES[kind] : SHAPES[kind],
      kernels: { ...DEFAULT_KERNEL_CHOICE, [kind]: tile },
    };
  }),
), ...SHARED_EXTRA, ...SPLIT_K_EXTRA, ...ATROUS_CASES];
