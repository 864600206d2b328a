import type { BatchNormNode, Conv2dAttrs, Conv2dNode, Graph, GraphNode, TensorId } from '../ir.ts';
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
  // A batch norm that `foldBatchNorm` will fold into the merged conv (its sole reader).
  const foldsLater = (id: TensorId): boolean => {
    if (!soleReader(counts, graph, id)) return false;
    return graph.nodes.some((n) => n.op === 'batchNorm' && n.inputs[0] === id);
  };
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
        merged = { ...src, output: node.output, attrs: { ...scaleConvWeights(src, scale, foldsLater(node.output), alloc), bias: newBias() } };
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

/**
 * A conv's weights times a per-channel `scale`. Normally the scale becomes the weight factor (no copy). Where
 * another factor already is there or will come (a chain of constants, a batch norm folded at compile time),
 * the weights are rounded to f32 once per factor, as loading always did, so that outputs stay bit-identical.
 */
function scaleConvWeights(conv: Conv2dNode, scale: Float32Array, foldsLater: boolean, alloc: PassAllocator): Conv2dAttrs {
  const a = conv.attrs;
  // A factor of exactly 1 (a constant Add) leaves the weights as they are, unless a factor there must round first.
  if (scale.every((s) => s === 1) && !(a.weightScale && foldsLater)) return a;
  if (!a.weightScale && !foldsLater) return { ...a, weightScale: scaledWeightFactor(undefined, scale) };
  const perOut = a.weight.length / a.outChannels;
  const rounded = (w: Float32Array, factor: ArrayLike<number>): Float32Array => {
    const out = alloc.floats(w.length, `${conv.name}: merged weights`);
    for (let o = 0, k = 0; o < a.outChannels; o++) for (let i = 0; i < perOut; i++, k++) out[k] = w[k] * factor[o];
    return out;
  };
  const weight = a.weightScale ? rounded(a.weight, a.weightScale) : a.weight;
  if (!foldsLater) return { ...a, weight, weightScale: scaledWeightFactor(undefined, scale) };
  return { ...a, weight: rounded(weight, scale), weightScale: undefined };
}
