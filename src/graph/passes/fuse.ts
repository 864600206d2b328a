import type { AddNode, Conv2dNode, Graph, GraphNode, TensorId } from '../ir.ts';
import { composeActivations } from '../ir.ts';
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
 * Activation fusion: a ReLU/ReLU6/Clip node folds into the epilogue of the conv, linear or add that produced
 * its input, when it is that tensor's only reader. Chains of clamps compose into one.
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
    if (src.op !== 'conv2d' && src.op !== 'linear' && src.op !== 'add' && src.op !== 'activation') continue;
    const activation = composeActivations(src.attrs.activation, node.attrs.activation);
    removed.add(original);
    const fused = { ...src, output: node.output, attrs: { ...src.attrs, activation } } as GraphNode;
    current.set(node, fused);
  }
  const nodes = graph.nodes.filter((n) => !removed.has(n)).map((n) => current.get(n) ?? n);
  return { ...graph, nodes };
}
