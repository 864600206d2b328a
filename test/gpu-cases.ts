/**
 * GPU correctness cases as data: each case builds an (unfused) graph with seeded random weights and inputs.
 * The runner compiles it for the GPU (with the standard passes), runs the CPU reference on the unfused graph,
 * and compares. The same cases run in headless Chromium (Playwright, `e2e/`) and under Node through Dawn
 * (`test/run-gpu-cases.ts`).
 *
 * The case tables live in modules by kind (`test/kernel-cases.ts`, `test/channel-cases.ts`,
 * `test/network-cases.ts`, `test/f16-cases.ts`, and the `*-cases.ts` of each kernel family); this module holds
 * the case types and `buildCase`, and re-exports the tables so that imports from it keep working.
 */
import type { StoragePrecision } from '../shaders/common.ts';
import type { Activation, Graph, NearestRounding, ResizeCoordinates, Shape4, TensorId } from '../src/graph/ir.ts';
import { NO_ACTIVATION, RELU, RELU6, elementCount } from '../src/graph/ir.ts';
import { activationEntry, functionActivation } from '../src/graph/activations/index.ts';
import { GraphBuilder } from '../src/graph/builder.ts';
import { bottleneck, invertedResidual, mobilenetV2, randomParams, resnet } from '../src/models/index.ts';
import { Rng } from '../src/util/random.ts';
import { buildBinaryCase, type BinaryCase, type SqueezeExciteCase } from './binary-cases.ts';
import { buildInputTransformCase, type InputTransformCase } from './input-transform-cases.ts';
import { buildMatMulCase, type MatMulCase } from './matmul-cases.ts';
import { buildFusedBlockCase, type FusedBlockCase } from './inverted-residual-cases.ts';
import { buildChannelsCase, type ChannelsCase } from './channel-cases.ts';

export type { ChannelsCase } from './channel-cases.ts';
export { CHANNEL_CASES } from './channel-cases.ts';
export { headAsChosen, headFused, tolerance, f16Tolerance, caseTolerance, compareOutputs, type Comparison } from './case-check.ts';
export { UPSAMPLE_CASES, LAYER_NORM_CASES, KERNEL_CASES } from './kernel-cases.ts';
export { BLOCK_CASES, NETWORK_CASES } from './network-cases.ts';
export { F16_CASES, F16_TILE_CASES } from './f16-cases.ts';

/** A clamp, or `fn:<name>` for a function of the activation table at its default parameters. */
export type ActivationName = 'none' | 'relu' | 'relu6' | `fn:${string}`;

export interface ConvCase {
  readonly kind: 'conv';
  readonly n: number;
  readonly inC: number;
  readonly h: number;
  readonly w: number;
  readonly outC: number;
  readonly kernel: number;
  readonly stride: number;
  readonly pad: number;
  readonly groups: number;
  readonly dilation?: number;
  readonly bias: boolean;
  readonly batchNorm?: boolean;
  readonly activation: ActivationName;
  readonly residual: boolean;
  /**
   * Rectangular windows and uneven padding (the shape fuzzer's, test/conv-fuzz-cases.ts): `kernel`, `stride` and
   * `dilation` are then the height's, these the width's; `pads` ([top, left, bottom, right]) replaces `pad`.
   */
  readonly kernelW?: number;
  readonly strideX?: number;
  readonly dilationX?: number;
  readonly pads?: readonly [number, number, number, number];
}

export interface PoolCase {
  readonly kind: 'maxPool' | 'avgPool';
  readonly n: number;
  readonly c: number;
  readonly h: number;
  readonly w: number;
  /** A pair: [height, width]. */
  readonly kernel: number | readonly [number, number];
  readonly stride: number | readonly [number, number];
  /** A pair: [y, x]; four: [top, left, bottom, right]. */
  readonly pad: number | readonly [number, number] | readonly [number, number, number, number];
  readonly ceilMode?: boolean;
  readonly countIncludePad?: boolean;
}

export interface SimpleCase {
  readonly kind: 'globalAvgPool' | 'softmax' | 'flatten' | 'add' | 'activation' | 'batchNorm';
  readonly n: number;
  readonly c: number;
  readonly h: number;
  readonly w: number;
  readonly activation?: ActivationName;
  /** Input values (activation and add only; default [-8, 8] and [-1, 1]), for functions with a domain. */
  readonly range?: readonly [number, number];
}

