import type { Conv2dAttrs, Conv2dNode, LinearNode } from '../src/graph/ir.ts';
import { convResidual } from '../src/graph/ir.ts';
import { inputTransformBuffers } from './conv-input.ts';
import type { WeightPacking } from '../src/runtime/pack-weights.ts';
import { c4, groupedConvPacking, packBias } from '../src/runtime/pack-weights.ts';
import type { BufferRef } from '../src/runtime/step.ts';
import { activationUniforms, constant, packedConstant, tensor } from '../src/runtime/step.ts';
import type { StoragePrecision } from './common.ts';
import type { NodeView } from './family.ts';
import { epilogueActivation } from './common.ts';

/** Pieces every convolution family shares: which convs are which, their common figures and bindings. */

/** A depthwise conv: one filter per channel (groups = in = out channels > 1); the depthwise family runs it. */
export function isDepthwiseConv(view: NodeView): boolean {
  if (view.node.op !== 'conv2d') return false;
  const { groups } = view.node.attrs;
  return groups === view.inShape[1] && view.outShape[1] === view.inShape[1] && groups > 1;
}

/** Any other conv (grouped ones too, through expanded weights): the dense families run it. */
export function isDenseConv(view: NodeView): boolean {
  return view.node.op === 'conv2d' && !isDepthwiseConv(view);
}

/** Whether a dense conv runs as a pointwise GEMM (1x1, no padding; any stride). */
export function isPointwiseConv(a: Pick<Conv2dAttrs, 'kernel' | 'pads'>): boolean {
  return a.kernel[0] === 1 && a.kernel[1] === 1 && a.pads.every((p) => p === 0);
}

/** Figures every conv launch needs: geometry, fused epilogue, packed bias, multiply-accumulates. */
export function convFigures({ node, inShape, outShape }: NodeView<Conv2dNode>) {
  const a = node.attrs;
  const [n, inC, inH, inW] = inShape;
  const [, outC, outH, outW] = outShape;
  const [kh, kw] = a.kernel;
  return {
    a, n, inC, inH, inW, outC, outH, outW, kh, kw,
    residual: convResidual(node) !== undefined,
    ...epilogueActivation(a.activation),
    act: activationUniforms(a.activation),
    bias: packBias(a.bias, outC),
    macs: n * outH * outW * outC * (inC / a.groups) * kh * kw,
  };
}

/** Dense conv weights in the `[kh][kw][inC4][outC4][4]` layout every dense family reads (groups expanded). */
export function denseWeights(view: NodeView<Conv2dNode>): WeightPacking {
  const a = view.node.attrs;
  return groupedConvPacking(a.weight, view.outShape[1], view.inShape[1], a.groups, a.kernel[0], a.kernel[1], a.weightScale ?? null);
}

/**
 * The bindings of `convBindings` (common.ts): input, packed weights, f32 bias, optional residual, a conv's input
 * transform (conv-input.ts), output.
 */
export function convBuffers(
  node: Conv2dNode | LinearNode,
  weight: WeightPacking,
  bias: Float32Array,
  precision: StoragePrecision,
): Record<string, BufferRef> {
  const buffers: Record<string, BufferRef> = {
    src: tensor(node.inputs[0]),
    // f16 and f16-packed store the same bytes: binary16 words, x in the lower half of each 32-bit word.
    weight: packedConstant(weight, precision),
    bias: constant(bias),
    dst: tensor(node.output),
  };
  if (node.op === 'linear') return buffers;
  const residual = convResidual(node);
  if (residual !== undefined) buffers.residual = tensor(residual);
  return { ...buffers, ...inputTransformBuffers(node) };
}

export { c4 };
