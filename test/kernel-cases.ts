/** Single-op kernel cases: every kernel variant the lowering can pick, edge shapes, batch 2 (`KERNEL_CASES`). */
import type { GpuCase } from './gpu-cases.ts';
import { ACTIVATION_CASES } from './activation-cases.ts';
import { BINARY_CASES } from './binary-cases.ts';
import { INPUT_TRANSFORM_CASES } from './input-transform-cases.ts';
import { MATMUL_CASES } from './matmul-cases.ts';

/**
 * The upsampling ops (issue #16, for segmentation): resize in every coordinate mode (up, down, odd ratios,
 * scales that are not size ratios, TFLite's modes), arg max (ties, channels not a multiple of 4), transposed
 * convolutions (strides, pads, output padding, dilation, groups).
 */
export const UPSAMPLE_CASES: readonly GpuCase[] = [
  { kind: 'resize', shape: [1, 5, 4, 3], mode: 'linear', size: [8, 6], coordinates: 'half_pixel' },
  { kind: 'resize', shape: [2, 3, 5, 7], mode: 'linear', size: [9, 4], coordinates: 'align_corners' },
  { kind: 'resize', shape: [1, 6, 3, 4], mode: 'linear', size: [7, 9], coordinates: 'asymmetric' },
  { kind: 'resize', shape: [1, 2, 4, 4], mode: 'linear', size: [1, 6], coordinates: 'pytorch_half_pixel' },
  { kind: 'resize', shape: [1, 4, 5, 5], mode: 'linear', size: [7, 7], scale: [1.5, 1.5], coordinates: 'half_pixel' },
  { kind: 'resize', shape: [2, 5, 3, 4], mode: 'nearest', size: [6, 8], coordinates: 'asymmetric', nearest: 'floor' },
  { kind: 'resize', shape: [1, 3, 5, 7], mode: 'nearest', size: [9, 13], coordinates: 'align_corners', nearest: 'round_prefer_floor' },
  { kind: 'resize', shape: [1, 3, 5, 7], mode: 'nearest', size: [9, 13], coordinates: 'align_corners', nearest: 'round_prefer_ceil' },
  { kind: 'resize', shape: [1, 7, 8, 6], mode: 'nearest', size: [3, 4], coordinates: 'half_pixel', nearest: 'ceil' },
  { kind: 'resize', shape: [1, 4, 6, 6], mode: 'nearest', size: [9, 9], coordinates: 'half_pixel', nearest: 'round_prefer_floor' },
  { kind: 'argMax', shape: [2, 21, 5, 4] },
  { kind: 'argMax', shape: [1, 6, 3, 3], ties: true },
  { kind: 'argMax', shape: [1, 1, 2, 3] },
  { kind: 'convTranspose', shape: [1, 4, 3, 3], outC: 5, kernel: 3, stride: 2, pad: 1, outputPadding: 1, bias: true },
  { kind: 'convTranspose', shape: [2, 3, 4, 5], outC: 8, kernel: 4, stride: 2, pad: 1, bias: false },
  { kind: 'convTranspose', shape: [1, 6, 3, 4], outC: 4, kernel: 3, stride: 1, pad: 0, dilation: 2, groups: 2, bias: true },
  { kind: 'convTranspose', shape: [1, 5, 2, 2], outC: 3, kernel: 2, stride: 3, pad: 0, outputPadding: 2, bias: true },
];

/** Layer norm over channels (ConvNeXt): odd and vec4-sized C, batch 2, and inside a ConvNeXt block. */
export const LAYER_NORM_CASES: readonly GpuCase[] = [
  { kind: 'layerNorm', shape: [2, 7, 3, 5], beta: true },
  { kind: 'layerNorm', shape: [1, 8, 4, 4], beta: false },
  { kind: 'layerNorm', shape: [2, 96, 2, 3], beta: true },
  { kind: 'layerNorm', shape: [1, 1, 2, 2], beta: true },
  { kind: 'layerNorm', shape: [2, 12, 8, 8], beta: true, block: true },
];

