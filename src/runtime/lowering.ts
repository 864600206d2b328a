import type { KernelProgram, StoragePrecision } from '../../shaders/common.ts';
import { bytesPerVec4, ceilDiv, clampBound } from '../../shaders/common.ts';
import { conv2dProgram } from '../../shaders/conv2d.ts';
import { convSharedBlock, convSharedProgram } from '../../shaders/conv-shared.ts';
import { depthwiseConvProgram, depthwiseRowsProgram } from '../../shaders/depthwise.ts';
import { broadcastAddProgram, elementwiseProgram } from '../../shaders/elementwise.ts';
import { flattenProgram, packNchwProgram, reshapeProgram, unpackNchwProgram } from '../../shaders/layout.ts';
import { padProgram } from '../../shaders/pad.ts';
import { pointwiseConvProgram } from '../../shaders/pointwise.ts';
import { globalAvgPoolProgram, poolProgram } from '../../shaders/pool.ts';
import { linearSplitKProgram } from '../../shaders/linear.ts';
import { softmaxAxesProgram, softmaxProgram } from '../../shaders/softmax.ts';
import { GraphError } from '../errors.ts';
import { isSoftwareAdapter } from '../gpu/device.ts';
import type { Activation, Conv2dNode, Graph, GraphNode, LinearNode, PoolAttrs, Shape4, SoftmaxAttrs, TensorId } from '../graph/ir.ts';
import { activationBounds } from '../graph/ir.ts';
import { toFloat16BitsInto } from './f16.ts';
import type { WeightPacking } from './pack-weights.ts';
import { c4, denseConvPacking, depthwisePacking, groupedConvPacking, linearRowsPacking, packBias, packWeights } from './pack-weights.ts';

/**
 * Lowering: each node of an optimized graph becomes one kernel launch described without any GPU object:
 * which program, its uniform values, how many workgroups, and what each binding reads or writes. The
 * compiler turns these into pipelines, buffers and bind groups once.
 */
export type BufferRef =
  | { readonly kind: 'tensor'; readonly id: TensorId }
  /**
   * Weights as float32, or as binary16 words (`toFloat16Bits`) at the f16 precisions; biases are always f32.
   * `writeInto` writes `data`'s bytes into a zero-filled buffer of `byteLength` (a GPU buffer's mapped range)
   * without keeping a copy: weights are packed there directly. `data` packs into a fresh array (for tests).
   */
  | {
      readonly kind: 'constant';
      readonly data: Float32Array | Uint16Array;
      readonly byteLength: number;
      readonly writeInto: (target: ArrayBuffer) => void;
    }
  /** Plain NCHW f32 staging buffers at the graph's edges, by input or output position. */
  | { readonly kind: 'rawInput'; readonly index: number }
  | { readonly kind: 'rawOutput'; readonly index: number };

export interface Step {
  /** The graph node's name, or a layout step's description. */
  readonly label: string;
  /** Kernel kind for timing breakdowns: pointwise, depthwise, conv2d, pool, ... */
  readonly kind: string;
  readonly program: KernelProgram;
  readonly uniforms: Readonly<Record<string, number>>;
  readonly workgroups: number;
  /** Binding name (as in `program.bindings`, except `params`) -> buffer. */
  readonly buffers: Readonly<Record<string, BufferRef>>;
  /** Multiply-accumulates, for GFLOP/s figures. */
  readonly macs: number;
}

/**
 * Register tile of one invocation: output pixels along a row x groups of four output channels. With `shared`,
 * dense convolutions use the workgroup-memory kernel (shaders/conv-shared.ts), whose 8 x 8 invocations each
 * compute such a tile (pixels then need not share a row; `pixelsPerThread` must be 2, 4, 6 or 8).
 */
export interface Tile {
  readonly pixelsPerThread: number;
  readonly vec4sPerThread: number;
  readonly shared?: boolean;
}

