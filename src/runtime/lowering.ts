import type { StoragePrecision } from '../../shaders/common.ts';
import { ceilDiv } from '../../shaders/common.ts';
import { LAYOUT_UNIFORMS, packNchwProgram, unpackNchwProgram } from '../../shaders/layout/wgsl.ts';
import { uniformValues } from '../../shaders/uniforms.ts';
import type { Graph, GraphNode, Shape4, TensorId } from '../graph/ir.ts';
import { storageBytes } from '../graph/storage.ts';
import type { ConcatView } from './concat-views.ts';
import { isViewedConcat, planConcatViews, planSliceViews, sliceReadStep, viewStep } from './concat-views.ts';
import type { KernelChoice } from './kernel-choice.ts';
import { DEFAULT_KERNEL_CHOICE } from './kernel-choice.ts';
import { checkKernelChoice, launchesOf, nodeView } from './kernel-table.ts';
import type { InvertedResidualBlock } from './inverted-residual.ts';
import { blockNodeOutputs, fusedBlocksOf } from './inverted-residual.ts';
import { blockVariant, invertedResidualLaunches } from '../../shaders/inverted-residual/index.ts';
import { c4 } from './pack-weights.ts';
import type { Step } from './step.ts';
import { tensor } from './step.ts';

/**
 * Lowering: each node of an optimized graph becomes the launches of the kernel family that runs it (a split-K
 * convolution two; kernel-table.ts picks the family and its variant), plus the layout steps at the graph's edges.
 * Steps hold no GPU object; the compiler turns them into pipelines, buffers and bind groups once.
 */

/**
 * Whether a node stores its output in its input's buffer unchanged (no launch needed): a flatten of a 1x1
 * map, or a reshape that keeps `n`, `c` and `h * w` (NHWC4 storage is then identical).
 */
export function isAliasNode(graph: Graph, node: GraphNode): boolean {
  if (node.op === 'reshape') {
    const [n, c, h, w] = graph.tensors[node.inputs[0]].shape;
    const [on, oc, oh, ow] = graph.tensors[node.output].shape;
    return n === on && c === oc && h * w === oh * ow;
  }
  if (node.op !== 'flatten') return false;
  const [, , h, w] = graph.tensors[node.inputs[0]].shape;
  return h === 1 && w === 1;
}

/**
 * Tensors stored inside another's buffer under `choice` (none with `concatInPlace: false`): concat inputs in their
 * concat's buffer; channel slices in their input's, and prefix concats in their longer concat's (`slice`).
 */
export function channelViewsOf(graph: Graph, choice: KernelChoice): ChannelViews {
  if (choice.concatInPlace === false) return { concat: new Map(), slice: new Map(), reads: new Map() };
  const isAlias = (node: GraphNode) => isAliasNode(graph, node);
  const { inputs: concat, prefixes, reads } = planConcatViews(graph, isAlias);
  // Prefix concats are read from their longer concat's buffer as aligned slices are.
  const slice = planSliceViews(graph, concat, isAlias, prefixes);
  return { concat, slice, reads: new Map([...slice, ...reads]) };
}

/**
 * `concat`: tensors written into a concat's buffer; `slice`: tensors read from another's buffer with no launch of
 * their own; `reads`: every tensor whose readers load through a remap (`slice` and concat inputs read elsewhere).
 */
export interface ChannelViews {
  readonly concat: Map<TensorId, ConcatView>;
  readonly slice: Map<TensorId, ConcatView>;
  readonly reads: Map<TensorId, ConcatView>;
}

/** Re-exported for the runtime's users; the rule lives in graph/storage.ts. */
export { storageBytes };

/**
 * Lowers every node. `precision` is how all tensors of the model and the conv / linear weights are stored (see
 * `StoragePrecision`): one precision per model, so every kernel agrees on every tensor's format; the NCHW f32
 * inputs and outputs at the edges do not change.
 */
export function lowerGraph(
  graph: Graph,
  choice: KernelChoice = DEFAULT_KERNEL_CHOICE,
  precision: StoragePrecision = 'f32',
  /** `fusedBlocksIn(graph, choice)`, when the caller has it already (the memory plan needs it too). */
  known?: ReadonlyMap<TensorId, InvertedResidualBlock>,
): Step[] {
  checkKernelChoice(choice);
  const blocks = known ?? fusedBlocksIn(graph, choice);
  const steps: Step[] = graph.inputs.map((id, index) => layoutStep('pack', graph.tensors[id].shape, index, id, precision));
  const { concat: views, slice: sliceViews, reads } = channelViewsOf(graph, choice);
  const inner = new Set([...blocks.values()].flatMap(blockNodeOutputs));
  for (const node of graph.nodes) {
    if (isAliasNode(graph, node) || isViewedConcat(node, views) || sliceViews.has(node.output) || inner.has(node.output)) continue;
    const view = views.get(node.output);
    const block = blocks.get(node.output);
    // A fused block's launches (one, or three with squeeze-and-excitation) go at its project conv's place.
    const launches = block ? invertedResidualLaunches(block, blockVariant(block)!, precision) : launchesOf(nodeView(graph, node), choice, precision);
    for (const launch of launches) {
      const step = sliceReadStep({ label: node.name, node: node.output, ...launch }, reads);
      steps.push(view ? viewStep(step, node.output, view) : step);
    }
  }
  graph.outputs.forEach((id, index) => steps.push(layoutStep('unpack', graph.tensors[id].shape, index, id, precision)));
  return steps;
}

/**
 * The inverted-residual blocks `choice` runs on the fused kernel, by project output: those it asks for that the
 * kernel takes (`blockVariant`). The memory plan collapses the same blocks (`collapseBlocks`).
 */
export function fusedBlocksIn(graph: Graph, choice: KernelChoice): Map<TensorId, InvertedResidualBlock> {
  return fusedBlocksOf(graph, choice, (b) => blockVariant(b) !== null);
}

function layoutStep(direction: 'pack' | 'unpack', shape: Shape4, index: number, id: TensorId, precision: StoragePrecision): Step {
  const [n, c, h, w] = shape;
  const C4 = c4(c);
  // Both one NHWC4 vec4 per invocation (unpack stores its up to four channels' elements).
  const total = n * h * w * C4;
  return {
    label: `${direction} ${direction === 'pack' ? 'input' : 'output'} ${index}`,
    kind: 'layout',
    program: direction === 'pack' ? packNchwProgram(precision) : unpackNchwProgram(precision),
    uniforms: uniformValues(LAYOUT_UNIFORMS, { total, C: c, C4, H: h, W: w }),
    workgroups: ceilDiv(total, 64),
    buffers:
      direction === 'pack'
        ? { src: { kind: 'rawInput', index }, dst: tensor(id) }
        : { src: tensor(id), dst: { kind: 'rawOutput', index } },
    macs: 0,
  };
}
