/**
 * The same network in TensorFlow.js, built by walking webcnn's graph IR after `optimizeGraph` (BN folded into
 * the convolutions' weights and biases, activations and residual adds fused), so that TF.js computes exactly
 * what webcnn and ONNX Runtime compute, the way a TF.js user would write it:
 *
 * - layout NHWC: the NCHW input is transposed once; logits come out `[n, classes]` (NCHW order for `[n, c, 1, 1]`);
 * - conv2d -> `tf.fused.conv2d` (groups 1) or `tf.fused.depthwiseConv2d` (groups = input channels), bias and
 *   relu / relu6 fused; a fused residual is `act(add(conv(x) + bias, residual))` (TF.js fuses no residual);
 * - global average pool -> `tf.mean` over H and W; linear -> `tf.fused.matMul` with the weight pre-transposed (after
 *   that mean when the graph fused the pool into it, `poolInput`);
 * - max / average pool, add, batch norm (when unfused), flatten, reshape, softmax and pad for completeness.
 *
 * Weights are made as tensors on the backend active when `buildTfjsModel` runs (TF.js moves tensors between
 * backends lazily, so each backend gets its own copy).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Activation, BinaryOp, Graph, GraphNode, Pads, Shape4, TensorId } from '../../src/graph/ir.ts';
import { convWeight } from '../../src/graph/ir.ts';

/** TF.js's op for each binary op of the IR. */
const TFJS_BINARY: { readonly [K in BinaryOp]: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor } = {
  add: tf.add,
  sub: tf.sub,
  mul: tf.mul,
  div: tf.div,
  pow: tf.pow,
  min: tf.minimum,
  max: tf.maximum,
  squaredDifference: tf.squaredDifference,
  prelu: (a, b) => tf.prelu(a, b),
};

/** A value during the walk: rank-4 NHWC, or rank-2 `[n, features]` for IR tensors `[n, features, 1, 1]`. */
interface Value {
  readonly t: tf.Tensor;
  readonly flat: boolean;
}

type Step = (env: Map<TensorId, Value>) => void;

export interface TfjsModel {
  /** NCHW float32 in, the first graph output read back in NCHW element order. */
  run(input: Float32Array): Promise<Float32Array>;
  /** The forward pass on a tensor (inside the caller's `tf.tidy`). */
  forward(inputNchw: tf.Tensor4D): tf.Tensor;
  dispose(): void;
  /** Weight tensors made, and their float count. */
  readonly weightTensors: number;
  readonly weightFloats: number;
}

type FusedActivation = 'linear' | 'relu' | 'relu6';

/** TF.js's fused activation for `a`, plus a clamp to apply after when it has none. */
function splitActivation(a: Activation): { fused: FusedActivation; clamp: [number, number] | null } {
  switch (a.kind) {
    case 'none':
      return { fused: 'linear', clamp: null };
    case 'relu':
      return { fused: 'relu', clamp: null };
    case 'relu6':
      return { fused: 'relu6', clamp: null };
    case 'clip':
      return { fused: 'linear', clamp: [a.min, a.max] };
    case 'function':
      throw new Error(`tfjs-model: activation function ${a.name} is not supported`);
  }
}

function applyActivation(x: tf.Tensor, a: Activation): tf.Tensor {
  switch (a.kind) {
    case 'none':
      return x;
    case 'relu':
      return tf.relu(x);
    case 'relu6':
      return tf.relu6(x);
    case 'clip':
      return tf.clipByValue(x, a.min, a.max);
    case 'function':
      throw new Error(`tfjs-model: activation function ${a.name} is not supported`);
  }
}

function unsupported(node: GraphNode, why: string): Error {
  return new Error(`tfjs-model: node ${node.name} (${node.op}): ${why}`);
}

const symmetric = (p: Pads) => p[0] === p[2] && p[1] === p[3] && p[0] === p[1];

/** IR conv weight `[outC, inC/g, kh, kw]` (channels `o0 .. o0+count` of it) -> TF.js conv2d filter `[kh, kw, inC/g, count]`. */
function convFilter(w: Float32Array, shape: readonly [number, number, number, number], o0 = 0, count = shape[0]): Float32Array {
  const [, ci, kh, kw] = shape;
  const out = new Float32Array(kh * kw * ci * count);
  for (let o = 0; o < count; o++)
    for (let i = 0; i < ci; i++)
      for (let y = 0; y < kh; y++)
        for (let x = 0; x < kw; x++) out[((y * kw + x) * ci + i) * count + o] = w[(((o0 + o) * ci + i) * kh + y) * kw + x];
  return out;
}

