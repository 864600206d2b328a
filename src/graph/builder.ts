import { GraphError, ShapeError } from '../errors.ts';
import type {
  Activation,
  BatchNormParams,
  BinaryConstant,
  BinaryOp,
  Graph,
  GraphNode,
  Pads,
  PoolAttrs,
  Shape4,
  TensorId,
  TensorInfo,
} from './ir.ts';
import type { ConvTransposeAttrs, NearestRounding, ResizeAttrs, ResizeCoordinates } from './ir.ts';
import { argMaxOutputShape, convTransposeOutputShape, resizeOutputShape } from './shapes-upsample.ts';
import { NO_ACTIVATION, RELU, RELU6, elementCount, shapeToString } from './ir.ts';
import { concatOutputShape, shuffleChannelsShape, sliceChannelsShape } from './channel-shapes.ts';
import type { LayerNormAttrs } from './ir.ts';
import { checkLayerNorm } from './layer-norm-shapes.ts';
import type { MatMulAttrs } from './ir.ts';
import { matMulOutputShape } from './matmul-shapes.ts';
import { broadcastShapes, checkReshape, checkSoftmaxAxes, conv2dOutputShape, padOutputShape, poolOutputShape } from './shapes.ts';

export interface Conv2dOptions {
  outChannels: number;
  kernel: number | readonly [number, number];
  stride?: number | readonly [number, number];
  /** Symmetric padding per axis, or explicit `[top, left, bottom, right]`. */
  padding?: number | readonly [number, number] | Pads;
  dilation?: number | readonly [number, number];
  groups?: number;
  weight: Float32Array;
  bias?: Float32Array | null;
  activation?: Activation;
}

/** A constant operand of `GraphBuilder.binary`: NCHW values of `shape`. */
export interface BinaryConstantOperand {
  readonly shape: Shape4;
  readonly values: Float32Array;
}

/** A `binary` operand: a tensor of the graph, or a constant. */
export type BinaryOperand = TensorId | BinaryConstantOperand;

export interface PoolOptions {
  kernel: number | readonly [number, number];
  stride?: number | readonly [number, number];
  padding?: number | readonly [number, number] | Pads;
  dilation?: number | readonly [number, number];
  ceilMode?: boolean;
  countIncludePad?: boolean;
}

export interface LinearOptions {
  outFeatures: number;
  weight: Float32Array;
  bias?: Float32Array | null;
  activation?: Activation;
}

function pair(v: number | readonly [number, number]): [number, number] {
  return typeof v === 'number' ? [v, v] : [v[0], v[1]];
}

function toPads(v: number | readonly [number, number] | Pads): Pads {
  if (typeof v === 'number') return [v, v, v, v];
  if (v.length === 2) return [v[0], v[1], v[0], v[1]];
  return [v[0], v[1], v[2], v[3]];
}

/**
 * Builds a `Graph` op by op, inferring and checking shapes as it goes. Every method takes an optional node
 * name (model builders pass the PyTorch module path) and returns the id of the tensor it produced.
 */
export class GraphBuilder {
  private readonly tensors: TensorInfo[] = [];
  private readonly nodes: GraphNode[] = [];
  private readonly inputs: TensorId[] = [];
  private readonly outputs: TensorId[] = [];
  private autoName = 0;

  shape(id: TensorId): Shape4 {
    const t = this.tensors[id];
    if (!t) throw new GraphError(`tensor ${id} does not exist`);
    return t.shape;
  }

  input(name: string, shape: Shape4): TensorId {
    if (!shape.every((d) => Number.isInteger(d) && d >= 1)) {
      throw new ShapeError(`input ${name}: shape ${shapeToString(shape)} must have positive integer dimensions`);
    }
    const id = this.addTensor(name, shape);
    this.inputs.push(id);
    return id;
  }

  output(id: TensorId): void {
    this.shape(id);
    this.outputs.push(id);
  }

  conv2d(x: TensorId, o: Conv2dOptions, name = this.nextName('conv')): TensorId {
    const attrs = {
      outChannels: o.outChannels,
      kernel: pair(o.kernel),
      stride: pair(o.stride ?? 1),
      pads: toPads(o.padding ?? 0),
      dilation: pair(o.dilation ?? 1),
      groups: o.groups ?? 1,
      weight: o.weight,
      bias: o.bias ?? null,
      activation: o.activation ?? NO_ACTIVATION,
    };
    const shape = conv2dOutputShape(this.shape(x), attrs, name);
    return this.addNode({ op: 'conv2d', name, inputs: [x], output: -1, attrs }, shape);
  }