/** Kernel tiling knobs; the defaults are the deterministic choice when nothing is tuned. */
export interface KernelChoice {
  readonly pointwise: Tile;
  readonly conv2d: Tile;
  /** Dense convs on at most 4 input channels (RGB stems): one channel vec4 per tap, so wider pixel tiles pay. */
  readonly stem?: Tile;
  /** `rows`: the row-reuse depthwise kernel where dilation is 1 (default true). */
  readonly depthwise: { readonly pixelsPerThread: number; readonly rows?: boolean };
  /**
   * Fully connected layers with fewer rows than a pointwise tile has pixels: `splitK` spreads each output vec4's
   * dot product over a workgroup (shaders/linear.ts), `register` (default) gives it to one invocation.
   */
  readonly linear?: 'splitK' | 'register';
  /** Per-convolution tiles (by output tensor id of the optimized graph), e.g. from the autotuner. */
  readonly perNode?: ReadonlyMap<TensorId, Tile>;
}

/**
 * 8 pixels x 8 output channels per invocation: on SwiftShader (Chromium 156, 2 cores) this beat 4 x 8, 4 x 16,
 * 8 x 4 and 2 x 16 in interleaved runs (ResNet-50 224 pointwise + dense conv time 11% below 4 x 8), and its 16 vec4
 * accumulators fit a GPU thread's registers.
 */
export const DEFAULT_KERNEL_CHOICE: KernelChoice = {
  pointwise: { pixelsPerThread: 8, vec4sPerThread: 2 },
  conv2d: { pixelsPerThread: 8, vec4sPerThread: 2 },
  // 16 x 8 cut the ResNet-50 7x7 stem by 18% and the MobileNetV2 3x3 stem by 22% against 8 x 8 on SwiftShader.
  stem: { pixelsPerThread: 16, vec4sPerThread: 2 },
  depthwise: { pixelsPerThread: 4 },
};

/**
 * Deterministic default for hardware GPUs: the workgroup-memory kernel with 16 pixels x 32 channels per
 * workgroup for every dense conv, and the split-K head. On an H200 (Dawn/Vulkan in Node, unquantized timestamp
 * queries, docs/perf-h200.md) it beat every other whole-network choice measured: ResNet-50 224 3.17 ms against
 * 4.32 (32 x 64 tiles), 5.96 (32 x 128), 7.63 (register 2 x 4) and 10.6 (the software default); MobileNetV2 224
 * 0.57 ms against 0.80, 1.05, 1.23 and 1.67; the autotuner picked the same tile for every layer.
 */
export const GPU_KERNEL_CHOICE: KernelChoice = {
  pointwise: { pixelsPerThread: 2, vec4sPerThread: 2, shared: true },
  conv2d: { pixelsPerThread: 2, vec4sPerThread: 2, shared: true },
  stem: { pixelsPerThread: 2, vec4sPerThread: 2, shared: true },
  depthwise: { pixelsPerThread: 4 },
  linear: 'splitK',
};

/** The untuned kernel choice for an adapter: SwiftShader's measured defaults on software adapters, else the GPU one. */
export function defaultKernelChoice(info: Partial<GPUAdapterInfo> | undefined): KernelChoice {
  return !info || isSoftwareAdapter(info) ? DEFAULT_KERNEL_CHOICE : GPU_KERNEL_CHOICE;
}

const tensor = (id: TensorId): BufferRef => ({ kind: 'tensor', id });
const constant = (data: Float32Array | Uint16Array): BufferRef => ({
  kind: 'constant',
  data,
  byteLength: data.byteLength,
  writeInto: (target) => new Uint8Array(target, 0, data.byteLength).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)),
});

/**
 * Packed weights, packed only when written or read: lowering stays cheap, so the compiler can start every
 * pipeline compile before it packs the weights, and packing overlaps the driver's compiles. At f32 the packing
 * writes straight into the target; at the f16 precisions it packs to f32 and writes the binary16 words there.
 */
function packedConstant(packing: WeightPacking, precision: StoragePrecision): BufferRef {
  const f32 = precision === 'f32';
  const writeInto = (target: ArrayBuffer): void => {
    if (f32) packing.packInto(new Float32Array(target, 0, packing.length));
    else toFloat16BitsInto(packWeights(packing), new Uint16Array(target, 0, packing.length));
  };
  let data: Float32Array | Uint16Array | null = null;
  return {
    kind: 'constant',
    byteLength: packing.length * (f32 ? 4 : 2),
    writeInto,
    get data() {
      if (!data) {
        const bytes = new ArrayBuffer(packing.length * (f32 ? 4 : 2));
        writeInto(bytes);
        data = f32 ? new Float32Array(bytes) : new Uint16Array(bytes);
      }
      return data;
    },
  };
}

