/**
 * The graph IR every loader and builder produces and every pass, planner and executor consumes.
 *
 * Tensors are logically NCHW (`[n, c, h, w]`), whatever the GPU storage layout is; rank-2 tensors such as
 * logits are `[n, c, 1, 1]`. Weights keep PyTorch's layouts so that loaders and builders can hand them over
 * untouched: conv `[outC, inC / groups, kh, kw]`, linear `[out, in]`.
 *
 * Nodes are stored in execution (topological) order; `validateGraph` checks that.
 */

import type { ActivationFunction } from './activations/types.ts';

export type TensorId = number;

/** Logical shape `[n, c, h, w]`. */
export type Shape4 = readonly [number, number, number, number];

export interface TensorInfo {
  readonly id: TensorId;
  readonly name: string;
  readonly shape: Shape4;
}

/**
 * Output activation applied after bias (and after the residual add, when one is fused): a clamp (none, relu,
 * relu6, clip), or a function of the activation table (`src/graph/activations/`), which does not compose.
 */
export type Activation =
  | { readonly kind: 'none' }
  | { readonly kind: 'relu' }
  | { readonly kind: 'relu6' }
  | { readonly kind: 'clip'; readonly min: number; readonly max: number }
  | ({ readonly kind: 'function' } & ActivationFunction);

/** The clamp kinds: these compose with each other and run as the epilogue's uniform-bounded clamp. */
export function isClamp(a: Activation): boolean {
  return a.kind !== 'none' && a.kind !== 'function';
}

export const NO_ACTIVATION: Activation = { kind: 'none' };
export const RELU: Activation = { kind: 'relu' };
export const RELU6: Activation = { kind: 'relu6' };

/**
 * The `[min, max]` interval an activation clamps to (infinite bounds for none). A clip is `min(max(v, min), max)`
 * (ONNX's rule), so one with `min > max` gives `max` everywhere: its interval is `[max, max]`. Normalised here,
 * so that composing clamps stays exact and no kernel gets WGSL's `clamp` with `low > high` (undefined there).
 */
export function activationBounds(a: Activation): [number, number] {
  switch (a.kind) {
    case 'none':
      return [-Infinity, Infinity];
    case 'relu':
      return [0, Infinity];
    case 'relu6':
      return [0, 6];
    case 'clip':
      return [Math.min(a.min, a.max), a.max];
    case 'function':
      return [-Infinity, Infinity];
  }
}

/** Composes two clamps applied one after the other (first `a`, then `b`); a function composes only with none. */
export function composeActivations(a: Activation, b: Activation): Activation {
  if (a.kind === 'none') return b;
  if (b.kind === 'none') return a;
  if (a.kind === 'function' || b.kind === 'function') throw new Error(`cannot compose activations ${a.kind} and ${b.kind}`);
  const [amin, amax] = activationBounds(a);
  const [bmin, bmax] = activationBounds(b);
  const min = Math.min(Math.max(amin, bmin), bmax);
  const max = Math.max(Math.min(amax, bmax), min);
  if (min === 0 && max === Infinity) return RELU;
  if (min === 0 && max === 6) return RELU6;
  return { kind: 'clip', min, max };
}

/** Padding as `[top, left, bottom, right]`. */
export type Pads = readonly [number, number, number, number];

export function addPads(a: Pads, b: Pads): [number, number, number, number] {
  return [a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3]];
}

export interface BatchNormParams {
  readonly gamma: Float32Array;
  readonly beta: Float32Array;
  readonly mean: Float32Array;
  readonly variance: Float32Array;
  readonly epsilon: number;
}

