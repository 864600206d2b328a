/**
 * Every register tile the autotuner can choose, applied to convolutions whose shapes leave partial tiles at
 * the edges (odd widths, channel counts that are not multiples of the tile), so each variant is checked
 * against the CPU reference.
 */
import { TILE_CANDIDATES } from '../src/runtime/autotune.ts';
import type { KernelChoice } from '../src/runtime/lowering.ts';
import { DEFAULT_KERNEL_CHOICE, GPU_KERNEL_CHOICE } from '../src/runtime/lowering.ts';
import type { GpuCase } from './gpu-cases.ts';

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

const SHARED_TILE = { pixelsPerThread: 4, vec4sPerThread: 2, shared: true } as const;

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

export const TILE_CASES: readonly TileCase[] = [...(Object.keys(TILE_CANDIDATES) as (keyof typeof TILE_CANDIDATES)[]).flatMap((family) =>
  TILE_CANDIDATES[family].map((tile) => ({
    name: `${family} p${tile.pixelsPerThread}v${tile.vec4sPerThread}${tile.shared ? ' shared' : ''}`,
    case: SHAPES[family],
    kernels: {
      ...DEFAULT_KERNEL_CHOICE,
      [family]: family === 'depthwise' ? { pixelsPerThread: tile.pixelsPerThread } : tile,
    },
  })),
), ...SHARED_EXTRA];
