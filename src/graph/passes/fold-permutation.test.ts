import { describe, expect, it } from 'vitest';
import { runGraphReference } from '../../reference/index.ts';
import { loadOnnx } from '../../formats/onnx/loader.ts';
import { onnxShuffleNet } from '../../../test/fuzz/shuffle-seeds.ts';
import { GraphBuilder } from '../builder.ts';
import type { Conv2dNode, Graph, TensorId } from '../ir.ts';
import { RELU } from '../ir.ts';
import { channelPermutation, foldChannelPermutations } from './fold-permutation.ts';
import { pruneDeadNodes } from './prune.ts';

/** The 1x1 weights of `out[o] = in[perm[o]]`. */
function permutationWeights(perm: readonly number[]): Float32Array {
  const c = perm.length;
  const w = new Float32Array(c * c);
  perm.forEach((i, o) => (w[o * c + i] = 1));
  return w;
}

const wave = (n: number, k = 1) => Float32Array.from({ length: n }, (_, i) => Math.sin(k * i + 0.5));
const ops = (g: Graph) => g.nodes.map((n) => n.op);

/**
 * x [1, 4, 3, 3] -> permutation(s) (1x1 convs, or a channel shuffle in 2 groups for `'shuffle'`) -> reader;
 * `extra` adds a second reader of the last permutation.
 */
function chain(perms: (number[] | 'shuffle')[], reader: 'dense' | 'depthwise' | 'none', extra = false): Graph {
  const b = new GraphBuilder();
  let y: TensorId = b.input('x', [1, 4, 3, 3]);
  for (const p of perms) y = p === 'shuffle' ? b.shuffleChannels(y, 2) : b.conv2d(y, { outChannels: 4, kernel: 1, weight: permutationWeights(p) });
  const last = y;
  if (reader === 'dense') y = b.conv2d(y, { outChannels: 3, kernel: 3, padding: 1, weight: wave(3 * 4 * 9), bias: wave(3, 2), activation: RELU });
  if (reader === 'depthwise') y = b.conv2d(y, { outChannels: 4, kernel: 3, padding: 1, groups: 4, weight: wave(4 * 9) });
  b.output(y);
  if (extra) b.output(b.activation(last, RELU));
  return b.build();
}

describe('foldChannelPermutations', () => {
  const x = wave(36, 0.7);

  it('recognises permutation 1x1 convs only', () => {
    const g = chain([[2, 0, 3, 1]], 'dense');
    expect(Array.from(channelPermutation(g, g.nodes[0]) ?? [])).toEqual([2, 0, 3, 1]);
    expect(channelPermutation(g, g.nodes[1])).toBeNull();
    const b = new GraphBuilder();
    const input = b.input('x', [1, 2, 1, 1]);
    const notPerm = [
      b.conv2d(input, { outChannels: 2, kernel: 1, weight: Float32Array.from([1, 0, 1, 0]) }),
      b.conv2d(input, { outChannels: 2, kernel: 1, weight: Float32Array.from([0, 2, 1, 0]) }),
      b.conv2d(input, { outChannels: 2, kernel: 1, weight: permutationWeights([1, 0]), bias: Float32Array.from([0, 0]) }),
      b.conv2d(input, { outChannels: 2, kernel: 1, weight: permutationWeights([1, 0]), activation: RELU }),
    ];
    notPerm.forEach((id) => b.output(id));
    const g2 = b.build();
    for (const node of g2.nodes) expect(channelPermutation(g2, node), node.name).toBeNull();
    const s = new GraphBuilder();
    s.output(s.shuffleChannels(s.input('x', [1, 6, 1, 1]), 2));
    const shuffle = s.build();
    expect(Array.from(channelPermutation(shuffle, shuffle.nodes[0]) ?? [])).toEqual([0, 3, 1, 4, 2, 5]);
  });

  it('folds a permutation (and a chain of them) into the dense conv reading it, exactly', () => {
    for (const perms of [[[2, 0, 3, 1]], [[2, 0, 3, 1], [3, 2, 1, 0]], ['shuffle' as const], ['shuffle' as const, [1, 2, 3, 0]]]) {
      const g = chain(perms, 'dense');
      const folded = pruneDeadNodes(foldChannelPermutations(g));
      expect(ops(folded)).toEqual(['conv2d']);
      expect((folded.nodes[0] as Conv2dNode).inputs[0]).toBe(g.inputs[0]);
      expect(runGraphReference(folded, [x])).toEqual(runGraphReference(g, [x]));
    }
  });

  it('leaves a permutation read by a depthwise conv, by two readers or as a graph output', () => {
    for (const g of [chain([[1, 0, 3, 2]], 'depthwise'), chain([[1, 0, 3, 2]], 'dense', true), chain([[1, 0, 3, 2]], 'none'), chain(['shuffle'], 'depthwise')]) {
      expect(foldChannelPermutations(g)).toBe(g);
    }
  });

  it('the ONNX shuffle fuzz seed loads with the shuffle before a dense conv folded and the one before a Split kept', () => {
    const model = loadOnnx(onnxShuffleNet(6));
    const perms = model.graph.nodes.filter((n) => channelPermutation(model.graph, n) !== null);
    expect(perms).toHaveLength(1);
    const out = runGraphReference(model.graph, [wave(108, 0.3)])[0];
    expect(out).toHaveLength(5);
    expect(out.every(Number.isFinite)).toBe(true);
  });
});
