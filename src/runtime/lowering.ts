import type { KernelProgram, StoragePrecision } from '../../shaders/common.ts';
import { bytesPerVec4, ceilDiv, clampBound } from '../../shaders/common.ts';
import { conv2dProgram } from '../../shaders/conv2d/wgsl.ts';
import { CONV_SHARED_STEP, convSharedBlock, convSharedProgram } from '../../shaders/conv-shared/wgsl.ts';
import { depthwiseConvProgram, depthwiseRowsProgram } from '../../shaders/depthwise/wgsl.ts';
import { broadcastAddProgram, elementwiseProgram } from '../../shaders/elementwise/wgsl.ts';
import { flattenProgram, packNchwProgram, reshapeProgram, unpackNchwProgram } from '../../shaders/layout/wgsl.ts';
import { padProgram } from '../../shaders/pad/wgsl.ts';
import { pointwiseConvProgram } from '../../shaders/pointwise/wgsl.ts';
import { globalAvgPoolProgram, poolProgram } from '../../shaders/pool/wgsl.ts';
import { linearPooledProgram, linearSplitKProgram } from '../../shaders/linear/wgsl.ts';
import { softmaxAxesProgram, softmaxProgram } from '../../shaders/softmax/wgsl.ts';
import { splitKReduceProgram } from '../../shaders/conv-shared/split-k-reduce.ts';
import { GraphError, UnsupportedFeatureError } from '../errors.ts';
import { isSoftwareAdapter } from '../gpu/device.ts';
import type { Activation, Conv2dAttrs, Conv2dNode, Graph, GraphNode, LinearNode, PoolAttrs, Shape4, SoftmaxAttrs, TensorId } from '../graph/ir.ts';
import { activationBounds } from '../graph/ir.ts';
import { optimizeGraph } from '../graph/passes/index.ts';
import { toFloat16BitsInto } from './f16.ts';
import type { WeightPacking } from './pack-weights.ts';
import { c4, denseConvPacking, depthwisePacking, groupedConvPacking, linearRowsPacking, packBias, packWeights } from './pack-weights.ts';

/**
 * Lowering: each node of an optimized graph becomes one kernel launch (a split-K convolution two) described
 * without any GPU object: which program, its uniform values, how many workgroups, and what each binding reads
 * or writes. The compiler turns these into pipelines, buffers and bind groups once.
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
  | { readonly kind: 'rawOutput'; readonly index: number }
  /**
   * Split-K partial sums (f32): `byteLength` bytes that one launch writes and the next reads. The compiler makes
   * one scratch buffer for the model, sized to the largest need: launches run in order, so steps share it.
   */
  | { readonly kind: 'scratch'; readonly byteLength: number };

/** What a launch computes, for timing breakdowns and the tuner (the conv kinds are its tunable families). */
export type StepKind = 'pointwise' | 'depthwise' | 'conv2d' | 'linear' | 'pool' | 'layout' | 'elementwise' | 'softmax';

export interface Step {
  /** The graph node's name, or a layout step's description. */
  readonly label: string;
  readonly kind: StepKind;
  readonly program: KernelProgram;
  readonly uniforms: Readonly<Record<string, number>>;
  readonly workgroups: number;
  /** Binding name (as in `program.bindings`, except `params`) -> buffer. */
  readonly buffers: Readonly<Record<string, BufferRef>>;
  /** Multiply-accumulates, for GFLOP/s figures (a node lowered to several launches counts them once). */
  readonly macs: number;
  /**
   * Output tensor of the graph node the step was lowered from (absent for the layout steps at the graph's
   * edges). Every launch of a node lowered to several (split-K) carries it and the node's name as `label`.
   */
  readonly node?: TensorId;
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
  /**
   * With `shared`: spread the K reduction (KH * KW * inC) over this many workgroups per output tile, each
   * writing f32 partial sums to a scratch buffer, and add them in a second launch that applies bias, residual
   * and clamp (`splitKSlices`: K is cut in whole staging steps, so a small K gets fewer slices; one slice is
   * the plain kernel). For outputs with too few tiles to fill a GPU, e.g. 7x7 maps. Absent or 1: no split.
   */
  readonly splitK?: number;
}

/**
 * Split-K for dense convs whose workgroup-memory tile leaves few workgroups: a layer whose tile gives at most
 * `maxTiles` output tiles, and whose K has at least `MIN_SPLIT_K_SLICE` input vec4s per slice, gets
 * `splitK: splits` (`splitKFits`). Per-node tiles (the autotuner's) are explicit and ignore it.
 */