/** IR depthwise weight `[c * m, 1, kh, kw]` -> TF.js depthwise filter `[kh, kw, c, m]` (output channel `c * m + j`). */
function depthwiseFilter(w: Float32Array, c: number, m: number, kh: number, kw: number): Float32Array {
  const out = new Float32Array(kh * kw * c * m);
  for (let ch = 0; ch < c; ch++)
    for (let j = 0; j < m; j++)
      for (let y = 0; y < kh; y++)
        for (let x = 0; x < kw; x++) out[((y * kw + x) * c + ch) * m + j] = w[((ch * m + j) * kh + y) * kw + x];
  return out;
}

/** Walks `graph` (ideally after `optimizeGraph`) and returns it as a TF.js model on the current backend. */
export function buildTfjsModel(graph: Graph): TfjsModel {
  if (graph.inputs.length !== 1 || graph.outputs.length < 1) throw new Error('tfjs-model: one input expected');
  const weights: tf.Tensor[] = [];
  let weightFloats = 0;
  const keep = <T extends tf.Tensor>(t: T): T => {
    weights.push(t);
    weightFloats += t.size;
    return t;
  };
  const shapeOf = (id: TensorId): Shape4 => graph.tensors[id].shape;

  const nhwc = (v: Value, id: TensorId): tf.Tensor4D => {
    if (!v.flat) return v.t as tf.Tensor4D;
    const [n, c] = shapeOf(id);
    return tf.reshape(v.t, [n, 1, 1, c]);
  };
  const nchwOf = (v: Value, id: TensorId): tf.Tensor => (v.flat ? v.t : tf.transpose(v.t, [0, 3, 1, 2]));
  /** `[n, c*h*w]` in NCHW element order. */
  const flatOf = (v: Value, id: TensorId): tf.Tensor2D => {
    if (v.flat) return v.t as tf.Tensor2D;
    const [n, c, h, w] = shapeOf(id);
    return tf.reshape(h * w === 1 ? v.t : tf.transpose(v.t, [0, 3, 1, 2]), [n, c * h * w]);
  };

  const steps: Step[] = graph.nodes.map((node): Step => {
    const out = node.output;
    const inShape = shapeOf(node.inputs[0]);
    switch (node.op) {
      case 'conv2d': {
        const a = node.attrs;
        const [kh, kw] = a.kernel;
        const inC = inShape[1];
        const g = a.groups;
        const wShape = [a.outChannels, inC / g, kh, kw] as const;
        const { fused, clamp } = splitActivation(a.activation);
        if (a.input) throw new Error(`tfjs-model: ${node.name} has an input transform (optimize with fuseInputTransforms: false)`);
        const residual = node.inputs.length > 1 ? node.inputs[1] : null;
        const act: FusedActivation = residual === null ? fused : 'linear';
        const stride = a.stride as [number, number];
        const dilations = a.dilation as [number, number];
        const p = a.pads;
        const explicit: tf.backend_util.ExplicitPadding = [[0, 0], [p[0], p[2]], [p[1], p[3]], [0, 0]];
        let conv: (x: tf.Tensor4D) => tf.Tensor4D;
        if (g === 1) {
          const filter = keep(tf.tensor4d(convFilter(convWeight(a), wShape), [kh, kw, inC, a.outChannels]));
          const bias = a.bias ? keep(tf.tensor1d(a.bias)) : undefined;
          const pad = symmetric(p) ? p[0] : explicit;
          conv = (x) => tf.fused.conv2d({ x, filter, strides: stride, pad, dilations, bias, activation: act });
        } else if (g === inC && a.outChannels % inC === 0) {
          const m = a.outChannels / inC;
          const filter = keep(tf.tensor4d(depthwiseFilter(convWeight(a), inC, m, kh, kw), [kh, kw, inC, m]));
          const bias = a.bias ? keep(tf.tensor1d(a.bias)) : undefined;
          if (symmetric(p)) {
            conv = (x) => tf.fused.depthwiseConv2d({ x, filter, strides: stride, pad: p[0], dilations, bias, activation: act });
          } else {
            conv = (x) =>
              tf.fused.depthwiseConv2d({ x: tf.pad(x, explicit), filter, strides: stride, pad: 'valid', dilations, bias, activation: act });
          }
        } else {
          // Grouped: one conv per group over its channel slice, concatenated.
          const og = a.outChannels / g;
          const parts = Array.from({ length: g }, (_, k) => ({
            filter: keep(tf.tensor4d(convFilter(convWeight(a), wShape, k * og, og), [kh, kw, inC / g, og])),
            bias: a.bias ? keep(tf.tensor1d(a.bias.subarray(k * og, (k + 1) * og))) : undefined,
          }));
          const pad = symmetric(p) ? p[0] : explicit;
          conv = (x) => {
            const xs = tf.split(x, g, 3) as tf.Tensor4D[];
            return tf.concat4d(
              parts.map(({ filter, bias }, k) => tf.fused.conv2d({ x: xs[k], filter, strides: stride, pad, dilations, bias, activation: act })),
              3,
            );
          };
        }
        return (env) => {
          let y: tf.Tensor = conv(nhwc(env.get(node.inputs[0])!, node.inputs[0]));
          if (residual !== null) {
            y = tf.add(y, nhwc(env.get(residual)!, residual));
            y = applyActivation(y, a.activation);
          } else if (clamp) {
            y = tf.clipByValue(y, clamp[0], clamp[1]);
          }
          env.set(out, { t: y, flat: false });
        };
      }
      case 'batchNorm': {
        const a = node.attrs;
        const mean = keep(tf.tensor1d(a.mean));
        const variance = keep(tf.tensor1d(a.variance));
        const beta = keep(tf.tensor1d(a.beta));
        const gamma = keep(tf.tensor1d(a.gamma));
        return (env) => {
          const v = env.get(node.inputs[0])!;
          env.set(out, { t: tf.batchNorm(v.t, mean, variance, beta, gamma, a.epsilon), flat: v.flat });
        };
      }
      case 'activation':
        return (env) => {
          const v = env.get(node.inputs[0])!;
          env.set(out, { t: applyActivation(v.t, node.attrs.activation), flat: v.flat });
        };
      case 'add':
        return (env) => {
          const [ia, ib] = node.inputs;
          const va = env.get(ia)!;
          const vb = env.get(ib)!;
          const bothFlat = va.flat && vb.flat;
          const sum = bothFlat ? tf.add(va.t, vb.t) : tf.add(nhwc(va, ia), nhwc(vb, ib));
          env.set(out, { t: applyActivation(sum, node.attrs.activation), flat: bothFlat });
        };
      case 'maxPool':
      case 'avgPool': {
        const a = node.attrs;
        const p = a.pads;
        if (a.dilation[0] !== 1 || a.dilation[1] !== 1) throw unsupported(node, 'dilated pooling');
        const zeroPads = p.every((v) => v === 0);
        if (a.ceilMode && !symmetric(p)) throw unsupported(node, 'ceil mode with asymmetric pads');
        const rounding = a.ceilMode ? 'ceil' : undefined;
        const explicit: tf.backend_util.ExplicitPadding = [[0, 0], [p[0], p[2]], [p[1], p[3]], [0, 0]];
        const kernel = a.kernel as [number, number];
        const stride = a.stride as [number, number];
        if (node.op === 'maxPool') {
          const pad = symmetric(p) ? p[0] : explicit;
          return (env) =>
            env.set(out, { t: tf.maxPool(nhwc(env.get(node.inputs[0])!, node.inputs[0]), kernel, stride, pad, rounding), flat: false });
        }
        if (!zeroPads && a.countIncludePad) {
          if (a.ceilMode) throw unsupported(node, 'ceil mode with count_include_pad');
          return (env) =>
            env.set(out, { t: tf.avgPool(tf.pad(nhwc(env.get(node.inputs[0])!, node.inputs[0]), explicit), kernel, stride, 'valid'), flat: false });
        }
        if (!symmetric(p)) throw unsupported(node, 'asymmetric pads that exclude padding from the average');
        return (env) =>
          env.set(out, { t: tf.avgPool(nhwc(env.get(node.inputs[0])!, node.inputs[0]), kernel, stride, p[0], rounding), flat: false });
      }
      case 'globalAvgPool':
        return (env) => env.set(out, { t: tf.mean(nhwc(env.get(node.inputs[0])!, node.inputs[0]), [1, 2], true), flat: false });
      case 'flatten':
        return (env) => env.set(out, { t: flatOf(env.get(node.inputs[0])!, node.inputs[0]), flat: true });
      case 'linear': {
        const a = node.attrs;
        const inF = a.weight.length / a.outFeatures;
        const wt = new Float32Array(a.weight.length);
        for (let o = 0; o < a.outFeatures; o++) for (let i = 0; i < inF; i++) wt[i * a.outFeatures + o] = a.weight[o * inF + i];
        const b = keep(tf.tensor2d(wt, [inF, a.outFeatures]));
        const bias = a.bias ? keep(tf.tensor1d(a.bias)) : undefined;
        const { fused, clamp } = splitActivation(a.activation);
        return (env) => {
          const src = node.inputs[0];
          // A fused global average pool in front (`poolInput`): TF.js takes the mean over H and W first, as unfused.
          const x = a.poolInput ? tf.reshape(tf.mean(nhwc(env.get(src)!, src), [1, 2]), [-1, inF]) : flatOf(env.get(src)!, src);
          let y: tf.Tensor = tf.fused.matMul({ a: x as tf.Tensor2D, b, bias, activation: fused });
          if (clamp) y = tf.clipByValue(y, clamp[0], clamp[1]);
          env.set(out, { t: y, flat: true });
        };
      }
      case 'softmax': {
        const axes = node.attrs.axes;
        const [, , h, w] = inShape;
        if (axes && !(axes[0] === 1 && axes[1] === 1) && !(axes[0] === 1 && axes[1] === 3 && h * w === 1)) {
          throw unsupported(node, `softmax over axes ${axes.join('..')}`);
        }
        return (env) => {
          const v = env.get(node.inputs[0])!;
          env.set(out, { t: tf.softmax(v.t), flat: v.flat });
        };
      }
      case 'reshape': {
        const target = node.attrs.shape;
        return (env) => {
          const v = env.get(node.inputs[0])!;
          const nchw = tf.reshape(nchwOf(v, node.inputs[0]), [...target]);
          env.set(out, { t: tf.transpose(nchw, [0, 2, 3, 1]), flat: false });
        };
      }
      case 'pad': {
        const [t, l, b, r] = node.attrs.pads;
        const value = node.attrs.value;
        const grow: tf.backend_util.ExplicitPadding = [[0, 0], [Math.max(0, t), Math.max(0, b)], [Math.max(0, l), Math.max(0, r)], [0, 0]];
        const [n, c, h, w] = shapeOf(out);
        return (env) => {
          let x: tf.Tensor4D = nhwc(env.get(node.inputs[0])!, node.inputs[0]);
          x = tf.pad(x, grow, value);
          if (t < 0 || l < 0 || b < 0 || r < 0) x = tf.slice(x, [0, Math.max(0, -t), Math.max(0, -l), 0], [n, h, w, c]);
          env.set(out, { t: x, flat: false });
        };
      }
      case 'resize':
      case 'argMax':
      case 'convTranspose':
        // The peer benchmark runs classifiers only.
        throw new Error(`TF.js peer model: op '${node.op}' (${node.name}) is not built`);
      case 'binary': {
        const { op, activation, constant } = node.attrs;
        const f = TFJS_BINARY[op];
        // The constant as NHWC, like every non-flat value here.
        const k = constant ? keep(tf.transpose(tf.tensor4d(constant.values, [...constant.shape]), [0, 2, 3, 1])) : null;
        return (env) => {
          const [a, b] = node.inputs.map((id) => nhwc(env.get(id)!, id));
          const y = !k ? f(a, b) : constant!.operand === 0 ? f(k, a) : f(a, k);
          env.set(out, { t: applyActivation(y, activation), flat: false });
        };
      }
      case 'concat':
        return (env) => env.set(out, { t: tf.concat(node.inputs.map((id) => nhwc(env.get(id)!, id)), 3), flat: false });
      case 'sliceChannels': {
        const [n, , h, w] = shapeOf(out);
        const { start, count } = node.attrs;
        return (env) => env.set(out, { t: tf.slice(nhwc(env.get(node.inputs[0])!, node.inputs[0]), [0, 0, 0, start], [n, h, w, count]), flat: false });
      }
      case 'shuffleChannels': {
        const [n, c, h, w] = shapeOf(out);
        const g = node.attrs.groups;
        return (env) => {
          const x = nhwc(env.get(node.inputs[0])!, node.inputs[0]);
          const shuffled = tf.reshape(tf.transpose(tf.reshape(x, [n, h, w, g, c / g]), [0, 1, 2, 4, 3]), [n, h, w, c]);
          env.set(out, { t: shuffled, flat: false });
        };
      }
      case 'layerNorm':
        throw unsupported(node, 'layer norm');
      case 'matMul':
        throw unsupported(node, 'matmul of computed operands');
      case 'reduceChannels': {
        const reduce = node.attrs.op === 'mean' ? tf.mean : tf.max;
        return (env) => env.set(out, { t: reduce(nhwc(env.get(node.inputs[0])!, node.inputs[0]), 3, true), flat: false });
      }
    }
  });

  const inputId = graph.inputs[0];
  const outputId = graph.outputs[0];
  const forward = (inputNchw: tf.Tensor4D): tf.Tensor => {
    const env = new Map<TensorId, Value>();
    env.set(inputId, { t: tf.transpose(inputNchw, [0, 2, 3, 1]), flat: false });
    for (const step of steps) step(env);
    return nchwOf(env.get(outputId)!, outputId);
  };
  const inputShape = [...shapeOf(inputId)] as [number, number, number, number];

  return {
    forward,
    async run(input) {
      const y = tf.tidy(() => forward(tf.tensor4d(input, inputShape)));
      try {
        return (await y.data()) as Float32Array;
      } finally {
        y.dispose();
      }
    },
    dispose() {
      for (const t of weights) t.dispose();
      weights.length = 0;
    },
    get weightTensors() {
      return weights.length;
    },
    get weightFloats() {
      return weightFloats;
    },
  };
}
