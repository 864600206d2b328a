/**
 * Atrous (dilated) convolutions at the rates DeepLabV3 uses (ResNet backbones dilate by 2 and 4; ASPP by 6/12/18
 * or 12/24/36; MobileNet backbones dilate depthwise convs by 2 and 4), on maps smaller than the rate so that most
 * taps fall in the padding, through every family that runs them: the register conv2d and depthwise kernels (the
 * default choice), the workgroup-memory kernel, and split-K.
 */
import { DEFAULT_KERNEL_CHOICE, GPU_KERNEL_CHOICE } from '../src/runtime/kernel-choice.ts';
import type { GpuCase } from './gpu-cases.ts';
import type { TileCase } from './tile-cases.ts';

const dense = (h: number, w: number, rate: number, inC = 16, outC = 12, n = 1): GpuCase =>
  ({ kind: 'conv', n, inC, h, w, outC, kernel: 3, stride: 1, pad: rate, dilation: rate, groups: 1, bias: true, activation: 'relu', residual: false });
const depthwise = (h: number, w: number, rate: number, c = 12): GpuCase =>
  ({ kind: 'conv', n: 1, inC: c, h, w, outC: c, kernel: 3, stride: 1, pad: rate, dilation: rate, groups: c, bias: true, activation: 'relu6', residual: false });

const SHARED = { family: 'conv-shared', pixelsPerThread: 4, vec4sPerThread: 2 } as const;

export const ATROUS_CASES: readonly TileCase[] = [
  { name: 'atrous 2, 3x3, 11x9', case: dense(11, 9, 2), kernels: DEFAULT_KERNEL_CHOICE },
  { name: 'atrous 4, 3x3, 9x9, batch 2', case: dense(9, 9, 4, 8, 8, 2), kernels: DEFAULT_KERNEL_CHOICE },
  { name: 'atrous 6, 3x3, 10x8', case: dense(10, 8, 6), kernels: DEFAULT_KERNEL_CHOICE },
  { name: 'atrous 12, 3x3, 13x13', case: dense(13, 13, 12), kernels: DEFAULT_KERNEL_CHOICE },
  { name: 'atrous 18, 3x3, 20x17', case: dense(20, 17, 18), kernels: DEFAULT_KERNEL_CHOICE },
  { name: 'atrous 24, 3x3, 9x9', case: dense(9, 9, 24), kernels: DEFAULT_KERNEL_CHOICE },
  { name: 'atrous 36, 3x3, 40x38', case: dense(40, 38, 36, 8, 8), kernels: DEFAULT_KERNEL_CHOICE },
  { name: 'atrous 12, 3x3, 13x13, workgroup memory', case: dense(13, 13, 12, 20, 12), kernels: { ...DEFAULT_KERNEL_CHOICE, conv2d: SHARED } },
  { name: 'atrous 36, 3x3, 40x38, workgroup memory', case: dense(40, 38, 36, 8, 8), kernels: { ...DEFAULT_KERNEL_CHOICE, conv2d: SHARED } },
  { name: 'atrous 24, 3x3, 25x25, split-K 4', case: dense(25, 25, 24, 40, 8), kernels: { ...DEFAULT_KERNEL_CHOICE, conv2d: { ...SHARED, splitK: 4 } } },
  { name: 'atrous 18, 3x3, GPU default choice', case: dense(19, 21, 18, 32, 16), kernels: GPU_KERNEL_CHOICE },
  { name: 'atrous depthwise 2, 13x11', case: depthwise(13, 11, 2), kernels: DEFAULT_KERNEL_CHOICE },
  { name: 'atrous depthwise 4, 9x9', case: depthwise(9, 9, 4), kernels: DEFAULT_KERNEL_CHOICE },
  { name: 'atrous depthwise 4, GPU default choice', case: depthwise(9, 10, 4, 20), kernels: GPU_KERNEL_CHOICE },
];