function activationUniforms(a: Activation): { actMin: number; actMax: number } {
  const [lo, hi] = activationBounds(a);
  return { actMin: clampBound(lo), actMax: clampBound(hi) };
}

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

/** Whether a softmax is the plain one over the features of a flat `[n, c, 1, 1]` tensor. */
function isFlatChannelSoftmax(attrs: SoftmaxAttrs, shape: Shape4): boolean {
  if (shape[2] !== 1 || shape[3] !== 1) return false;
  if (!attrs.axes) return true;
  const [first, last] = attrs.axes;
  return first <= 1 && last >= 1 && (first === 1 || shape[0] === 1);
}

/** Bytes of a tensor stored as NHWC4: 16 per vec4 of channels at f32, 8 at the f16 precisions. */
export function storageBytes(shape: Shape4, precision: StoragePrecision = 'f32'): number {
  const [n, c, h, w] = shape;
  return n * h * w * c4(c) * bytesPerVec4(precision);
}

/**
 * Lowers every node. `precision` is how all tensors of the model and the conv / linear weights are stored (see
 * `StoragePrecision`): one precision per model, so every kernel agrees on every tensor's format; the NCHW f32
 * inputs and outputs at the edges do not change.
 */
export function lowerGraph(graph: Graph, choice: KernelChoice = DEFAULT_KERNEL_CHOICE, precision: StoragePrecision = 'f32'): Step[] {
  const steps: Step[] = graph.inputs.map((id, index) => layoutStep('pack', graph.tensors[id].shape, index, id, precision));
  for (const node of graph.nodes) {
    if (isAliasNode(graph, node)) continue;
    steps.push(lowerNode(graph, node, choice, precision));
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
    uniforms: { total, C: c, C4, H: h, W: w },
    workgroups: ceilDiv(total, 64),
    buffers:
      direction === 'pack'
        ? { src: { kind: 'rawInput', index }, dst: tensor(id) }
        : { src: tensor(id), dst: { kind: 'rawOutput', index } },
    macs: 0,
  };
}

function lowerNode(graph: Graph, node: GraphNode, choice: KernelChoice, precision: StoragePrecision): Step {
  const inShape = graph.tensors[node.inputs[0]].shape;
  const outShape = graph.tensors[node.output].shape;
  switch (node.op) {
    case 'conv2d':
      return lowerConv(node, inShape, outShape, choice, precision);
    case 'linear':
      return lowerLinear(node, inShape, choice, precision);
    case 'add':
    case 'activation': {
      if (node.op === 'add' && !sameShape(inShape, graph.tensors[node.inputs[1]].shape)) {
        return lowerBroadcastAdd(node.name, node.attrs.activation, graph, node.inputs[0], node.inputs[1], node.output, precision);
      }
      const total = storageBytes(outShape) / 16; // vec4s
      const buffers: Record<string, BufferRef> =
        node.op === 'add'
          ? { a: tensor(node.inputs[0]), b: tensor(node.inputs[1]), dst: tensor(node.output) }
          : { a: tensor(node.inputs[0]), dst: tensor(node.output) };
      return {
        label: node.name,
        kind: 'elementwise',
        program: elementwiseProgram(node.op, precision),
        uniforms: { total, ...activationUniforms(node.attrs.activation) },
        workgroups: ceilDiv(total, 64),
        buffers,
        macs: 0,
      };
    }
    case 'maxPool':
    case 'avgPool':
      return lowerPool(node.name, node.op === 'maxPool' ? 'max' : 'avg', node.attrs, inShape, outShape, node.inputs[0], node.output, precision);
    case 'globalAvgPool': {
      const [n, c, h, w] = inShape;
      const total = n * c4(c);
      return {
        label: node.name,
        kind: 'pool',
        program: globalAvgPoolProgram(precision),
        uniforms: { total, C4: c4(c), spatial: h * w },
        workgroups: ceilDiv(total, 64),
        buffers: { src: tensor(node.inputs[0]), dst: tensor(node.output) },
        macs: 0,
      };
    }
    case 'flatten': {
      const [n, c, h, w] = inShape;
      const outC4 = c4(c * h * w);
      return {
        label: node.name,
        kind: 'layout',
        program: flattenProgram(precision),
        uniforms: { total: n * outC4, C: c, C4: c4(c), H: h, W: w, outC4 },
        workgroups: ceilDiv(n * outC4, 64),
        buffers: { src: tensor(node.inputs[0]), dst: tensor(node.output) },
        macs: 0,
      };
    }
    case 'reshape': {
      const [, inC, inH, inW] = inShape;
      const [n, outC, outH, outW] = outShape;
      const total = n * outH * outW * c4(outC);
      return {
        label: node.name,
        kind: 'layout',
        program: reshapeProgram(precision),
        uniforms: { total, inC, inC4: c4(inC), inH, inW, outC, outC4: c4(outC), outH, outW },
        workgroups: ceilDiv(total, 64),
        buffers: { src: tensor(node.inputs[0]), dst: tensor(node.output) },
        macs: 0,
      };
    }
    case 'pad': {
      const [, c, inH, inW] = inShape;
      const [n, , outH, outW] = outShape;
      const total = n * outH * outW * c4(c);
      const { pads, value } = node.attrs;
      return {
        label: node.name,
        kind: 'layout',
        program: padProgram(precision),
        uniforms: { total, C4: c4(c), inH, inW, outH, outW, padTop: pads[0], padLeft: pads[1], value },
        workgroups: ceilDiv(total, 64),
        buffers: { src: tensor(node.inputs[0]), dst: tensor(node.output) },
        macs: 0,
      };
    }
    case 'softmax': {
      if (!isFlatChannelSoftmax(node.attrs, inShape)) return lowerSoftmaxAxes(node.name, node.attrs.axes ?? [1, 1], inShape, node.inputs[0], node.output, precision);
      const [n, c] = inShape;
      return {
        label: node.name,
        kind: 'softmax',
        program: softmaxProgram(precision),
        uniforms: { C: c, C4: c4(c), rows: n },
        workgroups: n,
        buffers: { src: tensor(node.inputs[0]), dst: tensor(node.output) },
        macs: 0,
      };
    }
    case 'batchNorm':
      throw new GraphError(`node ${node.name}: batch norm must be folded before lowering (run optimizeGraph)`);
  }
}