export interface Conv2dAttrs {
  readonly outChannels: number;
  readonly kernel: readonly [number, number];
  readonly stride: readonly [number, number];
  readonly pads: Pads;
  readonly dilation: readonly [number, number];
  readonly groups: number;
  /** `[outC, inC / groups, kh, kw]`, times `weightScale` where there is one: read it through `convWeight`. */
  readonly weight: Float32Array;
  /**
   * `[outC]` factors the weights of each output channel are multiplied by, or absent for none. Batch-norm
   * folding sets it instead of writing a scaled copy of the weights: the GPU packing multiplies as it packs, so
   * ResNet-50's 100 MB of weights are not copied once more at load. f64, so a folded weight rounds to f32
   * once, as `weight * (gamma / sqrt(var + eps))` computed eagerly would.
   */
  readonly weightScale?: Float64Array;
  /** `[outC]`, or null for no bias. */
  readonly bias: Float32Array | null;
  readonly activation: Activation;
  /** A per-channel transform of the input, applied as the convolution loads it (`ConvInputTransform`); absent: none. */
  readonly input?: ConvInputTransform;
}

const scaledWeights = new WeakMap<Conv2dAttrs, Float32Array>();

/**
 * A convolution's effective weights, `weight[o, ...] * weightScale[o]` (computed once per attribute object and
 * kept while it lives), or `weight` itself when there is no scale. Everything that reads conv weights as
 * numbers goes through this, except the GPU packing, which applies the scale itself.
 */
export function convWeight(attrs: Conv2dAttrs): Float32Array {
  const scale = attrs.weightScale;
  if (!scale) return attrs.weight;
  let scaled = scaledWeights.get(attrs);
  if (!scaled) {
    const w = attrs.weight;
    const perOut = w.length / attrs.outChannels;
    scaled = new Float32Array(w.length);
    for (let o = 0, k = 0; o < attrs.outChannels; o++) {
      const s = scale[o];
      for (let i = 0; i < perOut; i++, k++) scaled[k] = w[k] * s;
    }
    scaledWeights.set(attrs, scaled);
  }
  return scaled;
}

export interface PoolAttrs {
  readonly kernel: readonly [number, number];
  readonly stride: readonly [number, number];
  readonly pads: Pads;
  readonly dilation: readonly [number, number];
  /** Output size rounds up instead of down (ONNX `ceil_mode`). */
  readonly ceilMode: boolean;
  /** Average pool only: padded positions count in the divisor. */
  readonly countIncludePad: boolean;
}

export interface LinearAttrs {
  readonly outFeatures: number;
  /** `[out, in]`. */
  readonly weight: Float32Array;
  /** `[out]`, or null. */
  readonly bias: Float32Array | null;
  readonly activation: Activation;
  /**
   * A global average pool fused in front (`fusePoolLinear`): the input is a `[n, in, h, w]` map and the layer
   * reads each channel's mean over `h x w`, i.e. computes `linear(globalAvgPool(x))` in one node. Absent or
   * false: the input is flat, `[n, in, 1, 1]`.
   */
  readonly poolInput?: boolean;
}

interface NodeBase {
  /** Human-readable origin, e.g. `features.3.conv.1.0` or an ONNX node name; used in errors and timings. */
  readonly name: string;
  readonly inputs: readonly TensorId[];
  readonly output: TensorId;
}

/**
 * `inputs[0]` is the activation input; `inputs[1]`, when present, is a residual added to the result before
 * the activation: `act(conv(x) + bias + residual)`. With a `channelScale` input transform the scale is the last
 * input (read them through `convResidual` and `convChannelScale`).
 */
export interface Conv2dNode extends NodeBase {
  readonly op: 'conv2d';
  readonly attrs: Conv2dAttrs;
}
export interface BatchNormNode extends NodeBase {
  readonly op: 'batchNorm';
  readonly attrs: BatchNormParams;
}
export interface ActivationNode extends NodeBase {
  readonly op: 'activation';
  readonly attrs: { readonly activation: Activation };
}
/**
 * Element-wise sum, then an activation. The operands have the same shape, or broadcast NumPy-style over the
 * four IR axes (each axis equal, or 1 in one operand); the output has the broadcast shape. Only same-shaped
 * adds fuse into a convolution's epilogue.
 */
