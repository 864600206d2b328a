import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../builder.ts';
import type { Conv2dNode, Graph, TensorId } from '../ir.ts';
import { convWeight } from '../ir.ts';
import { foldBatchNorm } from './fold-batchnorm.ts';
import { mergeAffineNodes } from './merge-affine.ts';
import { pruneDeadNodes } from './prune.ts';

const f32 = (...v: number[]): Float32Array => Float32Array.from(v);
const convs = (g: Graph): Conv2dNode[] => g.nodes.filter((n): n is Conv2dNode => n.op === 'conv2d');
// Weights whose products round differently in f32 step by step and in one f64 step.
const W = f32(0.1, 0.7, 1.3, 0.3, 0.9, 1.1);
const A = f32(1.1, 0.3);
const B = f32(0.7, 1.9);

/** x -> conv (2 out channels, 3 in) -> per-channel affines (scale, shift) -> optional batch norm. */
function chain(scales: Float32Array[], batchNorm: boolean): { graph: Graph; affine: Set<TensorId> } {
  const b = new GraphBuilder();
  let y = b.conv2d(b.input('x', [1, 3, 2, 2]), { outChannels: 2, kernel: 1, weight: W, bias: f32(0.5, -0.25) });
  const affine = new Set<TensorId>();
  for (const s of scales) {
    y = b.conv2d(y, { outChannels: 2, kernel: 1, groups: 2, weight: s, bias: f32(0.125, 0.375) });
    affine.add(y);
  }
  if (batchNorm) y = b.batchNorm(y, { gamma: f32(1.5, 0.6), beta: f32(0.1, 0.2), mean: f32(0.3, -0.4), variance: f32(0.9, 1.7), epsilon: 1e-5 });
  b.output(y);
  return { graph: b.build(), affine };
}

/** The weights loading computed before the merge became a pass: rounded to f32 after each factor. */
function stepwise(...factors: Float32Array[]): Float32Array {
  let w = W;
  for (const f of factors) w = Float32Array.from(w, (v, k) => v * f[Math.floor(k / 3)]);
  return w;
}

describe('mergeAffineNodes', () => {
  it('merges a per-channel affine into the conv as a weight factor, without copying the weights', () => {
    const { graph, affine } = chain([A], false);
    const merged = pruneDeadNodes(mergeAffineNodes(graph, affine));
    const [conv] = convs(merged);
    expect(convs(merged)).toHaveLength(1);
    expect(conv.attrs.weight).toBe(W);
    expect(Array.from(conv.attrs.weightScale!)).toEqual(Array.from(A));
    expect(Array.from(convWeight(conv.attrs))).toEqual(Array.from(stepwise(A)));
    expect(Array.from(conv.attrs.bias!)).toEqual(Array.from(f32(0.5 * A[0] + 0.125, -0.25 * A[1] + 0.375)));
  });

  it('rounds once per factor, as loading did, when another factor follows (a chain, or a batch norm folded later)', () => {
    for (const [scales, bn] of [[[A, B], false], [[A], true], [[A, B], true]] as const) {
      const { graph, affine } = chain([...scales], bn);
      const folded = foldBatchNorm(mergeAffineNodes(graph, affine));
      const [conv] = convs(folded);
      const gamma = f32(1.5, 0.6);
      const variance = f32(0.9, 1.7);
      const bnFactor = (o: number) => gamma[o] / Math.sqrt(variance[o] + 1e-5);
      const expected = bn ? Float32Array.from(stepwise(...scales), (v, k) => v * bnFactor(Math.floor(k / 3))) : stepwise(...scales);
      expect(Array.from(convWeight(conv.attrs)), `${scales.length} factors, batch norm ${bn}`).toEqual(Array.from(expected));
    }
  });
});
