/** Residual blocks (both designs) and whole networks. */
import type { GpuCase } from './gpu-cases.ts';

/** Block cases: every variant of both residual designs. */
export const BLOCK_CASES: readonly GpuCase[] = [
  { kind: 'invertedResidual', n: 1, inC: 32, outC: 16, size: 14, stride: 1, expandRatio: 1 },
  { kind: 'invertedResidual', n: 2, inC: 24, outC: 24, size: 9, stride: 1, expandRatio: 6 },
  { kind: 'invertedResidual', n: 1, inC: 16, outC: 24, size: 15, stride: 2, expandRatio: 6 },
  { kind: 'invertedResidual', n: 1, inC: 12, outC: 12, size: 7, stride: 1, expandRatio: 1 },
  { kind: 'bottleneck', n: 1, inC: 64, width: 16, size: 9, stride: 1, downsample: false },
  { kind: 'bottleneck', n: 2, inC: 32, width: 16, size: 9, stride: 2, downsample: true },
  { kind: 'bottleneck', n: 1, inC: 16, width: 16, size: 8, stride: 1, downsample: true },
];

/**
 * Whole networks: MobileNetV2 at its real 224 input and ResNet-50 at 64x64 (the CPU oracle stays quick), compared
 * on logits; smaller variants with odd sizes, batch 2 and the softmax head.
 */
export const NETWORK_CASES: readonly GpuCase[] = [
  { kind: 'mobilenetV2', n: 1, inputSize: 224 },
  { kind: 'resnet50', n: 1, inputSize: 64 },
  { kind: 'resnet50', n: 2, inputSize: 33, numClasses: 10, softmax: true },
  { kind: 'mobilenetV2', n: 2, inputSize: 96, widthMultiplier: 0.5, numClasses: 10, softmax: true },
];