function convBuffers(
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
  if (node.inputs.length > 1) buffers.residual = tensor(node.inputs[1]);
  return buffers;
}

function lowerConv(node: Conv2dNode, inShape: Shape4, outShape: Shape4, globalChoice: KernelChoice, precision: StoragePrecision): Step {
  const tile = globalChoice.perNode?.get(node.output);
  const choice: KernelChoice = tile
    ? { pointwise: tile, conv2d: tile, depthwise: { ...globalChoice.depthwise, pixelsPerThread: tile.pixelsPerThread } }
    : globalChoice;
  const a = node.attrs;
  const [n, inC, inH, inW] = inShape;
  const [, outC, outH, outW] = outShape;
  const [kh, kw] = a.kernel;
  const residual = node.inputs.length > 1;
  const activation = a.activation.kind !== 'none';
  const act = activationUniforms(a.activation);
  const bias = packBias(a.bias, outC);
  const macs = n * outH * outW * outC * (inC / a.groups) * kh * kw;

  if (a.groups === inC && outC === inC && a.groups > 1) {
    const P = choice.depthwise.pixelsPerThread;
    const oxGroups = ceilDiv(outW, P);
    const total = n * outH * oxGroups * c4(outC);
    return {
      label: node.name,
      kind: 'depthwise',
      program:
        choice.depthwise.rows !== false && a.dilation[0] === 1 && a.dilation[1] === 1
          ? depthwiseRowsProgram({ kernelH: kh, kernelW: kw, strideY: a.stride[0], strideX: a.stride[1], pixelsPerThread: P, residual, activation }, precision)
          : depthwiseConvProgram({ kernelH: kh, kernelW: kw, pixelsPerThread: P, residual, activation }, precision),
      uniforms: {
        total, inH, inW, C4: c4(outC), outH, outW, oxGroups,
        strideY: a.stride[0], strideX: a.stride[1], dilationY: a.dilation[0], dilationX: a.dilation[1],
        padTop: a.pads[0], padLeft: a.pads[1], ...act,
      },
      workgroups: ceilDiv(total, 64),
      buffers: convBuffers(node, depthwisePacking(a.weight, outC, kh, kw), bias, precision),
      macs,
    };
  }

  const weight = groupedConvPacking(a.weight, outC, inC, a.groups, kh, kw);
  const isPointwise = kh === 1 && kw === 1 && a.pads.every((p) => p === 0);
  const denseTile = isPointwise ? choice.pointwise : !tile && inC <= 4 && choice.stem ? choice.stem : choice.conv2d;
  if (denseTile.shared) {
    const block = convSharedBlock(denseTile);
    const pixels = n * outH * outW;
    const tilesN = ceilDiv(c4(outC), block.vec4s);
    const tiles = ceilDiv(pixels, block.pixels) * tilesN;
    return {
      label: node.name,
      kind: isPointwise ? 'pointwise' : 'conv2d',
      program: convSharedProgram({
        kernelH: kh, kernelW: kw, pixelsPerThread: denseTile.pixelsPerThread, vec4sPerThread: denseTile.vec4sPerThread, residual, activation,
      }, precision),
      uniforms: {
        pixels, K: kh * kw * c4(inC), tilesN, tiles, inH, inW, inC4: c4(inC), outH, outW, outC4: c4(outC),
        strideY: a.stride[0], strideX: a.stride[1], dilationY: a.dilation[0], dilationX: a.dilation[1],
        padTop: a.pads[0], padLeft: a.pads[1], ...act,
      },
      workgroups: tiles,
      buffers: convBuffers(node, weight, bias, precision),
      macs,
    };
  }
  if (isPointwise) {
    const P = denseTile.pixelsPerThread;
    const V = Math.min(denseTile.vec4sPerThread, c4(outC));
    const pixels = n * outH * outW;
    const coGroups = ceilDiv(c4(outC), V);
    const strided = a.stride[0] !== 1 || a.stride[1] !== 1;
    return {
      label: node.name,
      kind: 'pointwise',
      program: pointwiseConvProgram({ pixelsPerThread: P, vec4sPerThread: V, strided, residual, activation }, precision),
      uniforms: {
        pixels, inH, inW, inC4: c4(inC), outH, outW, outC4: c4(outC),
        strideY: a.stride[0], strideX: a.stride[1], coGroups, ...act,
      },
      workgroups: ceilDiv(ceilDiv(pixels, P) * coGroups, 64),
      buffers: convBuffers(node, weight, bias, precision),
      macs,
    };
  }

  const P = denseTile.pixelsPerThread;
  const V = Math.min(denseTile.vec4sPerThread, c4(outC));
  const oxGroups = ceilDiv(outW, P);
  const coGroups = ceilDiv(c4(outC), V);
  const total = n * outH * oxGroups * coGroups;
  return {
    label: node.name,
    kind: 'conv2d',
    program: conv2dProgram({ kernelH: kh, kernelW: kw, pixelsPerThread: P, vec4sPerThread: V, residual, activation }, precision),
    uniforms: {
      total, inH, inW, inC4: c4(inC), outH, outW, outC4: c4(outC), oxGroups, coGroups,
      strideY: a.stride[0], strideX: a.stride[1], dilationY: a.dilation[0], dilationX: a.dilation[1],
      padTop: a.pads[0], padLeft: a.pads[1], ...act,
    },
    workgroups: ceilDiv(total, 64),
    buffers: convBuffers(node, weight, bias, precision),
    macs,
  };
}