export interface LinearCase {
  readonly kind: 'linear';
  readonly n: number;
  readonly inF: number;
  readonly outF: number;
  readonly activation: ActivationName;
  /** Feed a [n, c, h, w] map through flatten first. */
  readonly flattenFrom?: readonly [number, number];
}

/**
 * A classifier head: global average pool, a flatten (`via: 'flatten'`, the default, as torchvision writes it), a
 * reshape to the same shape (`'reshape'`, as ONNX exports write it) or nothing (`'direct'`), then a fully
 * connected layer; `'tflite'` is TFLite's head: an average pool whose window is the whole map, then a 1x1
 * convolution. The standard passes fuse all four into one launch (`fusePoolLinear`).
 */
export interface PoolLinearCase {
  readonly kind: 'poolLinear';
  readonly n: number;
  readonly c: number;
  readonly h: number;
  readonly w: number;
  readonly outF: number;
  readonly bias: boolean;
  readonly activation: ActivationName;
  readonly via?: 'flatten' | 'reshape' | 'direct' | 'tflite';
}

export interface InvertedResidualCase {
  readonly kind: 'invertedResidual';
  readonly n: number;
  readonly inC: number;
  readonly outC: number;
  readonly size: number;
  readonly stride: number;
  readonly expandRatio: number;
}

export interface BottleneckCase {
  readonly kind: 'bottleneck';
  readonly n: number;
  readonly inC: number;
  readonly width: number;
  readonly size: number;
  readonly stride: number;
  readonly downsample: boolean;
}

export interface NetworkCase {
  readonly kind: 'mobilenetV2' | 'resnet50' | 'resnet';
  readonly n: number;
  readonly inputSize: number;
  readonly numClasses?: number;
  readonly widthMultiplier?: number;
  readonly layers?: readonly [number, number, number, number];
  readonly softmax?: boolean;
}

/** General reshape (NCHW order kept): an alias when n, c and h*w stay, a gather otherwise. */
export interface ReshapeCase {
  readonly kind: 'reshape';
  readonly from: Shape4;
  readonly to: Shape4;
  /** Apply a ReLU after the reshape (so an alias sits between two kernels). */
  readonly relu?: boolean;
}

/** Constant spatial padding, `[top, left, bottom, right]` (negative crops). */
export interface PadCase {
  readonly kind: 'pad';
  readonly shape: Shape4;
  readonly pads: readonly [number, number, number, number];
  readonly value: number;
}

/** Add of two runtime tensors with NumPy broadcasting over the IR axes. */
export interface BroadcastAddCase {
  readonly kind: 'broadcastAdd';
  readonly a: Shape4;
  readonly b: Shape4;
  readonly activation?: ActivationName;
  /** Input values (default [-1, 1]). */
  readonly range?: readonly [number, number];
}

/** Softmax over the NCHW axes `axes[0]..axes[1]` of any tensor. */
export interface SoftmaxAxesCase {
  readonly kind: 'softmaxAxes';
  readonly shape: Shape4;
  readonly axes: readonly [number, number];
}

/** Spatial resize (nearest or bilinear) to `size`, with ONNX's coordinate and rounding modes. */
export interface ResizeCase {
  readonly kind: 'resize';
  readonly shape: Shape4;
  readonly mode: 'nearest' | 'linear';
  readonly size: readonly [number, number];
  readonly scale?: readonly [number, number];
  readonly coordinates: ResizeCoordinates;
  readonly nearest?: NearestRounding;
}

/** Arg max over channels; `ties` rounds the input to a few values so that equal maxima occur. */
export interface ArgMaxCase {
  readonly kind: 'argMax';
  readonly shape: Shape4;
  readonly ties?: boolean;
}

/** Transposed convolution. */
export interface ConvTransposeCase {
  readonly kind: 'convTranspose';
  readonly shape: Shape4;
  readonly outC: number;
  readonly kernel: number;
  readonly stride: number;
  readonly pad: number;
  readonly outputPadding?: number;
  readonly dilation?: number;
  readonly groups?: number;
  readonly bias: boolean;
}

/**
 * Layer norm over channels; `block` puts it inside a ConvNeXt block (depthwise 7x7, layer norm, 1x1 conv with
 * exact GELU, 1x1 conv, residual add).
 */
