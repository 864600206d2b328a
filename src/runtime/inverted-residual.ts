import { isDenseConv, isDepthwiseConv, isPointwiseConv } from '../../shaders/conv-common.ts';
import type { Conv2dNode, Graph, GraphNode, Shape4, TensorId } from '../graph/ir.ts';
import { convResidual } from '../graph/ir.ts';
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
}

/** How often each tensor is read by a node (a node reading it twice counts twice). */
function readCounts(graph: Graph): Map<TensorId, number> {
  const counts = new Map<TensorId, number>();
  for (const node of graph.nodes) for (const id of node.inputs) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}

/** A 1x1 stride-1 dense conv with no input transform (the expand or project of a block). */
function isPlainPointwise(graph: Graph, node: GraphNode): node is Conv2dNode {
  if (node.op !== 'conv2d') return false;
  const a = node.attrs;
  return isDenseConv(nodeView(graph, node)) && a.groups === 1 && isPointwiseConv(a) && a.stride[0] === 1 && a.stride[1] === 1 && a.input === undefined;
}

/**
 * Every expand -> depthwise -> project chain of `graph` (and depthwise -> project chains whose depthwise input
 * comes from anything else), in graph order, keyed by nothing: callers key them by `project.output`.
 */
export function findInvertedResidualBlocks(graph: Graph): InvertedResidualBlock[] {
  const reads = readCounts(graph);
  const outputs = new Set(graph.outputs);
  const producer = new Map(graph.nodes.map((n) => [n.output, n]));
  // Read once, by the next conv of the chain, and not a graph output: the fused launch never stores it.
  const private_ = (id: TensorId) => reads.get(id) === 1 && !outputs.has(id);
  const blocks: InvertedResidualBlock[] = [];
  for (const project of graph.nodes) {
    if (!isPlainPointwise(graph, project)) continue;
    const depthwise = producer.get(project.inputs[0]);
    if (!depthwise || depthwise.op !== 'conv2d' || !private_(depthwise.output) || !isDepthwiseConv(nodeView(graph, depthwise))) continue;
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

/** The outputs of the convs inside fused blocks (expand and depthwise): no launch and no buffer of their own. */
export function innerTensors(blocks: ReadonlyMap<TensorId, InvertedResidualBlock>): Set<TensorId> {
  const inner = new Set<TensorId>();
  for (const b of blocks.values()) {
    if (b.expand) inner.add(b.expand.output);
    inner.add(b.depthwise.output);
  }
  return inner;
}

/**
 * `graph` as the memory plan must see it with `blocks` fused: each block one node at its project conv's place,
 * reading the block's input (and residual), so the input lives until the fused launch and the two hidden maps
 * get no buffer. Not a graph to run: its fused nodes keep the project conv's attributes.
 */
export function collapseBlocks(graph: Graph, blocks: ReadonlyMap<TensorId, InvertedResidualBlock>): Graph {
  if (blocks.size === 0) return graph;
  const inner = innerTensors(blocks);
  const nodes = graph.nodes.flatMap((node): GraphNode[] => {
    if (inner.has(node.output)) return [];
    const b = blocks.get(node.output);
    if (!b) return [node];
    const residual = convResidual(b.project);
    return [{ ...b.project, inputs: residual === undefined ? [b.input] : [b.input, residual] }];
  });
  return { ...graph, nodes };
}