  batchNorm(x: TensorId, params: BatchNormParams, name = this.nextName('bn')): TensorId {
    const c = this.shape(x)[1];
    for (const key of ['gamma', 'beta', 'mean', 'variance'] as const) {
      if (params[key].length !== c) {
        throw new ShapeError(`${name}: batch norm ${key} has ${params[key].length} values, expected ${c}`);
      }
    }
    return this.addNode({ op: 'batchNorm', name, inputs: [x], output: -1, attrs: params }, this.shape(x));
  }

  activation(x: TensorId, activation: Activation, name = this.nextName(activation.kind)): TensorId {
    return this.addNode({ op: 'activation', name, inputs: [x], output: -1, attrs: { activation } }, this.shape(x));
  }

  relu(x: TensorId, name?: string): TensorId {
    return this.activation(x, RELU, name);
  }

  relu6(x: TensorId, name?: string): TensorId {
    return this.activation(x, RELU6, name);
  }

  /** `act(a + b)`; the operands have the same shape or broadcast NumPy-style (each axis equal or 1). */
  add(a: TensorId, b: TensorId, name = this.nextName('add'), activation: Activation = NO_ACTIVATION): TensorId {
    const sa = this.shape(a);
    const sb = this.shape(b);
    const out = broadcastShapes(sa, sb);
    if (!out) {
      throw new ShapeError(`${name}: add operands differ in shape, ${shapeToString(sa)} vs ${shapeToString(sb)}, and do not broadcast`);
    }
    return this.addNode({ op: 'add', name, inputs: [a, b], output: -1, attrs: { activation } }, out);
  }

  maxPool(x: TensorId, o: PoolOptions, name = this.nextName('maxpool')): TensorId {
    const attrs = this.poolAttrs(o);
    return this.addNode({ op: 'maxPool', name, inputs: [x], output: -1, attrs }, poolOutputShape(this.shape(x), attrs, name));
  }

  avgPool(x: TensorId, o: PoolOptions, name = this.nextName('avgpool')): TensorId {
    const attrs = this.poolAttrs(o);
    if (attrs.dilation[0] !== 1 || attrs.dilation[1] !== 1) {
      throw new ShapeError(`${name}: average pool has no dilation`);
    }
    return this.addNode({ op: 'avgPool', name, inputs: [x], output: -1, attrs }, poolOutputShape(this.shape(x), attrs, name));
  }

  globalAvgPool(x: TensorId, name = this.nextName('gap')): TensorId {
    const [n, c] = this.shape(x);
    return this.addNode({ op: 'globalAvgPool', name, inputs: [x], output: -1, attrs: {} }, [n, c, 1, 1]);
  }

  flatten(x: TensorId, name = this.nextName('flatten')): TensorId {
    const [n, c, h, w] = this.shape(x);
    return this.addNode({ op: 'flatten', name, inputs: [x], output: -1, attrs: {} }, [n, c * h * w, 1, 1]);
  }

  linear(x: TensorId, o: LinearOptions, name = this.nextName('linear')): TensorId {
    const [n, c, h, w] = this.shape(x);
    if (h !== 1 || w !== 1) {
      throw new ShapeError(`${name}: linear needs a flat [n, features] input, got ${shapeToString(this.shape(x))}`);
    }
    if (o.weight.length !== o.outFeatures * c) {
      throw new ShapeError(
        `${name}: linear weight has ${o.weight.length} values, expected ${o.outFeatures * c} ([${o.outFeatures}, ${c}])`,
      );
    }
    if (o.bias && o.bias.length !== o.outFeatures) {
      throw new ShapeError(`${name}: linear bias has ${o.bias.length} values, expected ${o.outFeatures}`);
    }
    const attrs = {
      outFeatures: o.outFeatures,
      weight: o.weight,
      bias: o.bias ?? null,
      activation: o.activation ?? NO_ACTIVATION,
    };
    return this.addNode({ op: 'linear', name, inputs: [x], output: -1, attrs }, [n, o.outFeatures, 1, 1]);
  }

  /**
   * Softmax over the features of a flat `[n, c, 1, 1]` tensor; with `axes = [first, last]`, jointly over the
   * NCHW axes `first..last` of any tensor (see `SoftmaxNode`).
   */
  softmax(x: TensorId, name = this.nextName('softmax'), axes?: readonly [number, number]): TensorId {
    const s = this.shape(x);
    if (axes) {
      checkSoftmaxAxes(axes, name);
      return this.addNode({ op: 'softmax', name, inputs: [x], output: -1, attrs: { axes: [axes[0], axes[1]] } }, s);
    }
    if (s[2] !== 1 || s[3] !== 1) {
      throw new ShapeError(`${name}: softmax runs over the features of a flat tensor, got ${shapeToString(s)}`);
    }
    return this.addNode({ op: 'softmax', name, inputs: [x], output: -1, attrs: {} }, s);
  }