export interface AddNode extends NodeBase {
  readonly op: 'add';
  readonly attrs: { readonly activation: Activation };
}
export interface MaxPoolNode extends NodeBase {
  readonly op: 'maxPool';
  readonly attrs: PoolAttrs;
}
export interface AvgPoolNode extends NodeBase {
  readonly op: 'avgPool';
  readonly attrs: PoolAttrs;
}
export interface GlobalAvgPoolNode extends NodeBase {
  readonly op: 'globalAvgPool';
  readonly attrs: Record<string, never>;
}
/** `[n, c, h, w]` -> `[n, c*h*w, 1, 1]` in NCHW element order (PyTorch's `flatten(1)`). */
export interface FlattenNode extends NodeBase {
  readonly op: 'flatten';
  readonly attrs: Record<string, never>;
}
/** Fully connected layer on a `[n, in, 1, 1]` tensor (on a `[n, in, h, w]` map with `attrs.poolInput`). */
export interface LinearNode extends NodeBase {
  readonly op: 'linear';
  readonly attrs: LinearAttrs;
}
/**
 * Softmax. Without `axes`: over the channel axis of a `[n, c, 1, 1]` tensor. With `axes = [first, last]`
 * (`0 <= first <= last <= 3`): jointly over the contiguous NCHW axes `first..last`, for each index of the
 * other axes, on any shape (`[1, 1]` is the channel axis of a spatial map, `[2, 3]` the spatial plane,
 * `[1, 3]` ONNX's opset < 13 "coerce to 2-D at axis 1").
 */
export interface SoftmaxAttrs {
  readonly axes?: readonly [number, number];
}
export interface SoftmaxNode extends NodeBase {
  readonly op: 'softmax';
  readonly attrs: SoftmaxAttrs;
}
/**
 * Reinterprets a tensor as `shape` (same element count) keeping NCHW element order, as ONNX Reshape and
 * PyTorch `reshape` do; `flatten` is the special case `[n, c*h*w, 1, 1]`. On the GPU it is free when the
 * NHWC4 storage is the same (`n` and `c` unchanged, `h*w` unchanged) and a gather otherwise.
 */
export interface ReshapeNode extends NodeBase {
  readonly op: 'reshape';
  readonly attrs: { readonly shape: Shape4 };
}
/**
 * Constant padding of the spatial axes: `pads` is `[top, left, bottom, right]`; a negative pad crops. Every
 * new position holds `value`. (Zero padding in front of a convolution is better expressed as its `pads`.)
 */
export interface PadNode extends NodeBase {
  readonly op: 'pad';
  readonly attrs: { readonly pads: Pads; readonly value: number };
}
/**
 * Concatenation along the channel axis (ONNX Concat on axis 1, TFLite CONCATENATION on NHWC's last axis): the
 * inputs agree on `n`, `h` and `w`; the output's channels are theirs in input order.
 */
export interface ConcatNode extends NodeBase {
  readonly op: 'concat';
  readonly attrs: Record<string, never>;
}
/**
 * Channels `start .. start + count - 1` of the input (ONNX Split / Slice, TFLite SPLIT / SPLIT_V /
 * STRIDED_SLICE on channels; a split is one such node per part).
 */
export interface SliceChannelsNode extends NodeBase {
  readonly op: 'sliceChannels';
  readonly attrs: { readonly start: number; readonly count: number };
}

/** How Resize maps an output coordinate to the input (ONNX `coordinate_transformation_mode`). */
export type ResizeCoordinates = 'half_pixel' | 'pytorch_half_pixel' | 'align_corners' | 'asymmetric';
/** How nearest-neighbour Resize rounds a fractional input coordinate (ONNX `nearest_mode`). */
export type NearestRounding = 'round_prefer_floor' | 'round_prefer_ceil' | 'floor' | 'ceil';

/**
 * Spatial resize to the output tensor's `h x w`. `scale` is ONNX's per-axis `[scaleH, scaleW]` (output per input;
 * `outSize / inSize` when sizes were given), used by the half-pixel and asymmetric transforms. `linear` is
 * bilinear over H and W with the source coordinate clamped to the input; `nearest` rounds it by `nearest`.
 */