export interface SplitKRule {
  readonly splits: number;
  readonly maxTiles: number;
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
  /**
   * Output vec4s per invocation of the fused global average pool + FC register kernel (`linearPooledProgram`:
   * layers with `poolInput` wherever the split-K head is not chosen); default 1 below the pointwise tile's pixels,
   * the pointwise tile's vec4s from there. A workgroup pools its rows' map once per 64 x this many output vec4s.
   */
  readonly pooledLinearVec4s?: number;
  /**
   * Fuse a global average pool into the fully connected layer it feeds (the graph pass `fusePoolLinear`, run by
   * `compile`'s optimization); default true. The software default turns it off, see `DEFAULT_KERNEL_CHOICE`.
   */
  readonly fusePoolLinear?: boolean;
  /** Split-K on the dense convs with few output tiles (workgroup-memory tiles only), see `SplitKRule`. */
  readonly smallMapSplitK?: SplitKRule;
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
  // RGB stems take the conv2d tile. A 16 x 8 stem tile ran the ResNet-50 7x7 stem 12-20% faster, and the
  // MobileNetV2 3x3 stem 0-15%, but its 32 accumulators took 660-790 ms to compile on SwiftShader against
  // 240-310 ms for 8 x 8, and Chromium compiled it on the cold start's critical path: 8 x 8 cut the browser cold
  // start from 1750 to 1381 ms (MobileNetV2) and 3820 to 3496 ms (ResNet-50; medians of 5 interleaved runs,
  // 2026-11-30), while ResNet-50's median latency stayed at 2090-2150 ms (16 x 8) vs 2115-2147 ms (8 x 8; medians
  // of 8 rounds, 3 interleaved runs each).
  depthwise: { pixelsPerThread: 4 },
  // 64 x 4 output vec4s per workgroup cover the ImageNet heads (250-251), so the fused pool + FC head pools each
  // row's map once. Against the unfused pool + register GEMV on SwiftShader (1280 or 2048 x 7x7 -> 1000, batch 1,
  // 8 and 16, interleaved, median GPU time, 2 cores shared with other work) it measured 0.94-0.98x, 1 and 2 vec4s
  // (the map pooled 4 or 2 times per row) 1.01-1.5x; at batch 1 its single workgroup's best runs were slower than
  // the unfused GEMV's (which spreads over 4 workgroups) on the idlest runs, so this is parity, not a win, here.
  pooledLinearVec4s: 4,
  // No pool + FC fusion here: the fused head ran at parity with pool + GEMV on SwiftShader, but its kernel
  // (workgroup memory and barriers) took 836 ms to compile there against 102-181 ms for a pointwise kernel, which
  // put MobileNetV2 224's compile at 2.3-2.5 s against 1.5-1.7 s unfused (Dawn in Node, three runs each).
  fusePoolLinear: false,
};

/**
 * Deterministic default for hardware GPUs: the workgroup-memory kernel with 16 pixels x 64 channels per
 * workgroup for every dense conv, and the split-K head. On an H200 (Dawn/Vulkan in Node, unquantized timestamp
 * queries, docs/perf-h200.md) it beat every other whole-network choice measured: ResNet-50 224 3.17 ms against
 * 4.32 (32 x 64 tiles), 5.96 (32 x 128), 7.63 (register 2 x 4) and 10.6 (the software default); MobileNetV2 224
 * 0.57 ms against 0.80, 1.05, 1.23 and 1.67; the autotuner picked the same tile for every layer. Split-K on
 * layers of few tiles (`smallMapSplitK`, tuner candidates) came later and awaits a GPU measurement.
 */
export const GPU_KERNEL_CHOICE: KernelChoice = {
  pointwise: { pixelsPerThread: 2, vec4sPerThread: 2, shared: true },
  conv2d: { pixelsPerThread: 2, vec4sPerThread: 2, shared: true },
  stem: { pixelsPerThread: 2, vec4sPerThread: 2, shared: true },
  depthwise: { pixelsPerThread: 4 },
  linear: 'splitK',
};

/**
 * The standard passes (`optimizeGraph`) as `compile` runs them for a kernel choice: pool + FC fusion only where
 * the choice's `fusePoolLinear` is not false.
 */
export function optimizeForKernels(graph: Graph, choice: KernelChoice): Graph {
  return optimizeGraph(graph, { fusePoolLinear: choice.fusePoolLinear !== false });
}

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

