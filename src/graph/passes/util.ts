import type { Graph, GraphNode, TensorId } from '../ir.ts';

/** How many node inputs read each tensor; graph outputs count as one more reader each. */
export function readerCounts(graph: Graph): Map<TensorId, number> {
  const counts = new Map<TensorId, number>();
  const bump = (id: TensorId) => counts.set(id, (counts.get(id) ?? 0) + 1);
  for (const node of graph.nodes) node.inputs.forEach(bump);
  graph.outputs.forEach(bump);
  return counts;
}

/** The node that produces each tensor. */
export function producers(graph: Graph): Map<TensorId, GraphNode> {
  return new Map(graph.nodes.map((n) => [n.output, n]));
}

/** A tensor that only `node` reads (and is no graph output), so `node` may absorb its producer. */
export function soleReader(counts: Map<TensorId, number>, graph: Graph, id: TensorId): boolean {
  return counts.get(id) === 1 && !graph.outputs.includes(id);
}
