import { functionActivation } from '../activations/index.ts';
import type { Activation, ActivationNode, Graph, GraphNode, TensorId } from '../ir.ts';
import { sameShape } from '../ir.ts';
import { producers, readerCounts, soleReader } from './util.ts';

/**
 * Swish fusion: `mul(x, f(x))` of two same-shaped computed operands (either order, no broadcast, no activation
 * of its own) becomes one activation `g(x)`, which `fuseActivations` then puts into the producer's epilogue:
 * - `f` = sigmoid gives `g` = SiLU (torchvision's EfficientNet, RegNetY exports `x * sigmoid(x)` so);
 * - `f` = hard-sigmoid with alpha exactly f32(1/6) and beta 0.5 gives hard-swish (MobileNetV3 below opset 14).
 * The `f` node must have no reader but the mul and be no graph output. Squeeze-and-excitation's gate muls
 * broadcast an `[n, c, 1, 1]` scale, so they stay for `fuseInputTransforms`. Run before `fuseActivations`.
 */
export function fuseSwish(graph: Graph): Graph {
  const counts = readerCounts(graph);
  const made = producers(graph);
  const removed = new Set<GraphNode>();
  const replaced = new Map<GraphNode, ActivationNode>();
  for (const node of graph.nodes) {
    if (node.op !== 'binary' || node.inputs.length !== 2) continue;
    const a = node.attrs;
    if (a.op !== 'mul' || a.constant !== undefined || a.activation.kind !== 'none') continue;
    const out = graph.tensors[node.output].shape;
    if (!node.inputs.every((id) => sameShape(graph.tensors[id].shape, out))) continue;
    const [p, q] = node.inputs;
    const match = gateOf(graph, made, counts, removed, q, p) ?? gateOf(graph, made, counts, removed, p, q);
    if (!match) continue;
    removed.add(match.gate);
    replaced.set(node, { op: 'activation', name: node.name, inputs: [match.x], output: node.output, attrs: { activation: match.activation } });
  }
  if (replaced.size === 0) return graph;
  const nodes = graph.nodes.filter((n) => !removed.has(n)).map((n) => replaced.get(n) ?? n);
  return { ...graph, nodes };
}

/** `gateId` as `f(x)` of a swish, with the activation the pair makes; undefined when it is none. */
function gateOf(
  graph: Graph,
  made: Map<TensorId, GraphNode>,
  counts: Map<TensorId, number>,
  removed: Set<GraphNode>,
  gateId: TensorId,
  x: TensorId,
): { gate: GraphNode; x: TensorId; activation: Activation } | undefined {
  const gate = made.get(gateId);
  if (gate?.op !== 'activation' || gate.inputs[0] !== x || removed.has(gate) || !soleReader(counts, graph, gateId)) return undefined;
  const activation = swishOf(gate.attrs.activation);
  return activation ? { gate, x, activation } : undefined;
}

const ONE_SIXTH = Math.fround(1 / 6);

/** The activation `x * f(x)` computes, for the gates `f` that have one. */
function swishOf(f: Activation): Activation | undefined {
  if (f.kind !== 'function') return undefined;
  if (f.name === 'sigmoid') return functionActivation('silu', [1]);
  if (f.name === 'hard-sigmoid' && f.params[0] === ONE_SIXTH && f.params[1] === 0.5) return functionActivation('hard-swish');
  return undefined;
}
