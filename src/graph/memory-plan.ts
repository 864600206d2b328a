import type { Graph, GraphNode, TensorId } from './ir.ts';

/**
 * Assigns every activation tensor to a buffer slot so that tensors whose lifetimes do not overlap share
 * memory. Lifetimes run from the producing node to the last reader; graph inputs live from the start and graph
 * outputs to the end. A node never writes into a slot one of its own inputs occupies.
 *
 * Nodes marked as aliases (a flatten of a 1x1 map is a no-op in NHWC4) reuse their input's slot.
 */
export interface MemoryPlan {
  readonly slotOf: ReadonlyMap<TensorId, number>;
  readonly slotBytes: readonly number[];
  /** Sum of the slots: the activation memory the plan needs at once. */
  readonly peakBytes: number;
  /** What one buffer per tensor would take, for comparison. */
  readonly unplannedBytes: number;
}

export interface MemoryPlanOptions {
  bytesOf(id: TensorId): number;
  /** True when the node's output is stored in its first input's buffer unchanged. */
  isAlias(node: GraphNode): boolean;
  /**
   * The tensor whose buffer holds `id` (a concat input written into its concat's output), or undefined. Such a
   * tensor takes its root's slot, which is allocated when the first of them is written.
   */
  viewRoot?(id: TensorId): TensorId | undefined;
}

export function planMemory(graph: Graph, options: MemoryPlanOptions): MemoryPlan {
  const root = new Map<TensorId, TensorId>();
  const rootOf = (id: TensorId): TensorId => root.get(id) ?? id;
  for (const node of graph.nodes) {
    const viewed = options.viewRoot?.(node.output);
    if (viewed !== undefined) root.set(node.output, viewed);
    else if (options.isAlias(node)) root.set(node.output, rootOf(node.inputs[0]));
  }

  const end = graph.nodes.length;
  const lastUse = new Map<TensorId, number>();
  graph.nodes.forEach((node, step) => {
    for (const input of node.inputs) lastUse.set(rootOf(input), step);
  });
  for (const id of graph.outputs) lastUse.set(rootOf(id), end);

  const slotOf = new Map<TensorId, number>();
  const slotBytes: number[] = [];
  const free: number[] = [];
  let unplannedBytes = 0;

  const allocate = (id: TensorId): void => {
    const bytes = options.bytesOf(id);
    unplannedBytes += bytes;
    // Best fit among free slots; otherwise grow the largest free slot; otherwise a new slot.
    let best = -1;
    for (const s of free) {
      if (slotBytes[s] >= bytes && (best < 0 || slotBytes[s] < slotBytes[best])) best = s;
    }
    if (best < 0 && free.length > 0) {
      best = free.reduce((a, b) => (slotBytes[a] >= slotBytes[b] ? a : b));
      slotBytes[best] = bytes;
    }
    if (best < 0) {
      best = slotBytes.length;
      slotBytes.push(bytes);
    } else {
      free.splice(free.indexOf(best), 1);
    }
    slotOf.set(id, best);
  };

  for (const id of graph.inputs) allocate(id);
  graph.nodes.forEach((node, step) => {
    if (root.has(node.output)) {
      // A view's root is allocated by the first of its views to be written.
      if (!slotOf.has(rootOf(node.output))) allocate(rootOf(node.output));
      slotOf.set(node.output, slotOf.get(rootOf(node.output))!);
    } else if (!slotOf.has(node.output)) {
      // (A concat whose inputs are views has its slot already, allocated with the first of them.)
      allocate(node.output);
      // An output nobody reads still needs its slot for this step only.
      if (!lastUse.has(node.output)) lastUse.set(node.output, step);
    }
    const released = new Set<TensorId>();
    for (const id of [...node.inputs.map(rootOf), node.output]) {
      const r = rootOf(id);
      if (lastUse.get(r) === step && !released.has(r)) {
        released.add(r);
        free.push(slotOf.get(r)!);
      }
    }
  });

  return {
    slotOf,
    slotBytes,
    peakBytes: slotBytes.reduce((a, b) => a + b, 0),
    unplannedBytes,
  };
}
