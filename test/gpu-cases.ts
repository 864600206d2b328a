/**
 * GPU correctness cases as data: each case builds an (unfused) graph with seeded random weights and inputs.
 * The runner compiles it for the GPU (with the standard passes), runs the CPU reference on the unfused graph,
 * and compares. The same cases run in headless Chromium (Playwright, `e2e/`) and under Node through Dawn
 * (`test/run-gpu-cases.ts`).
 */
import type { StoragePrecision } from '../shaders/common.ts';
import type { Activation, Graph, NearestRounding, ResizeCoordinates, Shape4, TensorId } from '../src/graph/ir.ts';
import { NO_ACTIVATION, RELU, RELU6, elementCount } from '../src/graph/ir.ts';
import { activationEntry, functionActivation } from '../src/graph/activations/index.ts';
import { GraphBuilder } from '../src/graph/builder.ts';
import { ACTIVATION_CASES } from './activation-cases.ts';
import { bottleneck, invertedResidual, mobilenetV2, randomParams, resnet } from '../src/models/index.ts';
import { Rng } from '../src/util/random.ts';
import { TILE_CASES, type TileCase } from './tile-cases.ts';
import { BINARY_CASES, buildBinaryCase, type BinaryCase, type SqueezeExciteCase } from './binary-cases.ts';
import { INPUT_TRANSFORM_CASES, buildInputTransformCase, type InputTransformCase } from './input-transform-cases.ts';
import { MATMUL_CASES, buildMatMulCase, type MatMulCase } from './matmul-cases.ts';
import { buildFusedBlockCase, type FusedBlockCase } from './inverted-residual-cases.ts';

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
}

