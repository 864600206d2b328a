/**
 * The tiered upgrade's tiles (`SOFTWARE_UPGRADE_KERNELS`) on the dense families against the CPU reference, each case
 * with the program-key prefix of the tile it must run: dense KxK convs on the conv2d shape rule's 16 x 4 wrapped
 * tile (and its 8 x 2 fallback on a launch of one workgroup), grouped convs on the row form with 4 output vec4s per
 * invocation (one on 4 channels per group), and
 * a 7x7 RGB stem on 8 x 2 and a 4x4 stride-4 one narrowed to 5 columns (`MAX_STEM_SPAN`), dilated depthwise convs
 * on the row kernel, 1x1 convs on the pointwise shape rule's 16 x 8 (one with its last vec4 group padded). f32, and f16-packed on the first.
 */
import { SOFTWARE_UPGRADE_KERNELS } from '../src/runtime/kernel-choice.ts';
import type { CaseEntry } from './case-share.ts';
import type { ConvCase, GpuCase } from './gpu-cases.ts';

const conv = (inC: number, hw: [number, number], outC: number, kernel: number, stride: number, extra: Partial<ConvCase> = {}): ConvCase => ({
  kind: 'conv', n: 1, inC, h: hw[0], w: hw[1], outC, kernel, stride, pad: (kernel - 1) / 2, groups: 1, bias: true, activation: 'relu', residual: false, ...extra,
});

const entry = (name: string, c: GpuCase, kernel: string): CaseEntry => ({ name: `upgrade: ${name}`, case: c, kernels: SOFTWARE_UPGRADE_KERNELS, kernel });

// 20 x 21 = 420 pixels: 27 tiles of 16 x 4 vec4 groups = 108 invocations, 2 workgroups (the last tile partial).
const WIDE = conv(12, [20, 21], 64, 3, 1, { residual: true, activation: 'none' });

export const UPGRADE_CASES: readonly CaseEntry[] = [
  entry('3x3 on 16 x 4 wrapped', WIDE, 'conv2d/wrap/k3x3/p16v4/'),
  entry('3x3 on 16 x 4 wrapped [f16-packed]', { ...WIDE, precision: 'f16-packed' }, 'conv2d/wrap/k3x3/p16v4/'),
  // 3 x 3 = 9 pixels x 6 vec4s: one workgroup at 16 x 4 too, so the rule keeps the default's 8 x 2.
  entry('3x3 on a 3x3 map keeps 8 x 2', conv(8, [3, 3], 24, 3, 1), 'conv2d/wrap/k3x3/p8v2/'),
  entry('grouped 3x3, 16 per group, 4 vec4s', conv(64, [9, 11], 64, 3, 1, { groups: 4, batchNorm: true }), 'grouped-rows/k3x3/s1x1/p8v4/aligned/'),
  // ResNeXt-50's first stage: 4 channels per group on the row form.
  entry('grouped 3x3, 4 per group, on the row form', conv(32, [10, 13], 32, 3, 1, { groups: 8, residual: true }), 'grouped-rows/k3x3/s1x1/i1/p8v1/'),
  entry('7x7 RGB stem stride 2 on 8 x 2', conv(3, [23, 19], 16, 7, 2), 'conv-stem/k7x7/s2/c3/p8v2/'),
  // ConvNeXt's patchify stem: at 8 columns its span (32) took SwiftShader's compiler past 6 GB.
  entry('4x4 RGB stem stride 4 narrowed to 5 columns', conv(3, [26, 43], 16, 4, 4, { pad: 0 }), 'conv-stem/k4x4/s4/c3/p5v2/'),
  // Dilated depthwise convs on the row kernel with the dilation baked in (`dilatedRowColumns`): DeepLabV3's 5x5
  // dilation 2 at 8 columns with odd channels, batch 2 and a shortcut; 3x3 dilation 3 at stride 2 (a span of 7 + 7).
  entry('depthwise 5x5 dilation 2 on the row kernel', conv(10, [11, 13], 10, 5, 1, { n: 2, groups: 10, dilation: 2, pad: 4, residual: true, activation: 'relu6' }), 'depthwise-rows/k5x5/s1x1/d2x2/p8/'),
  entry('depthwise 3x3 dilation 3 stride 2 on the row kernel', conv(12, [14, 9], 12, 3, 2, { groups: 12, dilation: 3, pad: 3 }), 'depthwise-rows/k3x3/s2x2/d3x3/p5/'),
  // 16 output vec4s: the pointwise shape rule takes 8 of them per invocation (no channel padding), 16 pixels.
  entry('1x1 on 16 x 8', conv(12, [20, 21], 64, 1, 1, { residual: true, activation: 'relu6' }), 'pointwise/p16v8w4/'),
  // 52 channels = 13 vec4s: the rule pads the last group of 8 (3 vec4s past the layer's) rather than take 2 per invocation.
  entry('1x1 on 16 x 8 with padded channels', conv(20, [7, 7], 52, 1, 1, { residual: true, activation: 'none' }), 'pointwise/p16v8w4/'),
];
