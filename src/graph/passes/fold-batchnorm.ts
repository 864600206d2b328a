import type { BatchNormNode, BatchNormParams, Conv2dNode, Graph, GraphNode } from '../ir.ts';
import { NO_ACTIVATION } from '../ir.ts';
import { producers, readerCounts, soleReader } from './util.ts';

/** Per-channel `scale = gamma / sqrt(var + eps)` and `shift = beta - mean * scale`. */
export function batchNormScaleShift(bn: BatchNormParams): { scale: Float32Array; shift: Float32Array } {
  const c = bn.gamma.length;
  const scale = new Float32Array(c);
  const shift = new Float32Array(c);
  for (let i = 0; i < c; i++) {
    // Computed in f64 and rounded once, so folding adds no more error than the f32 weights already carry.
    const s = bn.gamma[i] / Math.sqrt(bn.variance[i] + bn.epsilon);
    scale[i] = s;
    shift[i] = bn.beta[i] - bn.mean[i] * s;
  }
  return { scale, shift };
}

/**
 * `w' = w * g / sqrt(var + eps)`, `b' = beta + (b - mean) * g / sqrt(var + eps)`. The weights stay as they are
 * and the factor goes to `weightScale` (multiplied into one already there): the GPU packing applies it while it
 * packs, and `convWeight` gives the scaled values to everything else.
 */
export function foldBatchNormIntoConv(conv: Conv2dNode, bn: BatchNormNode): Conv2dNode {
  const { bias, outChannels } = conv.attrs;
  const factor = new Float64Array(outChannels);
  const newBias = new Float32Array(outChannels);
  const p = bn.attrs;
  for (let o = 0; o < outChannels; o++) {
    const s = p.gamma[o] / Math.sqrt(p.variance[o] + p.epsilon);
    factor[o] = s;
    newBias[o] = p.beta[o] + ((bias ? bias[o] : 0) - p.mean[o]) * s;
  }
  return { ...conv, output: bn.output, attrs: { ...conv.attrs, weightScale: scaledWeightFactor(conv.attrs.weightScale, factor), bias: newBias } };
}

/**
 * The one way a pass scales a convolution's output channels: the factor goes to `weightScale` (multiplied, in
 * f64, into one already there) instead of into a copy of the weights. Batch-norm folding and the loaders'
 * affine merge (`merge-affine.ts`) both use it.
 */
export function scaledWeightFactor(existing: Float64Array | undefined, factor: ArrayLike<number>): Float64Array {
  const out = new Float64Array(factor.length);
  for (let o = 0; o < factor.length; o++) out[o] = existing ? existing[o] * factor[o] : factor[o];
  return out;
}

/**
 * Folds every batch norm that directly follows a convolution (with nothing fused yet and no other reader)
 * into that convolution. A batch norm that cannot fold becomes a depthwise 1x1 convolution, so the executor
 * needs no kernel of its own for it.
 */
export function foldBatchNorm(graph: Graph): Graph {
  const counts = readerCounts(graph);
  const made = producers(graph);
  const folded = new Map<GraphNode, Conv2dNode>();
  const removed = new Set<GraphNode>();
  for (const node of graph.nodes) {
    if (node.op !== 'batchNorm') continue;
    const src = made.get(node.inputs[0]);
    if (
      src?.op === 'conv2d' &&
      src.inputs.length === 1 &&
      src.attrs.activation.kind === 'none' &&
      !removed.has(src) &&
      soleReader(counts, graph, src.output)
    ) {
      removed.add(src);
      folded.set(node, foldBatchNormIntoConv(src, node));
    } else {
      folded.set(node, batchNormAsDepthwiseConv(node, graph.tensors[node.inputs[0]].shape[1]));
    }
  }
  const nodes = graph.nodes.filter((n) => !removed.has(n)).map((n) => folded.get(n) ?? n);
  return { ...graph, nodes };
}

function batchNormAsDepthwiseConv(bn: BatchNormNode, channels: number): Conv2dNode {
  const { scale, shift } = batchNormScaleShift(bn.attrs);
  return {
    op: 'conv2d',
    name: bn.name,
    inputs: bn.inputs,
    output: bn.output,
    attrs: {
      outChannels: channels,
      kernel: [1, 1],
      stride: [1, 1],
      pads: [0, 0, 0, 0],
      dilation: [1, 1],
      groups: channels,
      weight: scale,
      bias: shift,
      activation: NO_ACTIVATION,
    },
  };
}