export interface ResizeAttrs {
  readonly mode: 'nearest' | 'linear';
  readonly coordinates: ResizeCoordinates;
  readonly nearest: NearestRounding;
  readonly scale: readonly [number, number];
  readonly size: readonly [number, number];
}
export interface ResizeNode extends NodeBase {
  readonly op: 'resize';
  readonly attrs: ResizeAttrs;
}
/**
 * Index of the largest channel of each pixel (the first on ties): `[n, c, h, w]` -> `[n, 1, h, w]`. The index is
 * stored as an exact f32 (channels < 2^24); docs/decisions/argmax-output.md says how it is read back.
 */
export interface ArgMaxNode extends NodeBase {
  readonly op: 'argMax';
  readonly attrs: Record<string, never>;
}
export interface ConvTransposeAttrs {
  readonly outChannels: number;
  readonly kernel: readonly [number, number];
  readonly stride: readonly [number, number];
  /** `[top, left, bottom, right]`: cropped from the full transposed output. */
  readonly pads: Pads;
  /** Extra rows / columns at the bottom / right (ONNX `output_padding`). */
  readonly outputPadding: readonly [number, number];
  readonly dilation: readonly [number, number];
  readonly groups: number;
  /** `[inC, outC / groups, kh, kw]` (PyTorch's and ONNX's ConvTranspose layout). */
  readonly weight: Float32Array;
  /** `[outC]`, or null. */
  readonly bias: Float32Array | null;
}
/** Transposed convolution (the gradient of a convolution with respect to its input). */
export interface ConvTransposeNode extends NodeBase {
  readonly op: 'convTranspose';
  readonly attrs: ConvTransposeAttrs;
}

/** The element-wise binary ops of `binary` nodes; each one's CPU rule and WGSL are one entry of `BINARY_OPS`. */
export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'min' | 'max' | 'squaredDifference' | 'prelu';

/** A constant operand of a `binary` node, NCHW values of `shape` (which broadcasts against the other operand). */
export interface BinaryConstant {
  /** Which operand it is: 0 for `a` (`c op x`), 1 for `b` (`x op c`). */
  readonly operand: 0 | 1;
  readonly shape: Shape4;
  readonly values: Float32Array;
}

/**
 * `act(a op b)` element-wise with NumPy-style broadcasting over the four axes (each axis equal, or 1 in one
 * operand); the output has the broadcast shape. Two computed operands (`inputs` = `[a, b]`), or one computed
 * operand (`inputs[0]`) and `attrs.constant` in the other place. The residual `add` stays its own op, since it
 * fuses into convolutions.
 */
export interface BinaryNode extends NodeBase {
  readonly op: 'binary';
  readonly attrs: { readonly op: BinaryOp; readonly activation: Activation; readonly constant?: BinaryConstant };
}

/**
 * Layer normalisation over the channel axis of each pixel (ONNX LayerNormalization on the last axis of a
 * channels-last view, ConvNeXt's LayerNorm2d): `(x - mean) / sqrt(var + epsilon) * gamma + beta`, with the mean
 * and the biased variance over the `c` channels of each `(n, y, x)`.
 */
export interface LayerNormAttrs {
  readonly epsilon: number;
  /** `[c]`. */
  readonly gamma: Float32Array;
  /** `[c]`, or null (no shift). */
  readonly beta: Float32Array | null;
}
export interface LayerNormNode extends NodeBase {
  readonly op: 'layerNorm';
  readonly attrs: LayerNormAttrs;
}

export type GraphNode =
  | Conv2dNode
  | BatchNormNode
  | ActivationNode
  | AddNode
  | MaxPoolNode
  | AvgPoolNode
  | GlobalAvgPoolNode
  | FlattenNode
  | LinearNode
  | SoftmaxNode
  | ReshapeNode
  | PadNode
  | ResizeNode
  | ArgMaxNode
  | ConvTransposeNode
  | BinaryNode
  | ConcatNode
  | SliceChannelsNode
  | ShuffleChannelsNode
  | LayerNormNode
  | MatMulNode
  | ReduceChannelsNode;

/**
 * ShuffleNet's channel shuffle (ONNX Reshape to `[n, groups, c / groups, h, w]`, Transpose `[0, 2, 1, 3, 4]`,
 * Reshape back): output channel `j * groups + k` is input channel `k * (c / groups) + j`.
 */
