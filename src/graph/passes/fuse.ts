import type { Activation, AddNode, Conv2dNode, Graph, GraphNode, LinearAttrs, LinearNode, TensorId } from '../ir.ts';
import { composeActivations, convWeight } from '../ir.ts';
import { producers, readerCounts, soleReader } from './util.ts';

/**
 * Residual-add fusion: `add(conv(x), r)` becomes `conv(x) + r` in the convolution's epilogue, when the
 * operands have the same shape (not a broadcast), the convolution has no activation yet (the add must come
 * before any clamp) and the add is its only reader.
 * The fused convolution takes the add's place in the node order, where both operands exist. When both
 * operands qualify, the later producer absorbs the add: the earlier operand is then already computed.
 */
export function fuseResidualAdds(graph: Graph): Graph {
  const counts = readerCounts(graph);
  const made = producers(graph);
  const order = new Map(graph.nodes.map((n, i) => [n, i]));
  const replaced = new Map<GraphNode, Conv2dNode>();
  const removed = new Set<GraphNode>();

  const absorbable = (id: TensorId): Conv2dNode | undefined => {
    const p = made.get(id);
    if (p?.op !== 'conv2d' || p.inputs.length !== 1 || p.attrs.activation.kind !== 'none') return undefined;
    if (removed.has(p) || !soleReader(counts, graph, id)) return undefined;
    return p;
  };

  for (const node of graph.nodes) {
    if (node.op !== 'add') continue;
    // A broadcasting add is no residual: the epilogue adds a tensor of the convolution's own shape.
    const [sa, sb] = node.inputs.map((id) => graph.tensors[id].shape);
    if (!sa.every((d, i) => d === sb[i])) continue;
    const candidates = node.inputs
      .map((id, k) => ({ conv: absorbable(id), other: node.inputs[1 - k] }))
      .filter((c): c is { conv: Conv2dNode; other: TensorId } => c.conv !== undefined)
      .sort((a, b) => order.get(b.conv)! - order.get(a.conv)!);
    const pick = candidates[0];
    if (!pick || node.inputs[0] === node.inputs[1]) continue;
    removed.add(pick.conv);
    replaced.set(node, fuseAddIntoConv(pick.conv, node, pick.other));
  }
  const nodes = graph.nodes.filter((n) => !removed.has(n)).map((n) => replaced.get(n) ?? n);
  return { ...graph, nodes };
}

function fuseAddIntoConv(conv: Conv2dNode, add: AddNode, residual: TensorId): Conv2dNode {
  return {
    ...conv,
    inputs: [conv.inputs[0], residual],
    output: add.output,
    attrs: { ...conv.attrs, activation: add.attrs.activation },
  };
}

/**
 * Activation fusion: an activation node folds into the epilogue of the conv, linear, add or binary op that produced
 * its input, when it is that tensor's only reader. Chains of clamps (ReLU/ReLU6/Clip) compose into one; a table
 * function (sigmoid, ...) fuses only into a conv, linear or add with no activation yet, and nothing fuses after it.
 */
export function fuseActivations(graph: Graph): Graph {
  const counts = readerCounts(graph);
  const made = producers(graph);
  const current = new Map<GraphNode, GraphNode>();
  const removed = new Set<GraphNode>();
  for (const node of graph.nodes) {
    if (node.op !== 'activation') continue;
    const original = made.get(node.inputs[0]);
    if (!original || removed.has(original) || !soleReader(counts, graph, node.inputs[0])) continue;
    const src = current.get(original) ?? original;
    if (src.op !== 'conv2d' && src.op !== 'linear' && src.op !== 'add' && src.op !== 'activation' && src.op !== 'binary') continue;
    if (!composable(src.attrs.activation, node.attrs.activation)) continue;
    // The binary kernel's epilogue is a clamp only.
    if (src.op === 'binary' && node.attrs.activation.kind === 'function') continue;
    const activation = composeActivations(src.attrs.activation, node.attrs.activation);
    removed.add(original);
    const fused = { ...src, output: node.output, attrs: { ...src.attrs, activation } } as GraphNode;
    current.set(node, fused);
  }
  const nodes = graph.nodes.filter((n) => !removed.has(n)).map((n) => current.get(n) ?? n);
  return { ...graph, nodes };
}

