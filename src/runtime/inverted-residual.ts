import { isDenseConv, isDepthwiseConv, isPointwiseConv } from '../../shaders/conv-common.ts';
import type { Conv2dNode, Graph, GlobalAvgPoolNode, GraphNode, LinearNode, Shape4, TensorId } from '../graph/ir.ts';
import { convChannelScale, convResidual } from '../graph/ir.ts';
import type { KernelChoice } from './kernel-choice.ts';
import { nodeView } from './kernel-table.ts';

/**
 * Inverted-residual blocks (MobileNetV2 / V3, EfficientNet, MnasNet) as the fused kernel sees them
 * (shaders/inverted-residual/): expand 1x1 -> depthwise KxK -> project 1x1 (+ residual), each intermediate read
 * by the next conv only and not a graph output, so that one launch can keep it out of global memory. Pure
 * functions over an optimized graph (BN folded, activations and the residual add fused into the convs).
 */
export interface InvertedResidualBlock {
  /** Absent for a block without expansion (MobileNetV2's first: depthwise + project). */
  readonly expand: Conv2dNode | null;
  readonly depthwise: Conv2dNode;
  readonly project: Conv2dNode;
  /** The block's input (the expand's, else the depthwise's). */
  readonly input: TensorId;
  readonly inShape: Shape4;
  /** The depthwise conv's input and output shapes (the expanded, hidden maps). */
  readonly hidShape: Shape4;
  readonly midShape: Shape4;
  readonly outShape: Shape4;
  /**
   * Squeeze-and-excitation between the depthwise and the project conv (MobileNetV3, EfficientNet), as the passes
   * leave it: the depthwise output's channel means (a `globalAvgPool` node, or fc1's own `poolInput`), `fc1` and
   * `fc2` each a linear or a 1x1 conv on a `[n, c, 1, 1]` map, fc2's output the gate the project conv multiplies
   * its input by (`channelScale`). Null for a block without one.
   */
  readonly se: SqueezeExcite | null;
}

/** A 1x1 layer of an SE: a linear or a 1x1 conv (the same `[out, in]` numbers). */
export type SqueezeLayer = Conv2dNode | LinearNode;

export interface SqueezeExcite {
  /** Absent where fc1 pools its input itself (`poolInput`). */
  readonly pool: GlobalAvgPoolNode | null;
  readonly fc1: SqueezeLayer;
  readonly fc2: SqueezeLayer;
  /** fc1's output channels. */
  readonly squeezeC: number;
}

/** How often each tensor is read by a node (a node reading it twice counts twice). */
function readCounts(graph: Graph): Map<TensorId, number> {
  const counts = new Map<TensorId, number>();
  for (const node of graph.nodes) for (const id of node.inputs) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}

/** A 1x1 stride-1 dense conv with no input transform, or with a channel scale where `scaled` (a project conv). */
function isPlainPointwise(graph: Graph, node: GraphNode, scaled = false): node is Conv2dNode {
  if (node.op !== 'conv2d') return false;
  const a = node.attrs;
  const input = a.input === undefined || (scaled && a.input.kind === 'channelScale');
  return isDenseConv(nodeView(graph, node)) && a.groups === 1 && isPointwiseConv(a) && a.stride[0] === 1 && a.stride[1] === 1 && input;
}

/**
 * The squeeze-and-excitation between `depthwise` and `project` (see `InvertedResidualBlock.se`), or null when
 * `project` takes no channel scale or the gate is not one pool -> fc1 -> fc2 chain of private tensors.
 */
function squeezeExciteOf(graph: Graph, depthwise: Conv2dNode, project: Conv2dNode, producer: ReadonlyMap<TensorId, GraphNode>,
  readers: ReadonlyMap<TensorId, readonly GraphNode[]>, private_: (id: TensorId, count: number) => boolean): SqueezeExcite | null {
  const gate = convChannelScale(project);
  if (gate === undefined || project.inputs[0] !== depthwise.output || !private_(depthwise.output, 2) || !private_(gate, 1)) return null;
  const hidC = graph.tensors[depthwise.output].shape[1];
  const first = readers.get(depthwise.output)?.find((n) => n !== project);
  const pool = first?.op === 'globalAvgPool' && private_(first.output, 1) ? first : null;
  const fc1 = pool ? readers.get(pool.output)?.[0] : first;
  const fc2 = producer.get(gate);
  if (!fc1 || !fc2 || !isSqueezeLayer(graph, fc1, pool === null) || !isSqueezeLayer(graph, fc2, false)) return null;
  if (!private_(fc1.output, 1) || fc2.inputs[0] !== fc1.output || outChannels(fc2) !== hidC) return null;
  return { pool, fc1, fc2, squeezeC: outChannels(fc1) };
}

const outChannels = (n: SqueezeLayer): number => (n.op === 'linear' ? n.attrs.outFeatures : n.attrs.outChannels);

/** A linear (pooling its input where `pooled`) or a plain 1x1 conv on a 1x1 map, with one input. */
function isSqueezeLayer(graph: Graph, node: GraphNode, pooled: boolean): node is SqueezeLayer {
  if (node.inputs.length !== 1) return false;
  if (node.op === 'linear') return (node.attrs.poolInput === true) === pooled;
  const [, , h, w] = graph.tensors[node.inputs[0]].shape;
  return !pooled && h === 1 && w === 1 && isPlainPointwise(graph, node);
}

/** An SE layer's `[out, in]` weights (a 1x1 conv's OIHW weights are the same numbers) and per-output scale. */
export function squeezeLayerWeights(n: SqueezeLayer): { weight: Float32Array; scale: Float64Array | null; outC: number } {
  return n.op === 'conv2d'
    ? { weight: n.attrs.weight, scale: n.attrs.weightScale ?? null, outC: n.attrs.outChannels }
    : { weight: n.attrs.weight, scale: null, outC: n.attrs.outFeatures };
}

