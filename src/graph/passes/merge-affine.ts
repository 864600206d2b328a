import type { BatchNormNode, Graph, GraphNode, TensorId } from '../ir.ts';
import { scaledWeightFactor } from './fold-batchnorm.ts';
import { producers, readerCounts, soleReader } from './util.ts';

/**
 * Where a pass's new arrays come from: a loader passes its load budget, so that a hostile file cannot make the
 * pass allocate without limit; the default allocates plainly.
 */
export interface PassAllocator {
  floats(count: number, what: string): Float32Array;
  charge(bytes: number, what: string): void;
}

const PLAIN: PassAllocator = { floats: (count) => new Float32Array(count), charge: () => {} };

/**
 * Folds per-channel affine nodes (`scale * x + shift` depthwise 1x1 convs, `affine` lists their outputs) into
 * the conv, linear or batch norm that produced their input, when they are its only reader and it has no
 * activation or residual yet. A conv takes the scale as a weight factor (as batch-norm folding does, see
 * `scaledWeightFactor`) and `bias * scale + shift` as bias; a linear layer, which has no factor, gets scaled
 * rows; a batch norm scales gamma and beta.
 */
export function mergeAffineNodes(graph: Graph, affine: ReadonlySet<TensorId>, alloc: PassAllocator = PLAIN): Graph {
  if (affine.size === 0) return graph;
  const counts = readerCounts(graph);
  const made = producers(graph);
  const current = new Map<GraphNode, GraphNode>();
  const removed = new Set<GraphNode>();
  for (const node of graph.nodes) {
    if (node.op !== 'conv2d' || !affine.has(node.output)) continue;
    const original = made.get(node.inputs[0]);
    if (!original || removed.has(original) || !soleReader(counts, graph, node.inputs[0])) continue;
    const src = current.get(original) ?? original;
    const scale = node.attrs.weight;
    const shift = node.attrs.bias!;
    let merged: GraphNode | undefined;
    if ((src.op === 'conv2d' && src.inputs.length === 1) || src.op === 'linear') {
      if (src.attrs.activation.kind !== 'none') continue;
      const rows = src.op === 'conv2d' ? src.attrs.outChannels : src.attrs.outFeatures;
      const newBias = (): Float32Array => {
        const bias = alloc.floats(rows, `${src.name}: merged bias`);
        for (let o = 0; o < rows; o++) bias[o] = (src.attrs.bias ? src.attrs.bias[o] : 0) * scale[o] + shift[o];
        return bias;
      };
      if (src.op === 'conv2d') {
        // A factor of exactly 1 (a constant Add) leaves the weights as they are.
        const weightScale = scale.every((s) => s === 1) ? src.attrs.weightScale : scaledWeightFactor(src.attrs.weightScale, scale);
        merged = { ...src, output: node.output, attrs: { ...src.attrs, weightScale, bias: newBias() } };
      } else {
        const source = src.attrs.weight;
        const perRow = source.length / rows;
        const weight = alloc.floats(source.length, `${src.name}: merged weights`);
        for (let o = 0; o < rows; o++) for (let i = 0; i < perRow; i++) weight[o * perRow + i] = source[o * perRow + i] * scale[o];
        merged = { ...src, output: node.output, attrs: { ...src.attrs, weight, bias: newBias() } };
      }
    } else if (src.op === 'batchNorm') {
      const p = src.attrs;
      alloc.charge(8 * p.gamma.length, `${src.name}: merged batch norm`);
      const gamma = p.gamma.map((g, i) => g * scale[i]);
      const beta = p.beta.map((b, i) => b * scale[i] + shift[i]);
      merged = { ...src, output: node.output, attrs: { ...p, gamma, beta } } as BatchNormNode;
    }
    if (!merged) continue;
    removed.add(original);
    current.set(node, merged);
  }
  const nodes = graph.nodes.filter((n) => !removed.has(n)).map((n) => current.get(n) ?? n);
  return { ...graph, nodes };
}
