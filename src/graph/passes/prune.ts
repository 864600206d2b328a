import type { Graph, GraphNode, TensorId } from '../ir.ts';

/** Drops nodes whose outputs no graph output depends on (unused branches, training statistics, ...). */
export function pruneDeadNodes(graph: Graph): Graph {
  const live = new Set<TensorId>(graph.outputs);
  const keep = new Set<GraphNode>();
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    const node = graph.nodes[i];
    if (!live.has(node.output)) continue;
    keep.add(node);
    node.inputs.forEach((id) => live.add(id));
  }
  if (keep.size === graph.nodes.length) return graph;
  return { ...graph, nodes: graph.nodes.filter((n) => keep.has(n)) };
}
