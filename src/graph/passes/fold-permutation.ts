import { shufflePermutation } from '../channel-shapes.ts';
import type { Conv2dNode, Graph, GraphNode } from '../ir.ts';
import type { PassAllocator } from './merge-affine.ts';
import { readerCounts, soleReader } from './util.ts';

const PLAIN: PassAllocator = { floats: (count) => new Float32Array(count), charge: () => {} };

/**
 * `perm` with `out[o] = in[perm[o]]` when `node` is a channel shuffle or a plain 1x1 convolution whose weights are
 * a permutation matrix, else null.
 */
export function channelPermutation(graph: Graph, node: GraphNode): Int32Array | null {
  if (node.op === 'shuffleChannels') return shufflePermutation(graph.tensors[node.output].shape[1], node.attrs.groups);
  if (node.op !== 'conv2d' || node.inputs.length !== 1) return null;
  const a = node.attrs;
  const plain =
    a.groups === 1 && a.kernel[0] === 1 && a.kernel[1] === 1 && a.stride[0] === 1 && a.stride[1] === 1 && a.pads.every((p) => p === 0) &&
    a.bias === null && a.activation.kind === 'none' && a.weightScale === undefined;
  const c = a.outChannels;
  if (!plain || a.weight.length !== c * c) return null;
  const perm = new Int32Array(c).fill(-1);
  const seen = new Uint8Array(c);
  for (let o = 0; o < c; o++) {
    for (let i = 0; i < c; i++) {
      const v = a.weight[o * c + i];
      if (v === 0) continue;
      if (v !== 1 || perm[o] >= 0 || seen[i]) return null;
      perm[o] = i;
      seen[i] = 1;
    }
    if (perm[o] < 0) return null;
  }
  return perm;
}

/**
 * Folds a channel permutation into the dense convolution that is its only reader: that convolution reads the
 * permutation's input instead, with its input-channel axis permuted (`w'[:, perm[o]] = w[:, o]`, exact). A
 * permutation read by anything else (a depthwise conv, a slice, a concat) stays (a shuffle is one gather launch). The
 * permutation node is left dead for `pruneDeadNodes`.
 */
export function foldChannelPermutations(graph: Graph, alloc: PassAllocator = PLAIN): Graph {
  const counts = readerCounts(graph);
  const nodes = [...graph.nodes];
  let changed = false;
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i];
    const perm = channelPermutation(graph, node);
    if (!perm || !soleReader(counts, graph, node.output)) continue;
    const j = nodes.findIndex((n, k) => k > i && n.inputs.includes(node.output));
    const reader = nodes[j];
    if (!reader || reader.op !== 'conv2d' || reader.attrs.groups !== 1 || reader.inputs[0] !== node.output) continue;
    const r = reader.attrs;
    const c = perm.length;
    const taps = r.kernel[0] * r.kernel[1];
    const weight = alloc.floats(r.weight.length, `folding channel permutation '${node.name}' into '${reader.name}'`);
    for (let o = 0; o < r.outChannels; o++) {
      for (let ch = 0; ch < c; ch++) {
        const from = (o * c + ch) * taps;
        weight.set(r.weight.subarray(from, from + taps), (o * c + perm[ch]) * taps);
      }
    }
    const folded: Conv2dNode = { ...reader, inputs: [node.inputs[0], ...reader.inputs.slice(1)], attrs: { ...r, weight } };
    nodes[j] = folded;
    changed = true;
  }
  return changed ? { ...graph, nodes } : graph;
}