  /** Reinterprets `x` as `shape` (same element count), keeping NCHW element order. */
  reshape(x: TensorId, shape: Shape4, name = this.nextName('reshape')): TensorId {
    const out = checkReshape(this.shape(x), shape, name);
    return this.addNode({ op: 'reshape', name, inputs: [x], output: -1, attrs: { shape: out } }, out);
  }

  /** Constant padding of the spatial axes, `pads` = `[top, left, bottom, right]` (negative crops). */
  pad(x: TensorId, o: { pads: Pads; value?: number }, name = this.nextName('pad')): TensorId {
    const pads: Pads = [o.pads[0], o.pads[1], o.pads[2], o.pads[3]];
    const out = padOutputShape(this.shape(x), pads, name);
    return this.addNode({ op: 'pad', name, inputs: [x], output: -1, attrs: { pads, value: o.value ?? 0 } }, out);
  }

  /**
   * Spatial resize to `size` (`[h, w]`); `scale` (output per input, per axis) defaults to `size / input size`.
   * Defaults: half-pixel coordinates, nearest rounding `round_prefer_floor` (ONNX's defaults).
   */
  resize(
    x: TensorId,
    o: { mode: 'nearest' | 'linear'; size: readonly [number, number]; scale?: readonly [number, number]; coordinates?: ResizeCoordinates; nearest?: NearestRounding },
    name = this.nextName('resize'),
  ): TensorId {
    const s = this.shape(x);
    const attrs: ResizeAttrs = {
      mode: o.mode,
      coordinates: o.coordinates ?? 'half_pixel',
      nearest: o.nearest ?? 'round_prefer_floor',
      scale: o.scale ? [o.scale[0], o.scale[1]] : [o.size[0] / s[2], o.size[1] / s[3]],
      size: [o.size[0], o.size[1]],
    };
    return this.addNode({ op: 'resize', name, inputs: [x], output: -1, attrs }, resizeOutputShape(s, attrs, name));
  }

  /** Index of the largest channel per pixel, `[n, 1, h, w]` (stored as exact f32). */
  argMax(x: TensorId, name = this.nextName('argmax')): TensorId {
    return this.addNode({ op: 'argMax', name, inputs: [x], output: -1, attrs: {} }, argMaxOutputShape(this.shape(x), name));
  }

  /** Transposed convolution; `weight` is `[inC, outC / groups, kh, kw]`. */
  convTranspose(
    x: TensorId,
    o: { outChannels: number; kernel: number | readonly [number, number]; stride?: number | readonly [number, number]; padding?: number | readonly [number, number] | Pads;
      outputPadding?: number | readonly [number, number]; dilation?: number | readonly [number, number]; groups?: number; weight: Float32Array; bias?: Float32Array | null },
    name = this.nextName('convtranspose'),
  ): TensorId {
    const attrs: ConvTransposeAttrs = {
      outChannels: o.outChannels,
      kernel: pair(o.kernel),
      stride: pair(o.stride ?? 1),
      pads: toPads(o.padding ?? 0),
      outputPadding: pair(o.outputPadding ?? 0),
      dilation: pair(o.dilation ?? 1),
      groups: o.groups ?? 1,
      weight: o.weight,
      bias: o.bias ?? null,
    };
    return this.addNode({ op: 'convTranspose', name, inputs: [x], output: -1, attrs }, convTransposeOutputShape(this.shape(x), attrs, name));
  }

  /**
   * `act(a op b)` element-wise with NumPy-style broadcasting; either operand (not both) may be a constant given
   * as NCHW `values` of `shape`.
   */
  binary(op: BinaryOp, a: BinaryOperand, b: BinaryOperand, name = this.nextName(op), activation: Activation = NO_ACTIVATION): TensorId {
    if (typeof a !== 'number' && typeof b !== 'number') throw new GraphError(`${name}: ${op} of two constants (fold it instead)`);
    const shapeOf = (v: BinaryOperand): Shape4 => (typeof v === 'number' ? this.shape(v) : v.shape);
    let constant: BinaryConstant | undefined;
    if (typeof a !== 'number' || typeof b !== 'number') {
      const operand = typeof a === 'number' ? 1 : 0;
      const k = (operand === 0 ? a : b) as BinaryConstantOperand;
      if (!k.shape.every((d) => Number.isInteger(d) && d >= 1) || k.values.length !== elementCount(k.shape)) {
        throw new ShapeError(`${name}: constant operand has ${k.values.length} values, not a ${shapeToString(k.shape)} tensor`);
      }
      constant = { operand, shape: [k.shape[0], k.shape[1], k.shape[2], k.shape[3]], values: k.values };
    }
    const out = broadcastShapes(shapeOf(a), shapeOf(b));
    if (!out) {
      throw new ShapeError(`${name}: ${op} operands differ in shape, ${shapeToString(shapeOf(a))} vs ${shapeToString(shapeOf(b))}, and do not broadcast`);
    }
    const inputs = [a, b].filter((v): v is TensorId => typeof v === 'number');
    return this.addNode({ op: 'binary', name, inputs, output: -1, attrs: { op, activation, ...(constant ? { constant } : {}) } }, out);
  }