/** Whether a dense conv runs as a pointwise GEMM (1x1, no padding; any stride). */
function isPointwiseConv(a: Conv2dAttrs): boolean {
  return a.kernel[0] === 1 && a.kernel[1] === 1 && a.pads.every((p) => p === 0);
}

/**
 * The tile a dense (not depthwise) conv gets from a kernel choice without a per-node tile: `pointwise` for
 * 1x1 GEMMs, `stem` for convs on at most 4 input channels, else `conv2d`; plus `smallMapSplitK` where it fits.
 */
export function denseTileOf(choice: KernelChoice, a: Conv2dAttrs, inShape: Shape4, outShape: Shape4): Tile {
  const base = isPointwiseConv(a) ? choice.pointwise : inShape[1] <= 4 && choice.stem ? choice.stem : choice.conv2d;
  const rule = choice.smallMapSplitK;
  if (!rule || !base.shared || (base.splitK ?? 1) > 1) return base;
  const { tiles, K } = sharedConvGeometry(base, inShape, outShape, a);
  return splitKFits(tiles, K, rule.splits, rule.maxTiles) ? { ...base, splitK: rule.splits } : base;
}

/** Output tiles (workgroups without split-K) of a dense conv on a workgroup-memory tile, and its K in input vec4s. */
export function sharedConvGeometry(
  tile: Tile,
  inShape: Shape4,
  outShape: Shape4,
  a: Pick<Conv2dAttrs, 'kernel'>,
): { tiles: number; tilesN: number; K: number } {
  const [n, outC, outH, outW] = outShape;
  const block = convSharedBlock(tile);
  const tilesN = ceilDiv(c4(outC), block.vec4s);
  return { tiles: ceilDiv(n * outH * outW, block.pixels) * tilesN, tilesN, K: a.kernel[0] * a.kernel[1] * c4(inShape[1]) };
}

/** Smallest K slice worth its own workgroup under a split-K rule or the tuner, in input vec4s (4 staging steps). */
export const MIN_SPLIT_K_SLICE = 16;

/**
 * How `splits` K slices fall on a K of `K` input vec4s: every slice but the last has `kPerSlice` (a multiple
 * of the workgroup-memory kernel's staging step), none is empty, so there may be fewer than `splits`.
 */
export function splitKSlices(K: number, splits: number): { slices: number; kPerSlice: number } {
  if (!Number.isInteger(splits) || splits < 1) throw new RangeError(`split-K: ${splits} slices is not a positive integer`);
  const kPerSlice = ceilDiv(ceilDiv(K, splits), CONV_SHARED_STEP) * CONV_SHARED_STEP;
  return { slices: Math.max(1, ceilDiv(K, kPerSlice)), kPerSlice };
}

/**
 * Whether splitting K `splits` ways can pay: the unsplit tile leaves at most `maxTiles` workgroups (too few to
 * fill a large GPU) and every slice keeps at least `MIN_SPLIT_K_SLICE` input vec4s of K.
 */
export function splitKFits(tiles: number, K: number, splits: number, maxTiles: number): boolean {
  return splits > 1 && tiles <= maxTiles && K >= splits * MIN_SPLIT_K_SLICE;
}

/** Largest register tile the register-blocked kernels accept: pixels and output vec4s per invocation. */
export const MAX_REGISTER_TILE = { pixels: 16, vec4s: 8 } as const;
/** Most K slices a split-K tile may ask for (the tuner tries up to 16). */
export const MAX_SPLIT_K = 64;

const count = (v: unknown, lo: number, hi: number): boolean => Number.isInteger(v) && (v as number) >= lo && (v as number) <= hi;

/** Why no kernel implements tile `t` (register or workgroup-memory, with its split-K), or null when one does. */
export function tileProblem(t: Tile): string | null {
  const tile = `${String(t.pixelsPerThread)} pixels x ${String(t.vec4sPerThread)} vec4s`;
  if (t.shared) {
    if (!count(t.pixelsPerThread, 2, 8) || t.pixelsPerThread % 2 !== 0 || !count(t.vec4sPerThread, 1, 4)) {
      return `workgroup-memory tile ${tile} is not implemented (pixels 2, 4, 6 or 8; vec4s 1 to 4)`;
    }
    if (t.splitK !== undefined && !count(t.splitK, 1, MAX_SPLIT_K)) return `splitK ${String(t.splitK)} is not an integer from 1 to ${MAX_SPLIT_K}`;
  } else {
    if (!count(t.pixelsPerThread, 1, MAX_REGISTER_TILE.pixels) || !count(t.vec4sPerThread, 1, MAX_REGISTER_TILE.vec4s)) {
      return `register tile ${tile} is not implemented (pixels 1 to ${MAX_REGISTER_TILE.pixels}; vec4s 1 to ${MAX_REGISTER_TILE.vec4s})`;
    }
    if ((t.splitK ?? 1) !== 1) return 'split-K needs a workgroup-memory tile (shared: true)';
  }
  return null;
}