export interface PoolCase {
  readonly kind: 'maxPool' | 'avgPool';
  readonly n: number;
  readonly c: number;
  readonly h: number;
  readonly w: number;
  readonly kernel: number;
  readonly stride: number;
  readonly pad: number;
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
 * ONNX ReduceMean / ReduceMax as the converter lowers them: over H and W a global average pool or a max pool
 * whose window is the plane; over C a pool down the H axis of the `[n, 1, c, h*w]` view, reshaped back.
 */
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

export interface ReduceCase {
  readonly kind: 'reduce';
  readonly shape: Shape4;
  readonly op: 'mean' | 'max';
  readonly over: 'hw' | 'c';
  /** Over 'c': the `reduceChannels` kernel (as ONNX's axis-1 reduction loads) rather than a pool of a reshaped view. */
  readonly kernel?: boolean;
}

/**
 * Channel concat and slice: `inputs` concatenates graph inputs of `parts` channels; `convs` concatenates convs of
 * `parts` output channels on one input and convolves the result; `split` slices an input of `sum(parts)` channels
 * into `parts`, convolves all but the first and concatenates them back (ShuffleNet's unit); `dense` grows a
 * concat by convs of `parts[1..]` channels on `parts[0]` input channels (a concat of concats); `denseFlat` is
 * torchvision's DenseNet block: a stem conv of `parts[0]` channels, then each layer concatenates all the features
 * so far (every concat a prefix of the last one) and adds a conv of `parts[i]` channels. `shuffle` is
 * ShuffleNet's channel shuffle of a conv's `parts[0]` channels in `parts[1]` groups, concatenated with a conv of it.
 */
export interface ChannelsCase {
  readonly kind: 'channels';
  readonly via: 'inputs' | 'convs' | 'split' | 'dense' | 'denseFlat' | 'shuffle';
  readonly n: number;
  readonly h: number;
  readonly w: number;
  readonly parts: readonly number[];
  /** `denseFlat`: the first layer reads a concat of the stem alone, not the stem itself (as torchvision exports). */
  readonly wrapFirst?: boolean;
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
      const fanIn = inPerGroup * c.kernel * c.kernel;
      const bound = Math.sqrt(3 / fanIn);
      let y = b.conv2d(x, {
        outChannels: c.outC,
        kernel: c.kernel,
        stride: c.stride,
        padding: c.pad,
        dilation: c.dilation ?? 1,
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

/**
 * For a pool + FC head case over more than one position: whether the compiled model ran it as one fused launch
 * (a pooled linear kernel, no separate pool); undefined for every other case.
 */
export function headFused(c: GpuCase, kernels: readonly string[]): boolean | undefined {
  if (c.kind !== 'poolLinear' || c.h * c.w === 1) return undefined;
  return kernels.some((k) => /^linear-(pooled|splitk\/pooled)\//.test(k)) && !kernels.some((k) => k.startsWith('pool/'));
}

/**
 * For a pool + FC head case over more than one position: whether the head ran fused exactly when the kernel
 * choice asked for it (`headFusion`); true for every other case.
 */
export function headAsChosen(c: GpuCase, r: { readonly kernels: readonly string[]; readonly headFusion: boolean }): boolean {
  const fused = headFused(c, r.kernels);
  return fused === undefined || fused === r.headFusion;
}

/** The fp32 bar: max |gpu - ref| <= 1e-4 * max|ref| + 1e-5. */
export function tolerance(maxAbsRef: number): number {
  return 1e-4 * maxAbsRef + 1e-5;
}

/**
 * The f16-storage bars (f16 and f16-packed; arithmetic stays f32). Rounding to binary16 keeps 11 significant
 * bits, so each stored value (input, weight, residual, output) is off by at most u = 2^-11 = 4.9e-4 of itself.
 * One kernel: the output's own rounding (u) plus, through the sum, the rounding of its input and weight
 * factors (2u of each product, relative to the sum of |products|, which cancellation can make a few times
 * max|out|): a few u of max|ref|, so a single kernel or a three-layer block gets 4e-3 (8u). A network stacks
 * ~50 such layers whose errors are independent in sign, so they grow like the square root of the depth
 * (sqrt(52) * 3u ~ 1e-2 of the activations' scale): 1e-2 of max|ref| on the logits, as issue #6 asks. An
 * indexing or conversion bug is off by O(max|ref|), far above either bar.
 */
export function f16Tolerance(maxAbsRef: number, scope: 'kernel' | 'network'): number {
  return (scope === 'network' ? 1e-2 : 4e-3) * maxAbsRef + 1e-4;
}

/** The bar a case is held to: fp32's, or f16's for its scope (whole networks, or kernels and blocks). */
export function caseTolerance(c: GpuCase): (maxAbsRef: number) => number {
  if ((c.precision ?? 'f32') === 'f32') return tolerance;
  const network = c.kind === 'mobilenetV2' || c.kind === 'resnet50' || c.kind === 'resnet';
  return (m) => f16Tolerance(m, network ? 'network' : 'kernel');
}

export interface Comparison {
  readonly maxAbsError: number;
  readonly maxAbsRef: number;
  readonly tolerance: number;
  readonly ok: boolean;
  readonly nonFinite: number;
}

export function compareOutputs(gpu: readonly Float32Array[], ref: readonly Float32Array[], bar: (maxAbsRef: number) => number = tolerance): Comparison {
  let maxAbsError = 0;
  let maxAbsRef = 0;
  let nonFinite = 0;
  let lengthsMatch = gpu.length === ref.length;
  ref.forEach((r, k) => {
    const g = gpu[k];
    if (!g || g.length !== r.length) {
      lengthsMatch = false;
      return;
    }
    for (let i = 0; i < r.length; i++) {
      if (!Number.isFinite(g[i])) nonFinite++;
      maxAbsRef = Math.max(maxAbsRef, Math.abs(r[i]));
      const d = Math.abs(g[i] - r[i]);
      if (!(d <= maxAbsError)) maxAbsError = Number.isNaN(d) ? Infinity : d;
    }
  });
  const tol = bar(maxAbsRef);
  return { maxAbsError, maxAbsRef, tolerance: tol, ok: lengthsMatch && nonFinite === 0 && maxAbsError <= tol, nonFinite };
}

/**
 * The upsampling ops (issue #16, for segmentation): resize in every coordinate mode (up, down, odd ratios,
 * scales that are not size ratios, TFLite's modes), arg max (ties, channels not a multiple of 4), transposed
 * convolutions (strides, pads, output padding, dilation, groups).
 */
export const UPSAMPLE_CASES: readonly GpuCase[] = [
  { kind: 'resize', shape: [1, 5, 4, 3], mode: 'linear', size: [8, 6], coordinates: 'half_pixel' },
  { kind: 'resize', shape: [2, 3, 5, 7], mode: 'linear', size: [9, 4], coordinates: 'align_corners' },
  { kind: 'resize', shape: [1, 6, 3, 4], mode: 'linear', size: [7, 9], coordinates: 'asymmetric' },
  { kind: 'resize', shape: [1, 2, 4, 4], mode: 'linear', size: [1, 6], coordinates: 'pytorch_half_pixel' },
  { kind: 'resize', shape: [1, 4, 5, 5], mode: 'linear', size: [7, 7], scale: [1.5, 1.5], coordinates: 'half_pixel' },
  { kind: 'resize', shape: [2, 5, 3, 4], mode: 'nearest', size: [6, 8], coordinates: 'asymmetric', nearest: 'floor' },
  { kind: 'resize', shape: [1, 3, 5, 7], mode: 'nearest', size: [9, 13], coordinates: 'align_corners', nearest: 'round_prefer_floor' },
  { kind: 'resize', shape: [1, 3, 5, 7], mode: 'nearest', size: [9, 13], coordinates: 'align_corners', nearest: 'round_prefer_ceil' },
  { kind: 'resize', shape: [1, 7, 8, 6], mode: 'nearest', size: [3, 4], coordinates: 'half_pixel', nearest: 'ceil' },
  { kind: 'resize', shape: [1, 4, 6, 6], mode: 'nearest', size: [9, 9], coordinates: 'half_pixel', nearest: 'round_prefer_floor' },
  { kind: 'argMax', shape: [2, 21, 5, 4] },
  { kind: 'argMax', shape: [1, 6, 3, 3], ties: true },
  { kind: 'argMax', shape: [1, 1, 2, 3] },
  { kind: 'convTranspose', shape: [1, 4, 3, 3], outC: 5, kernel: 3, stride: 2, pad: 1, outputPadding: 1, bias: true },
  { kind: 'convTranspose', shape: [2, 3, 4, 5], outC: 8, kernel: 4, stride: 2, pad: 1, bias: false },
  { kind: 'convTranspose', shape: [1, 6, 3, 4], outC: 4, kernel: 3, stride: 1, pad: 0, dilation: 2, groups: 2, bias: true },
  { kind: 'convTranspose', shape: [1, 5, 2, 2], outC: 3, kernel: 2, stride: 3, pad: 0, outputPadding: 2, bias: true },
];

/** Layer norm over channels (ConvNeXt): odd and vec4-sized C, batch 2, and inside a ConvNeXt block. */
export const LAYER_NORM_CASES: readonly GpuCase[] = [
  { kind: 'layerNorm', shape: [2, 7, 3, 5], beta: true },
  { kind: 'layerNorm', shape: [1, 8, 4, 4], beta: false },
  { kind: 'layerNorm', shape: [2, 96, 2, 3], beta: true },
  { kind: 'layerNorm', shape: [1, 1, 2, 2], beta: true },
  { kind: 'layerNorm', shape: [2, 12, 8, 8], beta: true, block: true },
];

/** Kernel cases: every kernel variant the lowering can pick, edge shapes, batch 2. */
export const KERNEL_CASES: readonly GpuCase[] = [
  // Pointwise: plain, strided (ResNet downsample), odd channels, 1x1 maps, batch 2, residual + ReLU, ReLU6, BN.
  { kind: 'conv', n: 1, inC: 16, h: 12, w: 12, outC: 24, kernel: 1, stride: 1, pad: 0, groups: 1, bias: true, activation: 'relu6', residual: false },
  { kind: 'conv', n: 2, inC: 13, h: 7, w: 5, outC: 9, kernel: 1, stride: 1, pad: 0, groups: 1, bias: true, activation: 'none', residual: false },
  { kind: 'conv', n: 2, inC: 32, h: 9, w: 9, outC: 40, kernel: 1, stride: 2, pad: 0, groups: 1, bias: false, batchNorm: true, activation: 'none', residual: false },
  { kind: 'conv', n: 1, inC: 20, h: 6, w: 7, outC: 20, kernel: 1, stride: 1, pad: 0, groups: 1, bias: true, batchNorm: true, activation: 'relu', residual: true },
  { kind: 'conv', n: 2, inC: 24, h: 5, w: 5, outC: 24, kernel: 1, stride: 1, pad: 0, groups: 1, bias: true, activation: 'none', residual: true },
  { kind: 'conv', n: 1, inC: 7, h: 1, w: 1, outC: 5, kernel: 1, stride: 1, pad: 0, groups: 1, bias: true, activation: 'relu', residual: false },
  { kind: 'conv', n: 1, inC: 8, h: 3, w: 3, outC: 3, kernel: 1, stride: 2, pad: 0, groups: 1, bias: true, activation: 'relu6', residual: true },
  // Depthwise 3x3: stride 1 and 2, odd sizes, channel counts not multiples of 4, 1x1 map, batch 2, residual.
  { kind: 'conv', n: 1, inC: 32, h: 14, w: 14, outC: 32, kernel: 3, stride: 1, pad: 1, groups: 32, bias: true, activation: 'relu6', residual: false },
  { kind: 'conv', n: 2, inC: 18, h: 11, w: 9, outC: 18, kernel: 3, stride: 2, pad: 1, groups: 18, bias: false, batchNorm: true, activation: 'relu6', residual: false },
  { kind: 'conv', n: 1, inC: 5, h: 1, w: 1, outC: 5, kernel: 3, stride: 1, pad: 1, groups: 5, bias: true, activation: 'none', residual: false },
  { kind: 'conv', n: 2, inC: 7, h: 6, w: 6, outC: 7, kernel: 3, stride: 1, pad: 1, groups: 7, bias: true, activation: 'relu', residual: true },
  { kind: 'conv', n: 1, inC: 8, h: 10, w: 10, outC: 8, kernel: 5, stride: 2, pad: 2, groups: 8, dilation: 1, bias: true, activation: 'none', residual: false },
  { kind: 'conv', n: 1, inC: 8, h: 9, w: 9, outC: 8, kernel: 3, stride: 1, pad: 2, groups: 8, dilation: 2, bias: true, activation: 'none', residual: false },
  // Dense: MobileNetV2 stem (3 -> 32, 3x3/2), ResNet stem (7x7/2 pad 3), ResNet middle 3x3 stride 1 and 2.
  { kind: 'conv', n: 1, inC: 3, h: 17, w: 17, outC: 32, kernel: 3, stride: 2, pad: 1, groups: 1, bias: false, batchNorm: true, activation: 'relu6', residual: false },
  { kind: 'conv', n: 2, inC: 3, h: 19, w: 21, outC: 16, kernel: 7, stride: 2, pad: 3, groups: 1, bias: false, batchNorm: true, activation: 'relu', residual: false },
  { kind: 'conv', n: 1, inC: 16, h: 9, w: 9, outC: 16, kernel: 3, stride: 1, pad: 1, groups: 1, bias: true, activation: 'relu', residual: false },
  { kind: 'conv', n: 2, inC: 10, h: 8, w: 7, outC: 14, kernel: 3, stride: 2, pad: 1, groups: 1, bias: true, activation: 'none', residual: true },
  { kind: 'conv', n: 1, inC: 6, h: 1, w: 1, outC: 6, kernel: 3, stride: 1, pad: 1, groups: 1, bias: true, activation: 'relu6', residual: false },
  { kind: 'conv', n: 1, inC: 4, h: 6, w: 6, outC: 6, kernel: 1, stride: 1, pad: 1, groups: 1, bias: true, activation: 'none', residual: false },
  // Grouped conv and depthwise with multiplier: the grouped family under the software default (the dense kernel with
  // block-diagonal weights under the GPU default).
  { kind: 'conv', n: 1, inC: 8, h: 6, w: 6, outC: 12, kernel: 3, stride: 1, pad: 1, groups: 4, bias: true, activation: 'relu', residual: false },
  { kind: 'conv', n: 1, inC: 4, h: 5, w: 5, outC: 8, kernel: 3, stride: 2, pad: 1, groups: 4, bias: true, activation: 'none', residual: false },
  // Pools, global average pool, FC, softmax, flatten, unfused add / activation / batch norm.
  { kind: 'maxPool', n: 2, c: 6, h: 11, w: 10, kernel: 3, stride: 2, pad: 1 },
  { kind: 'maxPool', n: 1, c: 5, h: 7, w: 7, kernel: 2, stride: 2, pad: 0, ceilMode: true },
  { kind: 'avgPool', n: 1, c: 6, h: 7, w: 8, kernel: 3, stride: 2, pad: 1, countIncludePad: true },
  { kind: 'avgPool', n: 2, c: 3, h: 7, w: 7, kernel: 3, stride: 2, pad: 1, countIncludePad: false, ceilMode: true },
  { kind: 'globalAvgPool', n: 2, c: 10, h: 7, w: 5 },
  { kind: 'globalAvgPool', n: 1, c: 3, h: 1, w: 1 },
  { kind: 'linear', n: 1, inF: 40, outF: 10, activation: 'none' },
  { kind: 'linear', n: 5, inF: 33, outF: 7, activation: 'relu' },
  { kind: 'linear', n: 9, inF: 33, outF: 7, activation: 'relu6' },
  { kind: 'linear', n: 2, inF: 30, outF: 6, activation: 'none', flattenFrom: [3, 2] },
  // Global average pool + FC heads, fused into one launch: the ImageNet heads' shape (7x7, 1000 out), channel and
  // feature counts that are not multiples of 4, more input vec4s than one workgroup-memory chunk (2100 channels),
  // a 1x1 map, batch 2, with and without bias, clamped, each head spelling. Batch >= 8 takes the row-blocked tile.
  { kind: 'poolLinear', n: 1, c: 1280, h: 7, w: 7, outF: 1000, bias: true, activation: 'none' },
  { kind: 'poolLinear', n: 2, c: 37, h: 3, w: 5, outF: 21, bias: false, activation: 'relu6', via: 'reshape' },
  { kind: 'poolLinear', n: 1, c: 2100, h: 2, w: 2, outF: 300, bias: true, activation: 'relu', via: 'direct' },
  { kind: 'poolLinear', n: 2, c: 64, h: 4, w: 4, outF: 1001, bias: true, activation: 'none', via: 'tflite' },
  { kind: 'poolLinear', n: 1, c: 30, h: 1, w: 1, outF: 10, bias: false, activation: 'none' },
  { kind: 'poolLinear', n: 9, c: 40, h: 3, w: 3, outF: 70, bias: true, activation: 'relu' },
  { kind: 'softmax', n: 2, c: 1001, h: 1, w: 1 },
  { kind: 'softmax', n: 1, c: 3, h: 1, w: 1 },
  { kind: 'flatten', n: 2, c: 5, h: 3, w: 2 },
  { kind: 'add', n: 2, c: 6, h: 4, w: 3, activation: 'relu' },
  { kind: 'activation', n: 1, c: 5, h: 3, w: 3, activation: 'relu6' },
  { kind: 'batchNorm', n: 2, c: 7, h: 3, w: 4 },
  // IR extensions for model loaders (ONNX): general reshape, spatial pad, broadcasting add, softmax over axes.
  { kind: 'reshape', from: [2, 6, 4, 3], to: [2, 3, 8, 3] },
  { kind: 'reshape', from: [1, 5, 3, 4], to: [3, 4, 1, 5] },
  { kind: 'reshape', from: [2, 7, 1, 1], to: [1, 14, 1, 1] },
  { kind: 'reshape', from: [1, 6, 4, 3], to: [1, 6, 12, 1], relu: true },
  { kind: 'pad', shape: [2, 5, 4, 3], pads: [1, 2, 0, 3], value: 0 },
  { kind: 'pad', shape: [1, 4, 6, 5], pads: [-1, 2, 1, -2], value: -1.5 },
  { kind: 'broadcastAdd', a: [2, 6, 5, 4], b: [1, 6, 1, 1] },
  { kind: 'broadcastAdd', a: [1, 1, 5, 4], b: [2, 7, 5, 1], activation: 'relu' },
  { kind: 'broadcastAdd', a: [2, 5, 3, 3], b: [2, 1, 3, 3], activation: 'relu6' },
  { kind: 'softmaxAxes', shape: [2, 7, 3, 4], axes: [1, 1] },
  { kind: 'softmaxAxes', shape: [1, 5, 4, 3], axes: [2, 3] },
  { kind: 'softmaxAxes', shape: [2, 3, 2, 5], axes: [1, 3] },
  { kind: 'softmaxAxes', shape: [3, 2, 2, 2], axes: [0, 0] },
  ...UPSAMPLE_CASES,
  ...BINARY_CASES,
  // ONNX ReduceMean / ReduceMax (global pools over H, W; a pooled view over C).
  { kind: 'reduce', shape: [2, 6, 7, 5], op: 'max', over: 'hw' },
  { kind: 'reduce', shape: [1, 9, 4, 4], op: 'mean', over: 'hw' },
  { kind: 'reduce', shape: [2, 7, 5, 3], op: 'mean', over: 'c' },
  { kind: 'reduce', shape: [1, 12, 3, 4], op: 'max', over: 'c' },
  // Every function of the activation table: standalone and fused into each epilogue.
  ...ACTIVATION_CASES,
  ...LAYER_NORM_CASES,
  // The input-transform fusions but those after a concat (a copy of several launches where lowered alone); all in 'fusion'.
  ...INPUT_TRANSFORM_CASES.filter((c) => c.kind !== 'inputTransform' || c.via !== 'bnAfterConcat'),
  ...MATMUL_CASES,
  // ReduceMean / ReduceMax over C as one kernel: channel counts with padding lanes, one channel, many.
  { kind: 'reduce', shape: [2, 7, 5, 3], op: 'mean', over: 'c', kernel: true },
  { kind: 'reduce', shape: [1, 12, 3, 4], op: 'max', over: 'c', kernel: true },
  { kind: 'reduce', shape: [1, 1, 4, 4], op: 'max', over: 'c', kernel: true },
  { kind: 'reduce', shape: [2, 33, 2, 3], op: 'mean', over: 'c', kernel: true },
];

/**
 * Channel concat and slice: offsets on and off vec4 boundaries, odd counts, batch 2, a tensor concatenated twice;
 * the `convs` cases with vec4-aligned offsets run in place (producers write into the concat's buffer), and so
 * do the aligned slices of the `split` cases (readers load from the input's buffer).
 */
export const CHANNEL_CASES: readonly GpuCase[] = [
  { kind: 'channels', via: 'inputs', n: 2, h: 3, w: 5, parts: [3, 5, 2] },
  { kind: 'channels', via: 'inputs', n: 1, h: 4, w: 4, parts: [1, 1, 1, 1, 1] },
  { kind: 'channels', via: 'inputs', n: 1, h: 2, w: 3, parts: [7] },
  { kind: 'channels', via: 'convs', n: 2, h: 6, w: 5, parts: [8, 4, 12] },
  { kind: 'channels', via: 'convs', n: 1, h: 5, w: 7, parts: [6, 3, 5] },
  { kind: 'channels', via: 'convs', n: 2, h: 5, w: 3, parts: [4, 8, 5] },
  { kind: 'channels', via: 'split', n: 2, h: 5, w: 4, parts: [8, 8] },
  { kind: 'channels', via: 'split', n: 1, h: 4, w: 6, parts: [3, 6, 5] },
  { kind: 'channels', via: 'split', n: 2, h: 3, w: 5, parts: [4, 8, 5] },
  { kind: 'channels', via: 'dense', n: 2, h: 6, w: 6, parts: [8, 4, 4, 4] },
  { kind: 'channels', via: 'dense', n: 1, h: 5, w: 5, parts: [5, 3, 6] },
  { kind: 'channels', via: 'denseFlat', n: 2, h: 5, w: 6, parts: [8, 4, 4, 4] },
  { kind: 'channels', via: 'denseFlat', n: 1, h: 4, w: 4, parts: [4, 8, 3], wrapFirst: true },
  { kind: 'channels', via: 'shuffle', n: 2, h: 5, w: 3, parts: [12, 2] },
  { kind: 'channels', via: 'shuffle', n: 1, h: 4, w: 6, parts: [9, 3] },
  { kind: 'channels', via: 'shuffle', n: 1, h: 3, w: 3, parts: [24, 4] },
  { kind: 'channels', via: 'shuffle', n: 2, h: 1, w: 1, parts: [6, 2] },
];

/** Block cases: every variant of both residual designs. */
export const BLOCK_CASES: readonly GpuCase[] = [
  { kind: 'invertedResidual', n: 1, inC: 32, outC: 16, size: 14, stride: 1, expandRatio: 1 },
  { kind: 'invertedResidual', n: 2, inC: 24, outC: 24, size: 9, stride: 1, expandRatio: 6 },
  { kind: 'invertedResidual', n: 1, inC: 16, outC: 24, size: 15, stride: 2, expandRatio: 6 },
  { kind: 'invertedResidual', n: 1, inC: 12, outC: 12, size: 7, stride: 1, expandRatio: 1 },
  { kind: 'bottleneck', n: 1, inC: 64, width: 16, size: 9, stride: 1, downsample: false },
  { kind: 'bottleneck', n: 2, inC: 32, width: 16, size: 9, stride: 2, downsample: true },
  { kind: 'bottleneck', n: 1, inC: 16, width: 16, size: 8, stride: 1, downsample: true },
];

/**
 * Whole networks: MobileNetV2 at its real 224 input and ResNet-50 at 64x64 (the CPU oracle stays quick), compared
 * on logits; smaller variants with odd sizes, batch 2 and the softmax head.
 */
export const NETWORK_CASES: readonly GpuCase[] = [
  { kind: 'mobilenetV2', n: 1, inputSize: 224 },
  { kind: 'resnet50', n: 1, inputSize: 64 },
  { kind: 'resnet50', n: 2, inputSize: 33, numClasses: 10, softmax: true },
  { kind: 'mobilenetV2', n: 2, inputSize: 96, widthMultiplier: 0.5, numClasses: 10, softmax: true },
];

/**
 * f16 storage: every kernel case, three blocks (both residual designs) and three networks, at 'f16-packed' (every
 * adapter) and at native 'f16' (run where the adapter has `shader-f16`, reported skipped elsewhere), held to
 * the f16 bars of `f16Tolerance`.
 */
export const F16_CASES: readonly GpuCase[] = (['f16-packed', 'f16'] as const).flatMap((precision) =>
  [
    ...KERNEL_CASES,
    BLOCK_CASES[1],
    BLOCK_CASES[2],
    BLOCK_CASES[5],
    NETWORK_CASES[0],
    NETWORK_CASES[1],
    NETWORK_CASES[3],
  ].map((c): GpuCase => ({ ...c, precision })),
);

/**
 * Every tile variant (`TILE_CASES`: register tiles, workgroup-memory convs, the split-K head, the GPU default
 * choice) at 'f16-packed' and native 'f16', against the kernel bar.
 */
export const F16_TILE_CASES: readonly TileCase[] = (['f16-packed', 'f16'] as const).flatMap((precision) =>
  TILE_CASES.map((t) => ({ ...t, name: `${t.name} [${precision}]`, case: { ...t.case, precision } })),
);

function buildChannelsCase(
  b: GraphBuilder,
  c: ChannelsCase,
  rng: Rng,
  input: (name: string, shape: Shape4) => TensorId,
): TensorId {
  const conv = (x: TensorId, outC: number, kernel: number): TensorId => {
    const fanIn = b.shape(x)[1] * kernel * kernel;
    const bound = Math.sqrt(3 / fanIn);
    const weight = rng.fill(outC * fanIn, -bound, bound);
    return b.conv2d(x, { outChannels: outC, kernel, padding: (kernel - 1) / 2, weight, bias: rng.fill(outC, -0.5, 0.5), activation: RELU });
  };
  const { n, h, w, parts } = c;
  switch (c.via) {
    case 'inputs': {
      const xs = parts.map((p, i) => input(`x${i}`, [n, p, h, w]));
      return b.concat(parts.length > 1 ? xs : [xs[0], xs[0]]);
    }
    case 'convs': {
      const x = input('x', [n, 3, h, w]);
      const cat = b.concat(parts.map((p, i) => conv(x, p, i % 2 === 0 ? 1 : 3)));
      return conv(cat, 5, 1);
    }
    case 'split': {
      const x = input('x', [n, parts.reduce((a, p) => a + p, 0), h, w]);
      let start = 0;
      const pieces = parts.map((p, i) => {
        const slice = b.sliceChannels(x, start, p);
        start += p;
        return i === 0 ? slice : conv(slice, p, i % 2 === 0 ? 3 : 1);
      });
      return b.concat(pieces);
    }
    case 'dense': {
      let cat = input('x', [n, parts[0], h, w]);
      for (const p of parts.slice(1)) cat = b.concat([cat, conv(b.relu(cat), p, 3)]);
      return cat;
    }
    case 'denseFlat': {
      const features = [conv(input('x', [n, 3, h, w]), parts[0], 1)];
      for (const p of parts.slice(1)) {
        const cat = features.length === 1 && !c.wrapFirst ? features[0] : b.concat(features);
        features.push(conv(b.relu(cat), p, 3));
      }
      return b.concat(features);
    }
    case 'shuffle': {
      const s = b.shuffleChannels(conv(input('x', [n, 3, h, w]), parts[0], 1), parts[1]);
      return b.concat([s, conv(s, 4, 3)]);
    }
  }
}
