import type { BinaryNode, Conv2dNode, ConvInputTransform, Graph, GraphNode, TensorId } from '../ir.ts';
import { convWeight, isClamp, sameShape } from '../ir.ts';
import { producers, readerCounts, soleReader } from './util.ts';

/**
 * Input-transform fusion: a per-channel op whose only reader is a 1x1 convolution becomes that convolution's
 * `ConvInputTransform`, applied as it loads its input, so the op no longer costs a pass over the feature map:
 * - squeeze-and-excitation's gate, `mul(x, s)` with `s` a computed `[n, c, 1, 1]` tensor (a `binary` mul of two
 *   computed operands, no activation): the convolution reads `x` and takes `s` as its last input;
 * - a per-channel affine with a clamp, i.e. a depthwise 1x1 convolution with ReLU / ReLU6 / Clip or none (what
 *   `foldBatchNorm` makes of a batch norm that follows no convolution, DenseNet's pre-activation BN-ReLU after a
 *   concat or a pool): the convolution reads the affine's input.
 * Only dense 1x1 convolutions without padding (groups 1) take a transform, where no padded tap exists; the
 * transform op must be the convolution's activation input and have no other reader. Run after residual and
 * activation fusion: a conv with a `channelScale` input has two inputs and absorbs no residual add any more.
 */
export function fuseInputTransforms(graph: Graph): Graph {
  const counts = readerCounts(graph);
  const made = producers(graph);
  const removed = new Set<GraphNode>();
  const replaced = new Map<GraphNode, Conv2dNode>();
  for (const node of graph.nodes) {
    if (node.op !== 'conv2d' || !takesInputTransform(node)) continue;
    const original = made.get(node.inputs[0]);
    if (!original || removed.has(original) || !soleReader(counts, graph, node.inputs[0])) continue;
    // As fused so far: a conv that took a transform itself takes part no more (an affine has none).
    const src = replaced.get(original) ?? original;
    const fused = src.op === 'binary' ? fuseChannelScale(graph, node, src) : src.op === 'conv2d' ? fuseAffine(graph, node, src) : undefined;
    if (!fused) continue;
    removed.add(original);
    replaced.set(node, fused);
  }
  if (replaced.size === 0) return graph;
  const nodes = graph.nodes.filter((n) => !removed.has(n)).map((n) => replaced.get(n) ?? n);
  return { ...graph, nodes };
}

/** A dense 1x1 convolution without padding and without an input transform yet. */
function takesInputTransform(conv: Conv2dNode): boolean {
  const a = conv.attrs;
  return a.input === undefined && a.groups === 1 && a.kernel[0] === 1 && a.kernel[1] === 1 && a.pads.every((p) => p === 0);
}

/** `conv(mul(x, s))` with `s` of shape `[n, c, 1, 1]` as `conv` reading `x` with `s` as its channel scale. */
function fuseChannelScale(graph: Graph, conv: Conv2dNode, mul: BinaryNode): Conv2dNode | undefined {
  const a = mul.attrs;
  if (a.op !== 'mul' || a.constant !== undefined || a.activation.kind !== 'none' || mul.inputs.length !== 2) return undefined;
  const out = graph.tensors[mul.output].shape;
  const [n, c] = out;
  const isMap = (id: TensorId): boolean => sameShape(graph.tensors[id].shape, out);
  const isScale = (id: TensorId): boolean => sameShape(graph.tensors[id].shape, [n, c, 1, 1]);
  const [p, q] = mul.inputs;
  const pick = isMap(p) && isScale(q) ? { map: p, scale: q } : isMap(q) && isScale(p) ? { map: q, scale: p } : undefined;
  if (!pick) return undefined;
  const input: ConvInputTransform = { kind: 'channelScale' };
  return { ...conv, inputs: [pick.map, ...conv.inputs.slice(1), pick.scale], attrs: { ...conv.attrs, input } };
}

/** `conv(clamp(x * scale + shift))` from a per-channel affine node (a depthwise 1x1 conv) as one convolution. */
function fuseAffine(graph: Graph, conv: Conv2dNode, affine: Conv2dNode): Conv2dNode | undefined {
  const a = affine.attrs;
  const c = graph.tensors[affine.inputs[0]].shape[1];
  const perChannel =
    affine.inputs.length === 1 && a.input === undefined && a.groups === c && a.outChannels === c && a.weight.length === c &&
    a.kernel[0] === 1 && a.kernel[1] === 1 && a.stride[0] === 1 && a.stride[1] === 1 && a.pads.every((p) => p === 0);
  if (!perChannel || (a.activation.kind !== 'none' && !isClamp(a.activation))) return undefined;
  const input: ConvInputTransform = { kind: 'affine', scale: convWeight(a), shift: a.bias ?? new Float32Array(c), activation: a.activation };
  return { ...conv, inputs: [affine.inputs[0], ...conv.inputs.slice(1)], attrs: { ...conv.attrs, input } };
}