/**
 * Refuses, with an `UnsupportedFeatureError` naming the field, a kernel choice (`compile`'s `kernels`, or a
 * per-node tile) that no kernel implements, before it becomes degenerate WGSL or a launch of zero workgroups.
 */
export function checkKernelChoice(choice: KernelChoice): void {
  const refuse = (where: string, what: string): never => {
    throw new UnsupportedFeatureError(`kernels.${where}: ${what}`);
  };
  const checkTile = (where: string, t: Tile | undefined): void => {
    const problem = t === undefined ? null : tileProblem(t);
    if (problem !== null) refuse(where, problem);
  };
  checkTile('pointwise', choice.pointwise);
  checkTile('conv2d', choice.conv2d);
  checkTile('stem', choice.stem);
  if (!count(choice.depthwise?.pixelsPerThread, 1, MAX_REGISTER_TILE.pixels)) {
    refuse('depthwise', `${String(choice.depthwise?.pixelsPerThread)} pixels per invocation is not an integer from 1 to ${MAX_REGISTER_TILE.pixels}`);
  }
  if (choice.linear !== undefined && choice.linear !== 'splitK' && choice.linear !== 'register') {
    refuse('linear', `'${String(choice.linear)}' is not 'splitK' or 'register'`);
  }
  if (choice.pooledLinearVec4s !== undefined && !count(choice.pooledLinearVec4s, 1, MAX_REGISTER_TILE.vec4s)) {
    refuse('pooledLinearVec4s', `${String(choice.pooledLinearVec4s)} is not an integer from 1 to ${MAX_REGISTER_TILE.vec4s}`);
  }
  const rule = choice.smallMapSplitK;
  if (rule !== undefined && (!count(rule.splits, 1, MAX_SPLIT_K) || !count(rule.maxTiles, 1, Number.MAX_SAFE_INTEGER))) {
    refuse('smallMapSplitK', `splits ${String(rule.splits)} / maxTiles ${String(rule.maxTiles)} must be integers (splits 1 to ${MAX_SPLIT_K}, maxTiles >= 1)`);
  }
  // A per-node tile also sets the depthwise kernel's pixels per invocation for a depthwise node.
  for (const [id, t] of choice.perNode ?? []) {
    checkTile(`perNode(${id})`, t);
    if (!count(t.pixelsPerThread, 1, MAX_REGISTER_TILE.pixels)) refuse(`perNode(${id})`, `${String(t.pixelsPerThread)} pixels per invocation`);
  }
}

/**
 * Lowers every node. `precision` is how all tensors of the model and the conv / linear weights are stored (see
 * `StoragePrecision`): one precision per model, so every kernel agrees on every tensor's format; the NCHW f32
 * inputs and outputs at the edges do not change.
 */