  /** Concatenates `xs` along the channel axis, in order. */
  concat(xs: readonly TensorId[], name = this.nextName('concat')): TensorId {
    const out = concatOutputShape(xs.map((x) => this.shape(x)), name);
    return this.addNode({ op: 'concat', name, inputs: [...xs], output: -1, attrs: {} }, out);
  }

  /** Channels `start .. start + count - 1` of `x`. */
  sliceChannels(x: TensorId, start: number, count: number, name = this.nextName('slice')): TensorId {
    const out = sliceChannelsShape(this.shape(x), start, count, name);
    return this.addNode({ op: 'sliceChannels', name, inputs: [x], output: -1, attrs: { start, count } }, out);
  }

  /** ShuffleNet's channel shuffle of `x` in `groups` (see `ShuffleChannelsNode`). */
  shuffleChannels(x: TensorId, groups: number, name = this.nextName('shuffle')): TensorId {
    const out = shuffleChannelsShape(this.shape(x), groups, name);
    return this.addNode({ op: 'shuffleChannels', name, inputs: [x], output: -1, attrs: { groups } }, out);
  }

  /** Layer normalisation over the channels of each pixel (`gamma`, `beta`: `[c]`). */
  layerNorm(x: TensorId, o: { epsilon: number; gamma: Float32Array; beta?: Float32Array | null }, name = this.nextName('layernorm')): TensorId {
    const s = this.shape(x);
    const attrs: LayerNormAttrs = { epsilon: o.epsilon, gamma: o.gamma, beta: o.beta ?? null };
    checkLayerNorm(attrs, s[1], name);
    return this.addNode({ op: 'layerNorm', name, inputs: [x], output: -1, attrs }, s);
  }

  /**
   * `alpha * op(a) @ op(b) + beta * bias` over the last two axes, batched over the first two (`MatMulNode`); the
   * bias is a computed tensor or a constant `{ shape, values }`.
   */
  matMul(
    a: TensorId,
    b: TensorId,
    o: { transA?: boolean; transB?: boolean; alpha?: number; beta?: number; bias?: TensorId | MatMulAttrs['bias'] } = {},
    name = this.nextName('matmul'),
  ): TensorId {
    const computed = typeof o.bias === 'number' ? o.bias : null;
    const attrs: MatMulAttrs = {
      transA: o.transA ?? false,
      transB: o.transB ?? false,
      alpha: o.alpha ?? 1,
      beta: o.beta ?? 1,
      bias: typeof o.bias === 'number' ? null : o.bias ?? null,
    };
    const out = matMulOutputShape(this.shape(a), this.shape(b), computed === null ? null : this.shape(computed), attrs, name);
    return this.addNode({ op: 'matMul', name, inputs: computed === null ? [a, b] : [a, b, computed], output: -1, attrs }, out);
  }

  /** The mean or maximum over the channels of each pixel: `[n, c, h, w]` -> `[n, 1, h, w]`. */
  reduceChannels(x: TensorId, op: 'mean' | 'max', name = this.nextName(`reduce-${op}`)): TensorId {
    const [n, , h, w] = this.shape(x);
    return this.addNode({ op: 'reduceChannels', name, inputs: [x], output: -1, attrs: { op } }, [n, 1, h, w]);
  }

  build(): Graph {
    if (this.inputs.length === 0) throw new GraphError('graph has no inputs');
    if (this.outputs.length === 0) throw new GraphError('graph has no outputs');
    return {
      tensors: [...this.tensors],
      nodes: [...this.nodes],
      inputs: [...this.inputs],
      outputs: [...this.outputs],
    };
  }

  private poolAttrs(o: PoolOptions): PoolAttrs {
    const kernel = pair(o.kernel);
    return {
      kernel,
      stride: pair(o.stride ?? kernel),
      pads: toPads(o.padding ?? 0),
      dilation: pair(o.dilation ?? 1),
      ceilMode: o.ceilMode ?? false,
      countIncludePad: o.countIncludePad ?? true,
    };
  }

  private nextName(prefix: string): string {
    return `${prefix}_${this.autoName++}`;
  }

  private addTensor(name: string, shape: Shape4): TensorId {
    const id = this.tensors.length;
    this.tensors.push({ id, name, shape });
    return id;
  }

  private addNode(node: GraphNode, shape: Shape4): TensorId {
    for (const input of node.inputs) this.shape(input);
    const output = this.addTensor(node.name, shape);
    this.nodes.push({ ...node, output } as GraphNode);
    return output;
  }
}
