/**
 * torchvision building blocks as GraphBuilder calls. Each function adds the UNFUSED ops of one PyTorch module
 * (bias-free conv, separate batch-norm, activation and add nodes), reads parameters by their torchvision
 * `state_dict` names under `prefix`, and names every node after the module path it comes from. Fusion passes
 * fold these later.
 */
import { ShapeError } from '../errors.ts';
import { GraphBuilder } from '../graph/builder.ts';
import type { Activation, Graph, Shape4, TensorId } from '../graph/ir.ts';
import { NO_ACTIVATION, RELU, RELU6, shapeToString } from '../graph/ir.ts';
import type { ParamSource } from './params.ts';
import { batchNormParams } from './params.ts';

export type BlockActivation = 'relu6' | 'relu' | 'none';

export function activationOf(a: BlockActivation): Activation {
  return a === 'relu6' ? RELU6 : a === 'relu' ? RELU : NO_ACTIVATION;
}

/** Throws `ShapeError` unless tensor `x` has `channels` channels. */
export function expectChannels(b: GraphBuilder, x: TensorId, channels: number, where: string): void {
  const s = b.shape(x);
  if (s[1] !== channels) {
    throw new ShapeError(`${where}: expected ${channels} input channels, got ${shapeToString(s)}`);
  }
}

function checkPositiveInt(v: number, what: string, where: string): void {
  if (!Number.isInteger(v) || v < 1) throw new ShapeError(`${where}: ${what} must be a positive integer, got ${v}`);
}