export interface LayerNormCase {
  readonly kind: 'layerNorm';
  readonly shape: Shape4;
  readonly beta?: boolean;
  readonly block?: boolean;
}

/**
 * ONNX ReduceMean / ReduceMax as the converter lowers them: over H and W a global average pool or a max pool
 * whose window is the plane; over C a pool down the H axis of the `[n, 1, c, h*w]` view, reshaped back.
 */
export interface ReduceCase {
  readonly kind: 'reduce';
  readonly shape: Shape4;
  readonly op: 'mean' | 'max';
  readonly over: 'hw' | 'c';
  /** Over 'c': the `reduceChannels` kernel (as ONNX's axis-1 reduction loads) rather than a pool of a reshaped view. */
  readonly kernel?: boolean;
}

export type GpuCase = (
  | ConvCase
  | PoolCase
  | SimpleCase
  | LinearCase
  | PoolLinearCase
  | InvertedResidualCase
  | BottleneckCase
  | NetworkCase
  | ReshapeCase
  | PadCase
  | BroadcastAddCase
  | SoftmaxAxesCase
  | ResizeCase
  | ArgMaxCase
  | ConvTransposeCase
  | BinaryCase
  | SqueezeExciteCase
  | ReduceCase
  | LayerNormCase
  | ChannelsCase
  | InputTransformCase
  | MatMulCase
  | FusedBlockCase
) & {
  readonly seed?: number;
  /** Storage precision to compile at (default f32); the CPU reference is always f32. */
  readonly precision?: StoragePrecision;
};

export interface BuiltCase {
  readonly graph: Graph;
  readonly inputs: Float32Array[];
}

const CLAMPS: Record<string, Activation> = { none: NO_ACTIVATION, relu: RELU, relu6: RELU6 };

function activationOf(name: ActivationName): Activation {
  if (name.startsWith('fn:')) {
    const fn = name.slice(3);
    return functionActivation(fn, activationEntry(fn).defaults);
  }
  return CLAMPS[name];
}

export function describeCase(c: GpuCase): string {
  const { kind, seed: _seed, ...rest } = c;
  return `${kind} ${JSON.stringify(rest)}`;
}