/**
 * Every expand -> depthwise -> project chain of `graph` (and depthwise -> project chains whose depthwise input
 * comes from anything else), in graph order, keyed by nothing: callers key them by `project.output`.
 */
export function findInvertedResidualBlocks(graph: Graph): InvertedResidualBlock[] {
  const reads = readCounts(graph);
  const outputs = new Set(graph.outputs);
  const producer = new Map(graph.nodes.map((n) => [n.output, n]));
  const readers = new Map<TensorId, GraphNode[]>();
  for (const n of graph.nodes) for (const id of new Set(n.inputs)) readers.set(id, [...(readers.get(id) ?? []), n]);
  // Read once (twice with an SE: by fc1 and the project), within the chain, and not a graph output: the fused
  // launches never store it.
  const private_ = (id: TensorId, count = 1) => reads.get(id) === count && !outputs.has(id);
  const blocks: InvertedResidualBlock[] = [];
  for (const project of graph.nodes) {
    if (!isPlainPointwise(graph, project, true)) continue;
    const depthwise = producer.get(project.inputs[0]);
    if (!depthwise || depthwise.op !== 'conv2d' || !isDepthwiseConv(nodeView(graph, depthwise))) continue;
    const se = squeezeExciteOf(graph, depthwise, project, producer, readers, private_);
    if (convChannelScale(project) !== undefined ? se === null : !private_(depthwise.output)) continue;
    const d = depthwise.attrs;
    if (d.input !== undefined || depthwise.inputs.length !== 1 || d.dilation[0] !== 1 || d.dilation[1] !== 1) continue;
    const candidate = producer.get(depthwise.inputs[0]);
    const expand = candidate && isPlainPointwise(graph, candidate) && candidate.inputs.length === 1 && private_(candidate.output) ? candidate : null;
    const input = expand ? expand.inputs[0] : depthwise.inputs[0];
    blocks.push({
      expand,
      depthwise,
      project,
      input,
      inShape: graph.tensors[input].shape,
      hidShape: graph.tensors[depthwise.inputs[0]].shape,
      midShape: graph.tensors[depthwise.output].shape,
      outShape: graph.tensors[project.output].shape,
      se,
    });
  }
  return blocks;
}

/** Whether `choice` runs the block (keyed by its project conv's output) on the fused kernel. */
export function isFusedBlock(choice: KernelChoice, block: InvertedResidualBlock): boolean {
  const own = choice.invertedResidualBlocks?.get(block.project.output);
  return (own ?? choice.invertedResidual ?? 'separate') === 'fused';
}

/**
 * The blocks `choice` fuses, by project output, among those the kernel takes (`fits`): the lowering emits one
 * launch for each at its project conv's place and none for its expand and depthwise convs.
 */
export function fusedBlocksOf(graph: Graph, choice: KernelChoice, fits: (b: InvertedResidualBlock) => boolean): Map<TensorId, InvertedResidualBlock> {
  const fused = new Map<TensorId, InvertedResidualBlock>();
  if (choice.invertedResidual !== 'fused' && !choice.invertedResidualBlocks?.size) return fused;
  for (const b of findInvertedResidualBlocks(graph)) if (isFusedBlock(choice, b) && fits(b)) fused.set(b.project.output, b);
  return fused;
}

/** The outputs of the nodes inside block `b` (expand, depthwise, an SE's pool and fc1): see `innerTensors`. */
function innerOutputs(b: InvertedResidualBlock): TensorId[] {
  return [...(b.expand ? [b.expand.output] : []), b.depthwise.output, ...(b.se?.pool ? [b.se.pool.output] : []), ...(b.se ? [b.se.fc1.output] : [])];
}

/**
 * The outputs of the nodes inside fused blocks (expand, depthwise, an SE's pool and fc1): no launch and no buffer of
 * their own. An SE's gate (fc2's output) is not among them: the fused block's gate launch writes it.
 */
export function innerTensors(blocks: ReadonlyMap<TensorId, InvertedResidualBlock>): Set<TensorId> {
  return new Set([...blocks.values()].flatMap(innerOutputs));
}

/**
 * The outputs of the nodes a fused block's launches compute besides its project conv (the lowering skips them):
 * the inner tensors and an SE's gate.
 */
export function blockNodeOutputs(b: InvertedResidualBlock): TensorId[] {
  return [...innerOutputs(b), ...(b.se ? [b.se.fc2.output] : [])];
}

/**
 * `graph` as the memory plan must see it with `blocks` fused: each block one node at its project conv's place,
 * reading the block's input (and residual), so the input lives until the fused launch and the two hidden maps
 * get no buffer. Not a graph to run: its fused nodes keep the project conv's attributes.
 */
export function collapseBlocks(graph: Graph, blocks: ReadonlyMap<TensorId, InvertedResidualBlock>): Graph {
  if (blocks.size === 0) return graph;
  const skipped = new Set([...blocks.values()].flatMap(blockNodeOutputs));
  const nodes = graph.nodes.flatMap((node): GraphNode[] => {
    if (skipped.has(node.output)) return [];
    const b = blocks.get(node.output);
    if (!b) return [node];
    const residual = convResidual(b.project);
    const project: GraphNode = { ...b.project, inputs: [b.input, ...(residual === undefined ? [] : [residual]), ...(b.se ? [b.se.fc2.output] : [])] };
    // With an SE, the gate launch (reading the block's input through the squeeze launch) writes the gate first.
    return b.se ? [{ ...b.se.fc2, inputs: [b.input] } as GraphNode, project] : [project];
  });
  return { ...graph, nodes };
}