/** A fully connected layer is a pointwise conv over a 1x1 map with the batch as pixels. */
function lowerLinear(node: LinearNode, inShape: Shape4, choice: KernelChoice, precision: StoragePrecision): Step {
  const [n, inC] = inShape;
  const outC = node.attrs.outFeatures;
  const fewRows = n < choice.pointwise.pixelsPerThread;
  const activation = node.attrs.activation.kind !== 'none';
  const act = activationUniforms(node.attrs.activation);
  const bias = packBias(node.attrs.bias, outC);
  if (fewRows && choice.linear === 'splitK') {
    const items = n * c4(outC);
    return {
      label: node.name,
      kind: 'linear',
      program: linearSplitKProgram({ activation }, precision),
      uniforms: { items, inC4: c4(inC), outC4: c4(outC), ...act },
      workgroups: items,
      buffers: convBuffers(node, linearRowsPacking(node.attrs.weight, outC, inC), bias, precision),
      macs: n * inC * outC,
    };
  }
  // Few rows: spread the output channels over more invocations instead of blocking pixels.
  const P = fewRows ? 1 : choice.pointwise.pixelsPerThread;
  const V = fewRows ? 1 : Math.min(choice.pointwise.vec4sPerThread, c4(outC));
  const coGroups = ceilDiv(c4(outC), V);
  return {
    label: node.name,
    kind: 'linear',
    program: pointwiseConvProgram({ pixelsPerThread: P, vec4sPerThread: V, strided: false, residual: false, activation }, precision),
    uniforms: {
      pixels: n, inH: 1, inW: 1, inC4: c4(inC), outH: 1, outW: 1, outC4: c4(outC),
      strideY: 1, strideX: 1, coGroups, ...act,
    },
    workgroups: ceilDiv(ceilDiv(n, P) * coGroups, 64),
    buffers: convBuffers(node, denseConvPacking(node.attrs.weight, outC, inC, 1, 1), bias, precision),
    macs: n * inC * outC,
  };
}