/** Python's `round()` (ties to even), as torchvision's `int(round(inp * expand_ratio))` uses it. */
export function pythonRound(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** A bias-free PyTorch `Conv2d` at `${name}.weight`, padding `(kernel - 1) / 2` unless given. */
export function conv2dNoBias(
  b: GraphBuilder,
  x: TensorId,
  params: ParamSource,
  name: string,
  o: { inC: number; outC: number; kernel: number; stride?: number; groups?: number; padding?: number },
): TensorId {
  const groups = o.groups ?? 1;
  checkPositiveInt(o.inC, 'in channels', name);
  checkPositiveInt(o.outC, 'out channels', name);
  checkPositiveInt(o.kernel, 'kernel', name);
  checkPositiveInt(groups, 'groups', name);
  if (o.inC % groups !== 0) throw new ShapeError(`${name}: groups=${groups} does not divide ${o.inC} input channels`);
  expectChannels(b, x, o.inC, name);
  const weight = params.get(`${name}.weight`, [o.outC, o.inC / groups, o.kernel, o.kernel]);
  return b.conv2d(
    x,
    {
      outChannels: o.outC,
      kernel: o.kernel,
      stride: o.stride ?? 1,
      padding: o.padding ?? Math.floor((o.kernel - 1) / 2),
      groups,
      weight,
      bias: null,
    },
    name,
  );
}

/** A PyTorch `BatchNorm2d(channels)` at `name`. */
export function batchNorm2d(b: GraphBuilder, x: TensorId, params: ParamSource, name: string, channels: number): TensorId {
  expectChannels(b, x, channels, name);
  return b.batchNorm(x, batchNormParams(params, name, channels), name);
}

export interface ConvBNActivationOptions {
  inC: number;
  outC: number;
  kernel: number;
  /** Default 1. */
  stride?: number;
  /** Default 1. */
  groups?: number;
  /** Default `'relu'`, as torchvision's `Conv2dNormActivation`. */
  activation?: BlockActivation;
}

/**
 * torchvision `Conv2dNormActivation`: `${prefix}.0` = Conv2d (no bias, padding `(k - 1) / 2`), `${prefix}.1` =
 * BatchNorm2d, `${prefix}.2` = the activation (omitted for `'none'`).
 */
export function convBNReLU(
  b: GraphBuilder,
  x: TensorId,
  params: ParamSource,
  prefix: string,
  o: ConvBNActivationOptions,
): TensorId {
  let y = conv2dNoBias(b, x, params, `${prefix}.0`, o);
  y = batchNorm2d(b, y, params, `${prefix}.1`, o.outC);
  const act = o.activation ?? 'relu';
  if (act !== 'none') y = b.activation(y, activationOf(act), `${prefix}.2`);
  return y;
}

/** Same as `convBNReLU`, under torchvision's name. */
export const conv2dNormActivation = convBNReLU;

export interface InvertedResidualOptions {
  inC: number;
  outC: number;
  /** 1 or 2, as torchvision checks. */
  stride: number;
  expandRatio: number;
}

/**
 * torchvision MobileNetV2 `InvertedResidual`. hidden = round(inC * t). With t != 1: `conv.0` expand 1x1
 * ConvBNReLU6, `conv.1` depthwise 3x3 ConvBNReLU6, `conv.2` pw-linear conv weight, `conv.3` BN; with t == 1 the
 * expand layer is absent and the indices shift down by one. Adds `x` (node `${prefix}.add`) when
 * stride == 1 and inC == outC.
 */
export function invertedResidual(
  b: GraphBuilder,
  x: TensorId,
  params: ParamSource,
  prefix: string,
  o: InvertedResidualOptions,
): TensorId {
  if (o.stride !== 1 && o.stride !== 2) throw new ShapeError(`${prefix}: stride should be 1 or 2, got ${o.stride}`);
  const hidden = pythonRound(o.inC * o.expandRatio);
  checkPositiveInt(hidden, 'hidden channels', prefix);
  expectChannels(b, x, o.inC, prefix);
  let k = 0;
  let y = x;
  if (o.expandRatio !== 1) {
    y = convBNReLU(b, y, params, `${prefix}.conv.${k++}`, { inC: o.inC, outC: hidden, kernel: 1, activation: 'relu6' });
  }
  y = convBNReLU(b, y, params, `${prefix}.conv.${k++}`, {
    inC: hidden,
    outC: hidden,
    kernel: 3,
    stride: o.stride,
    groups: hidden,
    activation: 'relu6',
  });
  y = conv2dNoBias(b, y, params, `${prefix}.conv.${k++}`, { inC: hidden, outC: o.outC, kernel: 1 });
  y = batchNorm2d(b, y, params, `${prefix}.conv.${k++}`, o.outC);
  if (o.stride === 1 && o.inC === o.outC) y = b.add(x, y, `${prefix}.add`);
  return y;
}

/** torchvision `Bottleneck.expansion`. */
export const BOTTLENECK_EXPANSION = 4;

export interface BottleneckOptions {
  inC: number;
  /** torchvision's `width` (= `planes` for groups 1, base width 64); the block outputs `4 * width` channels. */
  width: number;
  stride: number;
  /** `${prefix}.downsample` (1x1 conv stride s + BN) on the identity path. */
  downsample: boolean;
}

/**
 * torchvision ResNet v1.5 `Bottleneck` (stride on the 3x3 conv), chained as in torchvision's forward:
 * conv1 1x1 -> bn1 -> relu -> conv2 3x3 stride s -> bn2 -> relu_1 -> conv3 1x1 -> bn3, plus the identity
 * (`x`, or downsample.0 conv + downsample.1 BN), then `${prefix}.add` and `${prefix}.relu_2`. The module
 * `relu` runs three times; its nodes are named `relu`, `relu_1`, `relu_2` as the ONNX exporter does.
 */
export function bottleneck(b: GraphBuilder, x: TensorId, params: ParamSource, prefix: string, o: BottleneckOptions): TensorId {
  const outC = BOTTLENECK_EXPANSION * o.width;
  checkPositiveInt(o.stride, 'stride', prefix);
  expectChannels(b, x, o.inC, prefix);
  if (!o.downsample && (o.stride !== 1 || o.inC !== outC)) {
    throw new ShapeError(
      `${prefix}: a bottleneck without downsample needs stride 1 and inC == 4 * width, got stride ${o.stride}, ` +
        `inC ${o.inC}, width ${o.width}`,
    );
  }
  let out = conv2dNoBias(b, x, params, `${prefix}.conv1`, { inC: o.inC, outC: o.width, kernel: 1 });
  out = batchNorm2d(b, out, params, `${prefix}.bn1`, o.width);
  out = b.relu(out, `${prefix}.relu`);
  out = conv2dNoBias(b, out, params, `${prefix}.conv2`, { inC: o.width, outC: o.width, kernel: 3, stride: o.stride });
  out = batchNorm2d(b, out, params, `${prefix}.bn2`, o.width);
  out = b.relu(out, `${prefix}.relu_1`);
  out = conv2dNoBias(b, out, params, `${prefix}.conv3`, { inC: o.width, outC, kernel: 1 });
  out = batchNorm2d(b, out, params, `${prefix}.bn3`, outC);
  return bottleneckJoin(b, out, x, params, prefix, o);
}

/**
 * A bottleneck's end: `${prefix}.relu_2(branch + identity)`, the identity `x` or, with `o.downsample`, `x` through
 * `${prefix}.downsample.0` (1x1 conv, stride `o.stride`) and `${prefix}.downsample.1` (BN).
 */
export function bottleneckJoin(
  b: GraphBuilder,
  branch: TensorId,
  x: TensorId,
  params: ParamSource,
  prefix: string,
  o: BottleneckOptions,
): TensorId {
  const outC = BOTTLENECK_EXPANSION * o.width;
  let identity = x;
  if (o.downsample) {
    identity = conv2dNoBias(b, x, params, `${prefix}.downsample.0`, { inC: o.inC, outC, kernel: 1, stride: o.stride });
    identity = batchNorm2d(b, identity, params, `${prefix}.downsample.1`, outC);
  }
  return b.relu(b.add(branch, identity, `${prefix}.add`), `${prefix}.relu_2`);
}

/** One block as a graph: input `input` of `inputShape`, the block's output as the graph's output. */
export function oneBlockGraph(inputShape: Shape4, block: (b: GraphBuilder, x: TensorId) => TensorId): Graph {
  const b = new GraphBuilder();
  b.output(block(b, b.input('input', inputShape)));
  return b.build();
}

/** A one-block graph (input `input` of `inputShape`, parameters under `prefix`) for block-level tests. */
export function buildBottleneckGraph(
  params: ParamSource,
  o: BottleneckOptions & { inputShape: Shape4; prefix?: string },
): Graph {
  return oneBlockGraph(o.inputShape, (b, x) => bottleneck(b, x, params, o.prefix ?? 'block', o));
}

/** A one-block graph (input `input` of `inputShape`, parameters under `prefix`) for block-level tests. */
export function buildInvertedResidualGraph(
  params: ParamSource,
  o: InvertedResidualOptions & { inputShape: Shape4; prefix?: string },
): Graph {
  return oneBlockGraph(o.inputShape, (b, x) => invertedResidual(b, x, params, o.prefix ?? 'block', o));
}
