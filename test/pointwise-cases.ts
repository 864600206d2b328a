/**
 * 1x1 convs on a pointwise shape rule (`pointwiseByShape`, shaders/pointwise/shape-tile.ts) against the CPU
 * reference: the workgroup sizes below 64 it picks for small launches (4 on a 7x7 map, 16 on a 28x28 one) and a
 * 3-vec4 tile on 24 channels, with partial pixel tiles, stride 2, residual, a table activation and batch 2; f32,
 * and f16-packed on one. Small tiles (SwiftShader compiles a 16 x 4 pipeline several times slower than an 8 x 2 one,
 * docs/performance.md, the pointwise family on software), so that the cases compile fast. `expectKernel`: the program key prefix the case must run.
 */
import { DEFAULT_KERNEL_CHOICE } from '../src/runtime/kernel-choice.ts';
import type { GpuCase } from './gpu-cases.ts';
import type { TileCase } from './tile-cases.ts';

export interface PointwiseRuleCase extends TileCase {
  readonly expectKernel: string;
}

const ruleCase = (name: string, c: GpuCase, pixels: number, vec4s: number, expectKernel: string): PointwiseRuleCase => ({
  name: `pointwise shape rule, ${name}`, case: c, kernels: { ...DEFAULT_KERNEL_CHOICE, pointwiseByShape: { pixels: [pixels], vec4s: [vec4s] } }, expectKernel,
});

const SMALL_MAP: GpuCase = { kind: 'conv', n: 1, inC: 36, h: 7, w: 7, outC: 32, kernel: 1, stride: 1, pad: 0, groups: 1, bias: true, activation: 'relu6', residual: true };

export const POINTWISE_RULE_CASES: readonly PointwiseRuleCase[] = [
  ruleCase('7x7 map, 36 -> 32, residual + relu6 (8x2, workgroups of 4)', SMALL_MAP, 8, 2, 'pointwise/p8v2w4/'),
  ruleCase('stride 2, 17x21 -> 9x11, batch 2, 20 -> 24, batch norm (4x3, workgroups of 4)',
    { kind: 'conv', n: 2, inC: 20, h: 17, w: 21, outC: 24, kernel: 1, stride: 2, pad: 0, groups: 1, bias: false, batchNorm: true, activation: 'none', residual: false }, 4, 3, 'pointwise/p4v3w4/'),
  ruleCase('28x28 map, 12 -> 48, SiLU (8x2, workgroups of 16)',
    { kind: 'conv', n: 1, inC: 12, h: 28, w: 28, outC: 48, kernel: 1, stride: 1, pad: 0, groups: 1, bias: true, activation: 'fn:silu', residual: false }, 8, 2, 'pointwise/p8v2w16/'),
  ruleCase('7x7 map, 36 -> 32, residual + relu6 (8x2, workgroups of 4) [f16-packed]', { ...SMALL_MAP, precision: 'f16-packed' }, 8, 2, 'pointwise/p8v2w4/'),
];
