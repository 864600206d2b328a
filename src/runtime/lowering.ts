import type { StoragePrecision } from '../../shaders/common.ts';
import { bytesPerVec4, ceilDiv } from '../../shaders/common.ts';
import { LAYOUT_UNIFORMS, packNchwProgram, unpackNchwProgram } from '../../shaders/layout/wgsl.ts';
import { uniformValues } from '../../shaders/uniforms.ts';
import type { Graph, GraphNode, Shape4, TensorId } from '../graph/ir.ts';
import type { KernelChoice } from './kernel-choice.ts';
import { DEFAULT_KERNEL_CHOICE } from './kernel-choice.ts';
import { checkKernelChoice, launchesOf, nodeView } from './kernel-table.ts';
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

/** Bytes of a tensor stored as NHWC4: 16 per vec4 of channels at f32, 8 at the f16 precisions. */
export function storageBytes(shape: Shape4, precision: StoragePrecision = 'f32'): number {
  const [n, c, h, w] = shape;
  return n * h * w * c4(c) * bytesPerVec4(precision);
}

function sameShape(a: Shape4, b: Shape4): boolean {
  return a[0] === b[0] && a[1] === b[1] && a[2] === b[2] && a[3] === b[3];
}

/**
 * Lowers every node. `precision` is how all tensors of the model and the conv / linear weights are stored (see
 * `StoragePrecision`): one precision per model, so every kernel agrees on every tensor's format; the NCHW f32
 * inputs and outputs at the edges do not change.
 */
export function lowerGraph(graph: Graph, choice: KernelChoice = DEFAULT_KERNEL_CHOICE, precision: StoragePrecision = 'f32'): Step[] {
  checkKernelChoice(choice);
  const steps: Step[] = graph.inputs.map((id, index) => layoutStep('pack', graph.tensors[id].shape, index, id, precision));
  for (const node of graph.nodes) {
    if (isAliasNode(graph, node)) continue;
    for (const launch of launchesOf(nodeView(graph, node), choice, precision)) steps.push({ ...launch, label: node.name, node: node.output });
  }
  graph.outputs.forEach((id, index) => steps.push(layoutStep('unpack', graph.tensors[id].shape, index, id, precision)));
  return steps;
}

function layoutStep(direction: 'pack' | 'unpack', shape: Shape4, index: number, id: TensorId, precision: StoragePrecision): Step {
  const [n, c, h, w] = shape;
  const C4 = c4(c);
  const total = direction === 'pack' ? n * h * w * C4 : n * c * h * w;
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