/** Whether `then` can follow `first` in one epilogue: clamps compose, a function needs `first` to be none. */
function composable(first: Activation, then: Activation): boolean {
  if (then.kind === 'function') return first.kind === 'none';
  return first.kind !== 'function';
}

/**
 * Pool + FC fusion: `globalAvgPool(x)`, then any flatten / reshape nodes that keep the pooled `[n, c, 1, 1]` shape
 * (aliases, no launch), then `linear` becomes one linear node that reads `x` itself with `poolInput` set: one
 * kernel launch instead of two, and no pooled tensor. The head TFLite classifiers write is recognised too: an
 * average pool whose single window is the whole map (no padding, so it is a global average) and a 1x1
 * convolution of the pooled tensor (groups 1, no residual: a fully connected layer with `[out, in, 1, 1]` weights,
 * which is `[out, in]`).
 *
 * Fuses only when every tensor from the pool's output to the layer's input is read by the next node of the chain
 * alone and is no graph output; otherwise the graph is left as it is. The fused node takes the layer's place in
 * the order (`x` exists before the pool did). Run it last: it sees the layer's final activation either way, since
 * the layer's attributes (activation included) are kept.
 */
export function fusePoolLinear(graph: Graph): Graph {
  const counts = readerCounts(graph);
  const made = producers(graph);
  const removed = new Set<GraphNode>();
  const replaced = new Map<GraphNode, LinearNode>();
  for (const node of graph.nodes) {
    const attrs = fullyConnectedAttrs(graph, node);
    if (!attrs) continue;
    const chain: GraphNode[] = [];
    let id = node.inputs[0];
    let pool: GraphNode | undefined;
    for (;;) {
      const src = made.get(id);
      if (!src || removed.has(src) || !soleReader(counts, graph, id)) break;
      if (isGlobalMean(graph, src)) {
        pool = src;
        break;
      }
      if (!keepsShape(graph, src)) break;
      chain.push(src);
      id = src.inputs[0];
    }
    if (!pool) continue;
    for (const n of [...chain, pool]) removed.add(n);
    replaced.set(node, { op: 'linear', name: node.name, inputs: [pool.inputs[0]], output: node.output, attrs: { ...attrs, poolInput: true } });
  }
  if (replaced.size === 0) return graph;
  const nodes = graph.nodes.filter((n) => !removed.has(n)).map((n) => replaced.get(n) ?? n);
  return { ...graph, nodes };
}

/** A node that computes a fully connected layer of a flat `[n, c, 1, 1]` tensor, as linear attributes. */
function fullyConnectedAttrs(graph: Graph, node: GraphNode): LinearAttrs | undefined {
  if (node.op === 'linear') return node.attrs.poolInput ? undefined : node.attrs;
  if (node.op !== 'conv2d' || node.inputs.length !== 1 || node.attrs.input) return undefined;
  const a = node.attrs;
  const [, , h, w] = graph.tensors[node.inputs[0]].shape;
  const oneByOne = a.kernel[0] === 1 && a.kernel[1] === 1 && a.pads.every((p) => p === 0) && a.groups === 1;
  if (!oneByOne || h !== 1 || w !== 1) return undefined;
  return { outFeatures: a.outChannels, weight: convWeight(a), bias: a.bias, activation: a.activation };
}

/** A global average pool, or an average pool whose one window covers the whole unpadded map. */
function isGlobalMean(graph: Graph, node: GraphNode): boolean {
  if (node.op === 'globalAvgPool') return true;
  if (node.op !== 'avgPool') return false;
  const [, , h, w] = graph.tensors[node.inputs[0]].shape;
  const a = node.attrs;
  return a.kernel[0] === h && a.kernel[1] === w && a.dilation[0] === 1 && a.dilation[1] === 1 && a.pads.every((p) => p === 0);
}

/** A flatten or reshape whose output has its input's shape: the same values in the same order. */
function keepsShape(graph: Graph, node: GraphNode): boolean {
  if (node.op !== 'flatten' && node.op !== 'reshape') return false;
  const a = graph.tensors[node.inputs[0]].shape;
  const b = graph.tensors[node.output].shape;
  return a.every((d, i) => d === b[i]);
}