export interface ShuffleChannelsNode extends NodeBase {
  readonly op: 'shuffleChannels';
  readonly attrs: { readonly groups: number };
}

/**
 * A batched matrix product over the last two IR axes (ONNX MatMul and Gemm of computed operands): for every
 * `(n, c)` of the broadcast batch, `alpha * op(A) @ op(B) + beta * C`, where `op` transposes when `transA` /
 * `transB` is set, `A` is `[nA, cA, M, K]` (`[.., K, M]` transposed), `B` is `[nB, cB, K, N]` (`[.., N, K]`
 * transposed), and the output `[n, c, M, N]`; batch axes broadcast (each equal, or 1 in one operand).
 * The bias C is `inputs[2]` when computed, or `attrs.bias` when constant, or absent; it broadcasts to the output.
 */
export interface MatMulAttrs {
  readonly transA: boolean;
  readonly transB: boolean;
  readonly alpha: number;
  readonly beta: number;
  /** A constant bias C: NCHW values of `shape`, which broadcasts to the output's. */
  readonly bias: { readonly shape: Shape4; readonly values: Float32Array } | null;
}
export interface MatMulNode extends NodeBase {
  readonly op: 'matMul';
  readonly attrs: MatMulAttrs;
}

/**
 * The mean or the maximum over the channel axis of each pixel: `[n, c, h, w]` -> `[n, 1, h, w]` (ONNX ReduceMean /
 * ReduceMax over axis 1).
 */
export interface ReduceChannelsNode extends NodeBase {
  readonly op: 'reduceChannels';
  readonly attrs: { readonly op: 'mean' | 'max' };
}

export type OpType = GraphNode['op'];

export interface Graph {
  /** Indexed by TensorId. */
  readonly tensors: readonly TensorInfo[];
  readonly nodes: readonly GraphNode[];
  readonly inputs: readonly TensorId[];
  readonly outputs: readonly TensorId[];
}

export function elementCount(shape: Shape4): number {
  return shape[0] * shape[1] * shape[2] * shape[3];
}

/** Whether two IR shapes are equal, axis by axis. */
export function sameShape(a: Shape4, b: Shape4): boolean {
  return a[0] === b[0] && a[1] === b[1] && a[2] === b[2] && a[3] === b[3];
}

export function shapeToString(shape: Shape4): string {
  return `[${shape.join(', ')}]`;
}

export function tensorShape(graph: Graph, id: TensorId): Shape4 {
  return graph.tensors[id].shape;
}

/**
 * A per-input-channel transform a convolution applies to each input value as it loads it (the `fuseInputTransforms`
 * pass), so that the transformed map is never written and read back:
 * - `channelScale`: `x[n, c, y, x] * s[n, c]` with `s` a computed `[n, c, 1, 1]` tensor, the convolution's last
 *   input (squeeze-and-excitation's gate);
 * - `affine`: `clamp(x * scale[c] + shift[c])` with constants and a clamp activation (a batch norm, and its ReLU,
 *   that follows no convolution: DenseNet's pre-activation after a concat).
 * Zero padding pads the transformed map (padded taps stay 0), as if the transform were its own node before.
 */
export type ConvInputTransform =
  | { readonly kind: 'channelScale' }
  | { readonly kind: 'affine'; readonly scale: Float32Array; readonly shift: Float32Array; readonly activation: Activation };

/** A convolution's fused residual input, if it has one. */
export function convResidual(node: Conv2dNode): TensorId | undefined {
  const own = node.attrs.input?.kind === 'channelScale' ? 2 : 1;
  return node.inputs.length > own ? node.inputs[1] : undefined;
}

/** The `[n, c, 1, 1]` tensor a convolution's `channelScale` input transform multiplies its input by, if any. */
export function convChannelScale(node: Conv2dNode): TensorId | undefined {
  return node.attrs.input?.kind === 'channelScale' ? node.inputs[node.inputs.length - 1] : undefined;
}