export function buildCase(c: GpuCase): BuiltCase {
  const seed = c.seed ?? 1;
  const rng = new Rng(seed);
  const params = randomParams(seed);
  const b = new GraphBuilder();
  const randomInput = (shape: Shape4, lo = -1, hi = 1) => rng.fill(elementCount(shape), lo, hi);
  const inputs: Float32Array[] = [];
  const input = (name: string, shape: Shape4, lo?: number, hi?: number): TensorId => {
    inputs.push(randomInput(shape, lo, hi));
    return b.input(name, shape);
  };

  switch (c.kind) {
    case 'conv': {
      const x = input('x', [c.n, c.inC, c.h, c.w]);
      const inPerGroup = c.inC / c.groups;
      const kernelW = c.kernelW ?? c.kernel;
      const fanIn = inPerGroup * c.kernel * kernelW;
      const bound = Math.sqrt(3 / fanIn);
      let y = b.conv2d(x, {
        outChannels: c.outC,
        kernel: [c.kernel, kernelW],
        stride: [c.stride, c.strideX ?? c.stride],
        padding: c.pads ?? c.pad,
        dilation: [c.dilation ?? 1, c.dilationX ?? c.dilation ?? 1],
        groups: c.groups,
        weight: rng.fill(c.outC * fanIn, -bound, bound),
        bias: c.bias ? rng.fill(c.outC, -0.5, 0.5) : null,
      });
      if (c.batchNorm) {
        y = b.batchNorm(y, {
          gamma: rng.fill(c.outC, 0.5, 1.5),
          beta: rng.fill(c.outC, -0.3, 0.3),
          mean: rng.fill(c.outC, -0.3, 0.3),
          variance: rng.fill(c.outC, 0.5, 1.5),
          epsilon: 1e-5,
        });
      }
      if (c.residual) y = b.add(y, input('residual', b.shape(y)));
      if (c.activation !== 'none') y = b.activation(y, activationOf(c.activation));
      b.output(y);
      break;
    }
    case 'maxPool':
    case 'avgPool': {
      const x = input('x', [c.n, c.c, c.h, c.w]);
      const o = {
        kernel: c.kernel,
        stride: c.stride,
        padding: c.pad,
        ceilMode: c.ceilMode ?? false,
        countIncludePad: c.countIncludePad ?? true,
      };
      b.output(c.kind === 'maxPool' ? b.maxPool(x, o) : b.avgPool(x, o));
      break;
    }
    case 'globalAvgPool':
      b.output(b.globalAvgPool(input('x', [c.n, c.c, c.h, c.w])));
      break;
    case 'softmax':
      b.output(b.softmax(input('x', [c.n, c.c, 1, 1], -8, 8)));
      break;
    case 'flatten':
      b.output(b.flatten(input('x', [c.n, c.c, c.h, c.w])));
      break;
    case 'add': {
      const shape: Shape4 = [c.n, c.c, c.h, c.w];
      b.output(b.add(input('a', shape, ...(c.range ?? [])), input('b', shape, ...(c.range ?? [])), 'add', activationOf(c.activation ?? 'none')));
      break;
    }
    case 'activation':
      b.output(b.activation(input('x', [c.n, c.c, c.h, c.w], ...(c.range ?? [-8, 8])), activationOf(c.activation ?? 'relu6')));
      break;
    case 'batchNorm':
      b.output(
        b.batchNorm(input('x', [c.n, c.c, c.h, c.w]), {
          gamma: rng.fill(c.c, 0.5, 1.5),
          beta: rng.fill(c.c, -0.3, 0.3),
          mean: rng.fill(c.c, -0.3, 0.3),
          variance: rng.fill(c.c, 0.5, 1.5),
          epsilon: 1e-5,
        }),
      );
      break;
    case 'linear': {
      const [fh, fw] = c.flattenFrom ?? [1, 1];
      let x = input('x', [c.n, c.inF / (fh * fw), fh, fw]);
      if (c.flattenFrom) x = b.flatten(x);
      const bound = Math.sqrt(3 / c.inF);
      b.output(
        b.linear(x, {
          outFeatures: c.outF,
          weight: rng.fill(c.outF * c.inF, -bound, bound),
          bias: rng.fill(c.outF, -0.5, 0.5),
          activation: activationOf(c.activation),
        }),
      );
      break;
    }
    case 'poolLinear': {
      const x = input('x', [c.n, c.c, c.h, c.w]);
      const bound = Math.sqrt(3 / c.c);
      const weight = rng.fill(c.outF * c.c, -bound, bound);
      const bias = c.bias ? rng.fill(c.outF, -0.5, 0.5) : null;
      const activation = activationOf(c.activation);
      const via = c.via ?? 'flatten';
      if (via === 'tflite') {
        const pooled = b.avgPool(x, { kernel: [c.h, c.w], stride: 1 });
        let y = b.conv2d(pooled, { outChannels: c.outF, kernel: 1, weight, bias });
        if (c.activation !== 'none') y = b.activation(y, activation);
        b.output(y);
        break;
      }
      let pooled = b.globalAvgPool(x);
      if (via === 'flatten') pooled = b.flatten(pooled);
      if (via === 'reshape') pooled = b.reshape(pooled, [c.n, c.c, 1, 1]);
      b.output(b.linear(pooled, { outFeatures: c.outF, weight, bias, activation }));
      break;
    }
    case 'invertedResidual': {
      const x = input('x', [c.n, c.inC, c.size, c.size]);
      b.output(invertedResidual(b, x, params, 'block', { inC: c.inC, outC: c.outC, stride: c.stride, expandRatio: c.expandRatio }));
      break;
    }
    case 'bottleneck': {
      const x = input('x', [c.n, c.inC, c.size, c.size]);
      b.output(bottleneck(b, x, params, 'block', { inC: c.inC, width: c.width, stride: c.stride, downsample: c.downsample }));
      break;
    }
    case 'reshape': {
      let y = b.reshape(input('x', c.from), c.to);
      if (c.relu) y = b.relu(y);
      b.output(y);
      break;
    }
    case 'pad':
      b.output(b.pad(input('x', c.shape), { pads: c.pads, value: c.value }));
      break;
    case 'broadcastAdd':
      b.output(b.add(input('a', c.a, ...(c.range ?? [])), input('b', c.b, ...(c.range ?? [])), 'add', activationOf(c.activation ?? 'none')));
      break;
    case 'softmaxAxes':
      b.output(b.softmax(input('x', c.shape, -6, 6), 'softmax', [c.axes[0], c.axes[1]]));
      break;
    case 'resize':
      b.output(b.resize(input('x', c.shape), { mode: c.mode, size: c.size, scale: c.scale, coordinates: c.coordinates, nearest: c.nearest }));
      break;
    case 'argMax': {
      const x = input('x', c.shape);
      if (c.ties) inputs[inputs.length - 1] = inputs[inputs.length - 1].map((v) => Math.round(v * 2));
      b.output(b.argMax(x));
      break;
    }
    case 'convTranspose': {
      const inC = c.shape[1];
      const groups = c.groups ?? 1;
      const weight = rng.fill(inC * (c.outC / groups) * c.kernel * c.kernel, -0.5, 0.5);
      const bias = c.bias ? rng.fill(c.outC, -0.5, 0.5) : null;
      const x = input('x', c.shape);
      b.output(b.convTranspose(x, { outChannels: c.outC, kernel: c.kernel, stride: c.stride, padding: c.pad, outputPadding: c.outputPadding ?? 0, dilation: c.dilation ?? 1, groups, weight, bias }));
      break;
    }
    case 'binary':
    case 'squeezeExcite':
      b.output(buildBinaryCase(c, b, rng, input));
      break;
    case 'inputTransform':
      b.output(buildInputTransformCase(c, b, rng, input));
      break;
    case 'matMul':
      b.output(buildMatMulCase(c, b, rng, input));
      break;
    case 'fusedBlock':
      b.output(buildFusedBlockCase(c, b, rng, input));
      break;
    case 'layerNorm': {
      const x = input('x', c.shape, -3, 5);
      const ch = c.shape[1];
      const norm = (t: TensorId): TensorId => b.layerNorm(t, { epsilon: 1e-6, gamma: rng.fill(ch, 0.5, 1.5), beta: c.beta ? rng.fill(ch, -0.5, 0.5) : null });
      if (!c.block) {
        b.output(norm(x));
        break;
      }
      const dw = b.conv2d(x, { outChannels: ch, kernel: 7, padding: 3, groups: ch, weight: rng.fill(ch * 49, -0.2, 0.2), bias: rng.fill(ch, -0.1, 0.1) });
      const wide = b.conv2d(norm(dw), { outChannels: 4 * ch, kernel: 1, weight: rng.fill(4 * ch * ch, -0.5, 0.5), bias: rng.fill(4 * ch, -0.1, 0.1), activation: functionActivation('gelu') });
      const narrow = b.conv2d(wide, { outChannels: ch, kernel: 1, weight: rng.fill(4 * ch * ch, -0.2, 0.2), bias: rng.fill(ch, -0.1, 0.1) });
      b.output(b.add(x, narrow));
      break;
    }
    case 'reduce': {
      const x = input('x', c.shape);
      const [n, ch, h, w] = c.shape;
      const pool = (t: number, kernel: [number, number]) => (c.op === 'max' ? b.maxPool(t, { kernel, stride: 1 }) : b.avgPool(t, { kernel, stride: 1 }));
      if (c.over === 'hw') b.output(c.op === 'mean' ? b.globalAvgPool(x) : pool(x, [h, w]));
      else if (c.kernel) b.output(b.reduceChannels(x, c.op));
      else b.output(b.reshape(pool(b.reshape(x, [n, 1, ch, h * w]), [ch, 1]), [n, 1, h, w]));
      break;
    }
    case 'channels':
      b.output(buildChannelsCase(b, c, rng, input));
      break;
    case 'mobilenetV2':
    case 'resnet50':
    case 'resnet': {
      const common = { batch: c.n, inputSize: c.inputSize, numClasses: c.numClasses ?? 1000, params, softmax: c.softmax ?? false };
      const graph =
        c.kind === 'mobilenetV2'
          ? mobilenetV2({ ...common, widthMultiplier: c.widthMultiplier ?? 1 })
          : resnet({ ...common, layers: c.layers ?? [3, 4, 6, 3] });
      const [shape] = graph.inputs.map((id) => graph.tensors[id].shape);
      return { graph, inputs: [randomInput(shape)] };
    }
  }
  return { graph: b.build(), inputs };
}
