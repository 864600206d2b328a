import type { AvgPoolNode, Conv2dNode, Graph, GraphNode, MaxPoolNode, PadNode, TensorId } from '../ir.ts';
import { addPads } from '../ir.ts';

/**
 * Folds constant pads into the window ops that read them, for every frontend: a zero pad becomes convolution
 * padding; a zero pad becomes average-pool padding that counts in the divisor (when the pool's own padding is
 * none or counts too); a -inf pad becomes max-pool padding. Pools fold only without ceil mode and with the
 * summed padding inside the window. A pad left with no reader goes, and its tensor with it (later tensor ids
 * move down), so a folded model has the tensors it would have had with the padding written in the op.
 */
export function absorbPads(graph: Graph): Graph {
  const pads = new Map<TensorId, PadNode>();
  for (const n of graph.nodes) if (n.op === 'pad' && n.attrs.pads.every((p) => p >= 0)) pads.set(n.output, n);
  if (pads.size === 0) return graph;
  const absorbed = new Set<TensorId>();
  const nodes = graph.nodes.map((n) => {
    const pad = n.op === 'pad' ? undefined : pads.get(n.inputs[0]);
    const folded = pad && absorb(n, pad);
    if (folded) absorbed.add(pad.output);
    return folded ?? n;
  });
  if (absorbed.size === 0) return graph;
  const read = new Set<TensorId>(graph.outputs);
  for (const n of nodes) n.inputs.forEach((id) => read.add(id));
  const gone = new Set<TensorId>([...absorbed].filter((id) => !read.has(id)));
  return withoutTensors({ ...graph, nodes: nodes.filter((n) => !gone.has(n.output)) }, gone);
}

/** `node` reading `pad`'s input with the padding added to its own, or null when that would compute otherwise. */
function absorb(node: GraphNode, pad: PadNode): GraphNode | null {
  const { pads, value } = pad.attrs;
  const inputs = [pad.inputs[0]];
  if (node.op === 'conv2d') {
    if (node.inputs.length !== 1 || value !== 0) return null;
    return { ...node, inputs, attrs: { ...node.attrs, pads: addPads(node.attrs.pads, pads) } } satisfies Conv2dNode;
  }
  if (node.op !== 'maxPool' && node.op !== 'avgPool') return null;
  const a = node.attrs;
  const sum = addPads(a.pads, pads);
  const reach = [a.kernel[0] * a.dilation[0], a.kernel[1] * a.dilation[1]];
  if (a.ceilMode || !(sum[0] < reach[0] && sum[2] < reach[0] && sum[1] < reach[1] && sum[3] < reach[1])) return null;
  if (node.op === 'maxPool') {
    // -inf never wins a max, so it is the same as no tap.
    return value === -Infinity ? ({ ...node, inputs, attrs: { ...a, pads: sum } } satisfies MaxPoolNode) : null;
  }
  // Zeros that count in the divisor are padding an average pool counts.
  if (value !== 0 || !(a.countIncludePad || a.pads.every((p) => p === 0))) return null;
  return { ...node, inputs, attrs: { ...a, pads: sum, countIncludePad: true } } satisfies AvgPoolNode;
}

/** The graph without tensors `gone` (which no node reads or writes), ids renumbered to stay indices. */
function withoutTensors(graph: Graph, gone: ReadonlySet<TensorId>): Graph {
  if (gone.size === 0) return graph;
  const newId = new Map<TensorId, TensorId>();
  const tensors = graph.tensors.filter((t) => !gone.has(t.id)).map((t, i) => {
    newId.set(t.id, i);
    return t.id === i ? t : { ...t, id: i };
  });
  const map = (id: TensorId): TensorId => newId.get(id)!;
  const nodes = graph.nodes.map((n) => ({ ...n, inputs: n.inputs.map(map), output: map(n.output) }) as GraphNode);
  return { tensors, nodes, inputs: graph.inputs.map(map), outputs: graph.outputs.map(map) };
}