export function lowerGraph(graph: Graph, choice: KernelChoice = DEFAULT_KERNEL_CHOICE, precision: StoragePrecision = 'f32'): Step[] {
  checkKernelChoice(choice);
  const steps: Step[] = graph.inputs.map((id, index) => layoutStep('pack', graph.tensors[id].shape, index, id, precision));
  for (const node of graph.nodes) {
    if (isAliasNode(graph, node)) continue;
    for (const step of [lowerNode(graph, node, choice, precision)].flat()) steps.push({ ...step, node: node.output });
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

/** One launch, or several for a node split over launches (a split-K convolution). */
function lowerNode(graph: Graph, node: GraphNode, choice: KernelChoice, precision: StoragePrecision): Step | Step[] {
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
      throw new GraphError(`node ${node.name}: batch norm must be folded before lowering (run optimizeGraph, or compile without optimize: false)`);
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

function lowerConv(node: Conv2dNode, inShape: Shape4, outShape: Shape4, globalChoice: KernelChoice, precision: StoragePrecision): Step | Step[] {
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
      buffers: convBuffers(node, depthwisePacking(a.weight, outC, kh, kw, a.weightScale ?? null), bias, precision),
      macs,
    };
  }

  const weight = groupedConvPacking(a.weight, outC, inC, a.groups, kh, kw, a.weightScale ?? null);
  const isPointwise = isPointwiseConv(a);
  const denseTile = tile ?? denseTileOf(globalChoice, a, inShape, outShape);
  if (denseTile.shared) {
    const kind = isPointwise ? 'pointwise' : 'conv2d';
    const { tiles, tilesN, K } = sharedConvGeometry(denseTile, inShape, outShape, a);
    const pixels = n * outH * outW;
    const geometry = {
      pixels, K, tilesN, tiles, inH, inW, inC4: c4(inC), outH, outW, outC4: c4(outC),
      strideY: a.stride[0], strideX: a.stride[1], dilationY: a.dilation[0], dilationX: a.dilation[1],
      padTop: a.pads[0], padLeft: a.pads[1],
    };
    const variant = { kernelH: kh, kernelW: kw, pixelsPerThread: denseTile.pixelsPerThread, vec4sPerThread: denseTile.vec4sPerThread };
    const { slices, kPerSlice } = splitKSlices(K, denseTile.splitK ?? 1);
    if (slices > 1) {
      // Launch 1: one workgroup per (output tile, K slice) writes f32 partial sums; launch 2 adds them and
      // applies bias, residual and clamp. Both run under the node's name and kind; the MACs go to the first.
      const total = pixels * c4(outC);
      const partial: BufferRef = { kind: 'scratch', byteLength: slices * total * 16 };
      return [
        {
          label: node.name,
          kind,
          program: convSharedProgram({ ...variant, residual: false, activation: false, splitK: true }, precision),
          uniforms: { ...geometry, slices, kPerSlice },
          workgroups: tiles * slices,
          buffers: { src: tensor(node.inputs[0]), weight: packedConstant(weight, precision), partial },
          macs,
        },
        {
          label: node.name,
          kind,
          program: splitKReduceProgram({ residual, activation }, precision),
          uniforms: { total, outC4: c4(outC), slices, ...act },
          workgroups: ceilDiv(total, 64),
          buffers: {
            partial,
            bias: constant(bias),
            ...(residual ? { residual: tensor(node.inputs[1]) } : {}),
            dst: tensor(node.output),
          },
          macs: 0,
        },
      ];
    }
    return {
      label: node.name,
      kind,
      program: convSharedProgram({ ...variant, residual, activation }, precision),
      uniforms: { ...geometry, ...act },
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

/**
 * A fully connected layer is a pointwise conv over a 1x1 map with the batch as pixels. With a fused global average
 * pool (`poolInput`) over more than one position it reads the `[n, in, h, w]` map through its means: the pooled
 * split-K kernel where `splitK` is chosen for few rows, else the pooled register GEMV (`linearPooledProgram`).
 */
function lowerLinear(node: LinearNode, inShape: Shape4, choice: KernelChoice, precision: StoragePrecision): Step {
  const [n, inC, h, w] = inShape;
  const spatial = h * w;
  // A "pool" over one position is the identity: the map is stored as the flat tensor would be.
  const pooled = node.attrs.poolInput === true && spatial > 1;
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
      program: linearSplitKProgram({ activation, pooled }, precision),
      uniforms: { items, inC4: c4(inC), outC4: c4(outC), ...(pooled ? { spatial } : {}), ...act },
      workgroups: items,
      buffers: convBuffers(node, linearRowsPacking(node.attrs.weight, outC, inC), bias, precision),
      macs: n * inC * outC,
    };
  }
  if (pooled) {
    const P = fewRows ? 1 : choice.pointwise.pixelsPerThread;
    const V = Math.min(choice.pooledLinearVec4s ?? (fewRows ? 1 : choice.pointwise.vec4sPerThread), c4(outC));
    const coGroups = ceilDiv(c4(outC), 64 * V);
    const items = ceilDiv(n, P) * coGroups;
    return {
      label: node.name,
      kind: 'linear',
      program: linearPooledProgram({ activation, rowsPerThread: P, vec4sPerThread: V }, precision),
      uniforms: { rows: n, items, coGroups, inC4: c4(inC), outC4: c4(outC), spatial, ...act },
      workgroups: items,
      buffers: convBuffers(node, denseConvPacking(node.attrs.weight, outC, inC, 1, 1), bias, precision),
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