function lowerPool(
  label: string,
  kind: 'max' | 'avg',
  a: PoolAttrs,
  inShape: Shape4,
  outShape: Shape4,
  input: TensorId,
  output: TensorId,
  precision: StoragePrecision,
): Step {
  const [n, c, inH, inW] = inShape;
  const [, , outH, outW] = outShape;
  const total = n * outH * outW * c4(c);
  return {
    label,
    kind: 'pool',
    program: poolProgram(kind, precision),
    uniforms: {
      total, inH, inW, C4: c4(c), outH, outW,
      kernelH: a.kernel[0], kernelW: a.kernel[1], strideY: a.stride[0], strideX: a.stride[1],
      dilationY: a.dilation[0], dilationX: a.dilation[1], padTop: a.pads[0], padLeft: a.pads[1],
      paddedH: inH + a.pads[0] + a.pads[2], paddedW: inW + a.pads[1] + a.pads[3],
      countIncludePad: a.countIncludePad ? 1 : 0,
    },
    workgroups: ceilDiv(total, 64),
    buffers: { src: tensor(input), dst: tensor(output) },
    macs: 0,
  };
}

function sameShape(a: Shape4, b: Shape4): boolean {
  return a[0] === b[0] && a[1] === b[1] && a[2] === b[2] && a[3] === b[3];
}

function lowerBroadcastAdd(
  label: string,
  activation: Activation,
  graph: Graph,
  a: TensorId,
  b: TensorId,
  output: TensorId,
  precision: StoragePrecision,
): Step {
  const [aN, aC, aH, aW] = graph.tensors[a].shape;
  const [bN, bC, bH, bW] = graph.tensors[b].shape;
  const [n, c, outH, outW] = graph.tensors[output].shape;
  const total = n * outH * outW * c4(c);
  return {
    label,
    kind: 'elementwise',
    program: broadcastAddProgram(precision),
    uniforms: { total, outC4: c4(c), outH, outW, aN, aC, aH, aW, bN, bC, bH, bW, ...activationUniforms(activation) },
    workgroups: ceilDiv(total, 64),
    buffers: { a: tensor(a), b: tensor(b), dst: tensor(output) },
    macs: 0,
  };
}

/** Softmax over NCHW axes `first..last` of any tensor; one output vec4 per invocation. */
function lowerSoftmaxAxes(
  label: string,
  axes: readonly [number, number],
  shape: Shape4,
  input: TensorId,
  output: TensorId,
  precision: StoragePrecision,
): Step {
  const [n, c, h, w] = shape;
  let len = 1;
  let inner = 1;
  shape.forEach((d, i) => {
    if (i >= axes[0] && i <= axes[1]) len *= d;
    else if (i > axes[1]) inner *= d;
  });
  const total = n * h * w * c4(c);
  return {
    label,
    // Not 'softmax': that kind is the one-workgroup-per-image reduction of flat heads.
    kind: 'elementwise',
    program: softmaxAxesProgram(precision),
    uniforms: { total, C: c, C4: c4(c), H: h, W: w, len, inner },
    workgroups: ceilDiv(total, 64),
    buffers: { src: tensor(input), dst: tensor(output) },
    macs: 0,
  };
}