/** Kernel cases: every kernel variant the lowering can pick, edge shapes, batch 2. */
export const KERNEL_CASES: readonly GpuCase[] = [
  // Pointwise: plain, strided (ResNet downsample), odd channels, 1x1 maps, batch 2, residual + ReLU, ReLU6, BN.
  { kind: 'conv', n: 1, inC: 16, h: 12, w: 12, outC: 24, kernel: 1, stride: 1, pad: 0, groups: 1, bias: true, activation: 'relu6', residual: false },
  { kind: 'conv', n: 2, inC: 13, h: 7, w: 5, outC: 9, kernel: 1, stride: 1, pad: 0, groups: 1, bias: true, activation: 'none', residual: false },
  { kind: 'conv', n: 2, inC: 32, h: 9, w: 9, outC: 40, kernel: 1, stride: 2, pad: 0, groups: 1, bias: false, batchNorm: true, activation: 'none', residual: false },
  { kind: 'conv', n: 1, inC: 20, h: 6, w: 7, outC: 20, kernel: 1, stride: 1, pad: 0, groups: 1, bias: true, batchNorm: true, activation: 'relu', residual: true },
  { kind: 'conv', n: 2, inC: 24, h: 5, w: 5, outC: 24, kernel: 1, stride: 1, pad: 0, groups: 1, bias: true, activation: 'none', residual: true },
  { kind: 'conv', n: 1, inC: 7, h: 1, w: 1, outC: 5, kernel: 1, stride: 1, pad: 0, groups: 1, bias: true, activation: 'relu', residual: false },
  { kind: 'conv', n: 1, inC: 8, h: 3, w: 3, outC: 3, kernel: 1, stride: 2, pad: 0, groups: 1, bias: true, activation: 'relu6', residual: true },
  // Depthwise 3x3: stride 1 and 2, odd sizes, channel counts not multiples of 4, 1x1 map, batch 2, residual.
  { kind: 'conv', n: 1, inC: 32, h: 14, w: 14, outC: 32, kernel: 3, stride: 1, pad: 1, groups: 32, bias: true, activation: 'relu6', residual: false },
  { kind: 'conv', n: 2, inC: 18, h: 11, w: 9, outC: 18, kernel: 3, stride: 2, pad: 1, groups: 18, bias: false, batchNorm: true, activation: 'relu6', residual: false },
  { kind: 'conv', n: 1, inC: 5, h: 1, w: 1, outC: 5, kernel: 3, stride: 1, pad: 1, groups: 5, bias: true, activation: 'none', residual: false },
  { kind: 'conv', n: 2, inC: 7, h: 6, w: 6, outC: 7, kernel: 3, stride: 1, pad: 1, groups: 7, bias: true, activation: 'relu', residual: true },
  { kind: 'conv', n: 1, inC: 8, h: 10, w: 10, outC: 8, kernel: 5, stride: 2, pad: 2, groups: 8, dilation: 1, bias: true, activation: 'none', residual: false },
  { kind: 'conv', n: 1, inC: 8, h: 9, w: 9, outC: 8, kernel: 3, stride: 1, pad: 2, groups: 8, dilation: 2, bias: true, activation: 'none', residual: false },
  // Dilated depthwise convs (the general kernel here; the upgrade's row kernel in test/upgrade-cases.ts):
  // DeepLabV3-MobileNetV3's 5x5 dilation 2 with odd channels, batch 2 and a shortcut; dilation 3 at stride 2.
  { kind: 'conv', n: 2, inC: 10, h: 11, w: 13, outC: 10, kernel: 5, stride: 1, pad: 4, groups: 10, dilation: 2, bias: true, activation: 'relu6', residual: true },
  { kind: 'conv', n: 1, inC: 12, h: 14, w: 9, outC: 12, kernel: 3, stride: 2, pad: 3, groups: 12, dilation: 3, bias: true, activation: 'none', residual: false },
  // Dense: MobileNetV2 stem (3 -> 32, 3x3/2), ResNet stem (7x7/2 pad 3), ResNet middle 3x3 stride 1 and 2.
  { kind: 'conv', n: 1, inC: 3, h: 17, w: 17, outC: 32, kernel: 3, stride: 2, pad: 1, groups: 1, bias: false, batchNorm: true, activation: 'relu6', residual: false },
  { kind: 'conv', n: 2, inC: 3, h: 19, w: 21, outC: 16, kernel: 7, stride: 2, pad: 3, groups: 1, bias: false, batchNorm: true, activation: 'relu', residual: false },
  { kind: 'conv', n: 1, inC: 16, h: 9, w: 9, outC: 16, kernel: 3, stride: 1, pad: 1, groups: 1, bias: true, activation: 'relu', residual: false },
  { kind: 'conv', n: 2, inC: 10, h: 8, w: 7, outC: 14, kernel: 3, stride: 2, pad: 1, groups: 1, bias: true, activation: 'none', residual: true },
  { kind: 'conv', n: 1, inC: 6, h: 1, w: 1, outC: 6, kernel: 3, stride: 1, pad: 1, groups: 1, bias: true, activation: 'relu6', residual: false },
  { kind: 'conv', n: 1, inC: 4, h: 6, w: 6, outC: 6, kernel: 1, stride: 1, pad: 1, groups: 1, bias: true, activation: 'none', residual: false },
  // Grouped conv and depthwise with multiplier: the grouped family under the software default (the dense kernel with
  // block-diagonal weights under the GPU default).
  { kind: 'conv', n: 1, inC: 8, h: 6, w: 6, outC: 12, kernel: 3, stride: 1, pad: 1, groups: 4, bias: true, activation: 'relu', residual: false },
  { kind: 'conv', n: 1, inC: 4, h: 5, w: 5, outC: 8, kernel: 3, stride: 2, pad: 1, groups: 4, bias: true, activation: 'none', residual: false },
  // Pools, global average pool, FC, softmax, flatten, unfused add / activation / batch norm.
  { kind: 'maxPool', n: 2, c: 6, h: 11, w: 10, kernel: 3, stride: 2, pad: 1 },
  { kind: 'maxPool', n: 1, c: 5, h: 7, w: 7, kernel: 2, stride: 2, pad: 0, ceilMode: true },
  { kind: 'avgPool', n: 1, c: 6, h: 7, w: 8, kernel: 3, stride: 2, pad: 1, countIncludePad: true },
  { kind: 'avgPool', n: 2, c: 3, h: 7, w: 7, kernel: 3, stride: 2, pad: 1, countIncludePad: false, ceilMode: true },
  // The windowed kernel's 4 output columns: stride 1 (Inception's and GoogLeNet's branch pools), rows not a multiple
  // of 4, a 2x2 average (DenseNet's transitions), a 5x5 window, a 1-wide map; a 9x9 window runs the general kernel.
  { kind: 'maxPool', n: 2, c: 5, h: 9, w: 11, kernel: 3, stride: 1, pad: 1 },
  { kind: 'avgPool', n: 1, c: 7, h: 6, w: 9, kernel: 3, stride: 1, pad: 1, countIncludePad: true },
  { kind: 'avgPool', n: 2, c: 6, h: 5, w: 10, kernel: 3, stride: 1, pad: 1, countIncludePad: false },
  { kind: 'avgPool', n: 1, c: 8, h: 8, w: 14, kernel: 2, stride: 2, pad: 0 },
  { kind: 'maxPool', n: 1, c: 4, h: 13, w: 13, kernel: 5, stride: 2, pad: 2, ceilMode: true },
  { kind: 'maxPool', n: 2, c: 3, h: 5, w: 1, kernel: 3, stride: 1, pad: 1 },
  { kind: 'avgPool', n: 1, c: 5, h: 11, w: 12, kernel: 9, stride: 1, pad: 0 },
  // Height and width apart: a 3x2 window at strides 2 (rows, a uniform) and 1 (columns, baked in), pads top 1, left 0,
  // bottom 0, right 1; a 1x3 average counting padding.
  { kind: 'maxPool', n: 1, c: 6, h: 9, w: 10, kernel: [3, 2], stride: [2, 1], pad: [1, 0, 0, 1] },
  { kind: 'avgPool', n: 2, c: 5, h: 7, w: 9, kernel: [3, 2], stride: [1, 2], pad: [0, 1, 1, 0], countIncludePad: true },
  { kind: 'avgPool', n: 1, c: 4, h: 6, w: 11, kernel: [1, 3], stride: [1, 1], pad: [0, 1], countIncludePad: false },
  { kind: 'globalAvgPool', n: 2, c: 10, h: 7, w: 5 },
  { kind: 'globalAvgPool', n: 1, c: 3, h: 1, w: 1 },
  { kind: 'linear', n: 1, inF: 40, outF: 10, activation: 'none' },
  { kind: 'linear', n: 5, inF: 33, outF: 7, activation: 'relu' },
  { kind: 'linear', n: 9, inF: 33, outF: 7, activation: 'relu6' },
  { kind: 'linear', n: 2, inF: 30, outF: 6, activation: 'none', flattenFrom: [3, 2] },
  // Global average pool + FC heads, fused into one launch: the ImageNet heads' shape (7x7, 1000 out), channel and
  // feature counts that are not multiples of 4, more input vec4s than one workgroup-memory chunk (2100 channels),
  // a 1x1 map, batch 2, with and without bias, clamped, each head spelling. Batch >= 8 takes the row-blocked tile.
  { kind: 'poolLinear', n: 1, c: 1280, h: 7, w: 7, outF: 1000, bias: true, activation: 'none' },
  { kind: 'poolLinear', n: 2, c: 37, h: 3, w: 5, outF: 21, bias: false, activation: 'relu6', via: 'reshape' },
  { kind: 'poolLinear', n: 1, c: 2100, h: 2, w: 2, outF: 300, bias: true, activation: 'relu', via: 'direct' },
  { kind: 'poolLinear', n: 2, c: 64, h: 4, w: 4, outF: 1001, bias: true, activation: 'none', via: 'tflite' },
  { kind: 'poolLinear', n: 1, c: 30, h: 1, w: 1, outF: 10, bias: false, activation: 'none' },
  { kind: 'poolLinear', n: 9, c: 40, h: 3, w: 3, outF: 70, bias: true, activation: 'relu' },
  { kind: 'softmax', n: 2, c: 1001, h: 1, w: 1 },
  { kind: 'softmax', n: 1, c: 3, h: 1, w: 1 },
  { kind: 'flatten', n: 2, c: 5, h: 3, w: 2 },
  { kind: 'add', n: 2, c: 6, h: 4, w: 3, activation: 'relu' },
  { kind: 'activation', n: 1, c: 5, h: 3, w: 3, activation: 'relu6' },
  { kind: 'batchNorm', n: 2, c: 7, h: 3, w: 4 },
  // IR extensions for model loaders (ONNX): general reshape, spatial pad, broadcasting add, softmax over axes.
  { kind: 'reshape', from: [2, 6, 4, 3], to: [2, 3, 8, 3] },
  { kind: 'reshape', from: [1, 5, 3, 4], to: [3, 4, 1, 5] },
  { kind: 'reshape', from: [2, 7, 1, 1], to: [1, 14, 1, 1] },
  { kind: 'reshape', from: [1, 6, 4, 3], to: [1, 6, 12, 1], relu: true },
  { kind: 'pad', shape: [2, 5, 4, 3], pads: [1, 2, 0, 3], value: 0 },
  { kind: 'pad', shape: [1, 4, 6, 5], pads: [-1, 2, 1, -2], value: -1.5 },
  { kind: 'broadcastAdd', a: [2, 6, 5, 4], b: [1, 6, 1, 1] },
  { kind: 'broadcastAdd', a: [1, 1, 5, 4], b: [2, 7, 5, 1], activation: 'relu' },
  { kind: 'broadcastAdd', a: [2, 5, 3, 3], b: [2, 1, 3, 3], activation: 'relu6' },
  { kind: 'softmaxAxes', shape: [2, 7, 3, 4], axes: [1, 1] },
  { kind: 'softmaxAxes', shape: [1, 5, 4, 3], axes: [2, 3] },
  { kind: 'softmaxAxes', shape: [2, 3, 2, 5], axes: [1, 3] },
  { kind: 'softmaxAxes', shape: [3, 2, 2, 2], axes: [0, 0] },
  ...UPSAMPLE_CASES,
  ...BINARY_CASES,
  // ONNX ReduceMean / ReduceMax (global pools over H, W; a pooled view over C).
  { kind: 'reduce', shape: [2, 6, 7, 5], op: 'max', over: 'hw' },
  { kind: 'reduce', shape: [1, 9, 4, 4], op: 'mean', over: 'hw' },
  { kind: 'reduce', shape: [2, 7, 5, 3], op: 'mean', over: 'c' },
  { kind: 'reduce', shape: [1, 12, 3, 4], op: 'max', over: 'c' },
  // Every function of the activation table: standalone and fused into each epilogue.
  ...ACTIVATION_CASES,
  ...LAYER_NORM_CASES,
  // The input-transform fusions but those after a concat (a copy of several launches where lowered alone); all in 'fusion'.
  ...INPUT_TRANSFORM_CASES.filter((c) => c.kind !== 'inputTransform' || c.via !== 'bnAfterConcat'),
  ...MATMUL_CASES,
  // ReduceMean / ReduceMax over C as one kernel: channel counts with padding lanes, one channel, many.
  { kind: 'reduce', shape: [2, 7, 5, 3], op: 'mean', over: 'c', kernel: true },
  { kind: 'reduce', shape: [1, 12, 3, 4], op: 'max', over: 'c', kernel: true },
  { kind: 'reduce', shape: [1, 1, 4, 4], op: 'max', over: 'c', kernel: true },
  { kind: 'reduce', shape: [2, 33, 2, 3], op: 'mean', over: 'c', kernel: true },
];
