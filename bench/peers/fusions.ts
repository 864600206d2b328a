/**
 * What webcnn's passes and lowering made of a network, for the zoo benchmark's "which fusions each network got":
 * the loaded graph's ops against the compiled graph's, the launches by kind, what runs in an epilogue, and what
 * costs no launch at all. Read from the compiled model itself, so a new fusion shows up without changes here
 * (an attribute this file does not know is reported by its name).
 */
import type { Graph, GraphNode } from '../../src/graph/ir.ts';
import type { Step } from '../../src/runtime/step.ts';

export interface FusionSummary {
  /** IR nodes as loaded from the file (ONNX constants and shape arithmetic already folded by the frontend). */
  readonly loadedNodes: number;
  /** Nodes after the passes (what lowering sees). */
  readonly compiledNodes: number;
  /** Kernel launches per inference. */
  readonly launches: number;
  readonly launchesByKind: Readonly<Record<string, number>>;
  /** Loaded ops that the passes removed (folded or fused into a neighbour): loaded count minus compiled count. */
  readonly removed: Readonly<Record<string, number>>;
  /** What launched nodes carry besides their own op: activations, residual adds, pooled inputs, new attributes. */
  readonly epilogues: Readonly<Record<string, number>>;
  /** Compiled nodes with no launch of their own (views into another buffer: concat, reshape, slices). */
  readonly free: Readonly<Record<string, number>>;
  /** Launched nodes other than convolutions and fully connected layers, by op (what still costs its own pass). */
  readonly ownPasses: Readonly<Record<string, number>>;
}

/** Attributes that are an op's own definition, not something fused into it. */
const OWN_ATTRIBUTES = new Set([
  'outChannels', 'kernel', 'stride', 'pads', 'dilation', 'groups', 'weight', 'weightScale', 'bias', 'activation',
  'ceilMode', 'countIncludePad', 'outFeatures', 'axes', 'shape', 'value', 'start', 'count', 'mode', 'coordinates',
  'nearest', 'scale', 'size', 'outputPadding', 'op', 'constant', 'epsilon', 'gamma', 'beta', 'mean', 'variance',
  'poolInput',
]);

function add(counts: Record<string, number>, key: string, by = 1): void {
  counts[key] = (counts[key] ?? 0) + by;
}

/** `binary` nodes by their arithmetic (`binary mul`), others by op. */
function opName(node: GraphNode): string {
  return node.op === 'binary' ? `binary ${node.attrs.op}` : node.op;
}

function opCounts(graph: Graph): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const n of graph.nodes) add(counts, opName(n));
  return counts;
}

export function summarizeFusions(loaded: Graph, compiled: Graph, steps: readonly Step[]): FusionSummary {
  const launchesByKind: Record<string, number> = {};
  const launched = new Set<number>();
  for (const s of steps) {
    add(launchesByKind, s.kind);
    if (s.node !== undefined) launched.add(s.node);
  }
  const before = opCounts(loaded);
  const after = opCounts(compiled);
  const removed: Record<string, number> = {};
  for (const [op, n] of Object.entries(before)) if (n > (after[op] ?? 0)) removed[op] = n - (after[op] ?? 0);
  const epilogues: Record<string, number> = {};
  const free: Record<string, number> = {};
  const ownPasses: Record<string, number> = {};
  for (const node of compiled.nodes) {
    if (!launched.has(node.output)) {
      add(free, opName(node));
      continue;
    }
    if (node.op !== 'conv2d' && node.op !== 'linear') add(ownPasses, opName(node));
    const attrs = node.attrs as Readonly<Record<string, unknown>>;
    const activation = attrs.activation as { kind: string; name?: string } | undefined;
    // An activation node's own function is its op, not something fused into it.
    if (node.op !== 'activation' && activation && activation.kind !== 'none') add(epilogues, activation.kind === 'function' ? (activation.name ?? 'function') : activation.kind);
    if (node.op === 'conv2d' && node.inputs.length > 1) add(epilogues, 'residual add');
    if (node.op === 'linear' && node.attrs.poolInput) add(epilogues, 'global pool into linear');
    for (const [key, value] of Object.entries(attrs)) {
      if (!OWN_ATTRIBUTES.has(key) && value !== undefined && value !== null && value !== false) add(epilogues, `${node.op}.${key}`);
    }
  }
  return {
    loadedNodes: loaded.nodes.length,
    compiledNodes: compiled.nodes.length,
    launches: steps.length,
    launchesByKind,
    removed,
    epilogues,
    free,
    ownPasses,
  };
}

const listed = (counts: Readonly<Record<string, number>>): string =>
  Object.entries(counts)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([k, n]) => `${k} ${n}`)
    .join(', ') || 'none';

/** One paragraph for the docs. */
export function formatFusions(f: FusionSummary): string {
  return (
    `${f.loadedNodes} nodes loaded, ${f.compiledNodes} after the passes, ${f.launches} launches (${listed(f.launchesByKind)}). ` +
    `Removed by the passes: ${listed(f.removed)}. In epilogues: ${listed(f.epilogues)}. ` +
    `Free (no launch): ${listed(f.free)}. Own passes besides conv/linear: ${listed(f.ownPasses)}.`
  );
}
