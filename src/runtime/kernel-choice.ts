import type { Conv2dTile } from '../../shaders/conv2d/index.ts';
import type { ConvSharedTile } from '../../shaders/conv-shared/index.ts';
import type { DepthwiseTile } from '../../shaders/depthwise/index.ts';
import type { GroupedConvTile } from '../../shaders/conv-grouped/index.ts';
import type { PointwiseTile } from '../../shaders/pointwise/index.ts';
import type { PointwiseShapeRule } from '../../shaders/pointwise/shape-tile.ts';
import type { Conv2dShapeRule } from '../../shaders/conv2d/shape-tile.ts';
import type { StemConvTile } from '../../shaders/conv-stem/index.ts';
import { isSoftwareAdapter } from '../gpu/device.ts';
import type { Graph, TensorId } from '../graph/ir.ts';
import { optimizeGraph } from '../graph/passes/index.ts';

/**
 * A convolution's tile: the variant of the kernel family that runs it, tagged by `family` (pointwise and conv2d
 * register tiles, conv-shared workgroup-memory tiles with optional split-K, depthwise row tiles).
 */
export type ConvTile = PointwiseTile | Conv2dTile | ConvSharedTile | DepthwiseTile | GroupedConvTile
  | StemConvTile;
/** The tiles a tuning cache and `perNode` hold (the name the public API has always used). */
export type Tile = ConvTile;

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
  /** 1x1 convs: the pointwise register kernel, or the workgroup-memory one. */
  readonly pointwise: PointwiseTile | ConvSharedTile;
  /** Other dense convs. */
  readonly conv2d: Conv2dTile | ConvSharedTile;
  /**
   * Dense convs on at most 4 input channels (RGB stems). A `stem` family tile applies where that family runs the
   * conv (`isStemConv`: dilation 1, groups 1), others take `conv2d`'s tile.
   */
  readonly stem?: Conv2dTile | ConvSharedTile | StemConvTile;
  readonly depthwise: DepthwiseTile;
  /**
   * Fully connected layers with fewer rows than a pointwise tile has pixels: `splitK` spreads each output vec4's
   * dot product over a workgroup (shaders/linear/), `register` (default) gives it to one invocation.
   */
  readonly linear?: 'splitK' | 'register';
  /**
   * Output vec4s per invocation of the fused global average pool + FC register kernel (layers with `poolInput`
   * wherever the split-K head is not chosen); default 1 below the pointwise tile's pixels, the pointwise tile's
   * vec4s from there. A workgroup pools its rows' map once per 64 x this many output vec4s.
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
  readonly perNode?: ReadonlyMap<TensorId, ConvTile>;
  /**
   * Let producers write straight into their channel range of a concat's buffer where the layout allows
   * (`concat-views.ts`); default true. False: every concat copies its inputs.
   */
  readonly concatInPlace?: boolean;
  /**
   * Grouped convs (1 < groups, not depthwise): the grouped family's tile, which does each group's multiply-adds
   * only; absent: they run on the dense families (block-diagonal weights, zeros included).
   */
  readonly grouped?: GroupedConvTile;
  /**
   * Fold squeeze-and-excitation gates and batch norms after no convolution into the 1x1 convolution reading them
   * (the graph pass `fuseInputTransforms`, run by `compile`'s optimization); default true.
   */
  readonly fuseInputTransforms?: boolean;
  /**
   * Inverted-residual blocks (expand 1x1 -> depthwise -> project 1x1, src/runtime/inverted-residual.ts): 'fused'
   * runs each on one launch of shaders/inverted-residual/ that keeps the expanded map out of global memory;
   * absent or 'separate': three launches. `invertedResidualBlocks` overrides it per block (by the project
   * conv's output tensor id), e.g. from the autotuner.
   */
  readonly invertedResidual?: 'fused' | 'separate';
  readonly invertedResidualBlocks?: ReadonlyMap<TensorId, 'fused' | 'separate'>;
  /**
   * Where `pointwise` is a pointwise family tile: give each 1x1 conv the tile and workgroup size its shape calls
   * for among the rule's tiles (`pointwiseShapeTile`, shaders/pointwise/shape-tile.ts) instead; absent: none.
   * Per-node tiles ignore it.
   */
  readonly pointwiseByShape?: PointwiseShapeRule;
  /**
   * Where `conv2d` is a conv2d family tile: give each dense KxK conv that takes it the tile its shape calls for
   * among the rule's (`conv2dShapeTile`, shaders/conv2d/shape-tile.ts) instead; absent: none. Per-node tiles
   * ignore it.
   */
  readonly conv2dByShape?: Conv2dShapeRule;
}

/**
 * The software default (SwiftShader): 8 pixels x 8 output channels per invocation on every dense conv but RGB
 * stems (KxK ones whose rows are not a multiple of 8 wide, or dilated, with the pixels taken along the flattened
 * map: `wrapRows`), and on grouped convs through the grouped family; RGB stems on the stem family, 3x3 ones walking
 * 28 columns with 4 channels' weights in registers, larger windows 4 columns x 8 channels;
 * depthwise on the rolling kernel, 2 columns walking 16 output rows per invocation; fused pool + FC head 4 vec4s
 * wide, but no pool + FC fusion. Why each setting, with the measurements:
 * docs/decisions/kernel-defaults.md.
 */
export const DEFAULT_KERNEL_CHOICE: KernelChoice = {
  pointwise: { family: 'pointwise', pixelsPerThread: 8, vec4sPerThread: 2 },
  conv2d: { family: 'conv2d', pixelsPerThread: 8, vec4sPerThread: 2, wrapRows: true },
  stem: { family: 'stem', pixelsPerThread: 4, vec4sPerThread: 2, walkColumns: 28 },
  depthwise: { family: 'depthwise', pixelsPerThread: 2, rollingRows: 16 },
  pooledLinearVec4s: 4,
  fusePoolLinear: false,
  grouped: { family: 'grouped', pixelsPerThread: 8, vec4sPerThread: 2 },
};

/**
 * The default for hardware GPUs: the workgroup-memory kernel with 16 pixels x 64 channels per workgroup for
 * every dense conv, and the split-K head (docs/decisions/kernel-defaults.md). Grouped convs stay on the dense
 * kernels until a GPU measurement says otherwise; the autotuner tries the grouped family on them.
 */
export const GPU_KERNEL_CHOICE: KernelChoice = {
  pointwise: { family: 'conv-shared', pixelsPerThread: 2, vec4sPerThread: 2 },
  conv2d: { family: 'conv-shared', pixelsPerThread: 2, vec4sPerThread: 2 },
  stem: { family: 'conv-shared', pixelsPerThread: 2, vec4sPerThread: 2 },
  depthwise: { family: 'depthwise', pixelsPerThread: 4 },
  linear: 'splitK',
};

/**
 * What the software default upgrades to once a model runs in a loop (tiered compilation, `CompileOptions.upgrade`):
 * 1x1 convs on the pointwise shape rule's wider tiles (up to 16 pixels x 8 vec4s), depthwise convs on the rolling
 * kernel fitted per layer (at most 8 columns), dense KxK convs on 16 pixels x 4 vec4s (wrapped where that saves
 * work) unless that launch has under 2 workgroups (the conv2d shape rule), grouped convs on 8 pixels x 4 vec4s (the
 * row form wherever a group's channels are whole vec4s), and 7x7 RGB stems on 8 x 2 (3x3 ones keep walking). All
 * compute every output with the same multiply-adds in the same order as the default, so the upgrade does not
 * change a single bit of the outputs; they are not the default because SwiftShader compiles them several times
 * slower (docs/decisions/kernel-defaults.md).
 */
export const SOFTWARE_UPGRADE_KERNELS: KernelChoice = {
  ...DEFAULT_KERNEL_CHOICE,
  pointwiseByShape: { pixels: [16, 8], vec4s: [8, 4, 2] },
  depthwise: { family: 'depthwise', pixelsPerThread: 8, rollingRows: 16, fit: true },
  conv2dByShape: {
    tiles: [{ family: 'conv2d', pixelsPerThread: 16, vec4sPerThread: 4, wrapRows: true }, { family: 'conv2d', pixelsPerThread: 8, vec4sPerThread: 2, wrapRows: true }],
    minWorkgroups: 2,
  },
  grouped: { family: 'grouped', pixelsPerThread: 8, vec4sPerThread: 4, rows: true },
  stem: { family: 'stem', pixelsPerThread: 8, vec4sPerThread: 2, walkColumns: 28 },
};

/** Runs on the first kernel choice before the default upgrade starts compiling (`UpgradePlan.afterRuns`). */
export const DEFAULT_UPGRADE_AFTER_RUNS = 3;

/** The tiered compile an adapter gets by default: software adapters upgrade to `SOFTWARE_UPGRADE_KERNELS`, GPUs do not. */
export function defaultUpgrade(info: Partial<GPUAdapterInfo> | undefined): { kernels: KernelChoice; afterRuns: number } | null {
  return !info || isSoftwareAdapter(info) ? { kernels: SOFTWARE_UPGRADE_KERNELS, afterRuns: DEFAULT_UPGRADE_AFTER_RUNS } : null;
}

/**
 * The standard passes (`optimizeGraph`) as `compile` runs them for a kernel choice: pool + FC fusion only where
 * the choice's `fusePoolLinear` is not false, input-transform fusion where its `fuseInputTransforms` is not false.
 */
export function optimizeForKernels(graph: Graph, choice: KernelChoice): Graph {
  return optimizeGraph(graph, { fusePoolLinear: choice.fusePoolLinear !== false, fuseInputTransforms: choice.fuseInputTransforms !== false });
}

/** The untuned kernel choice for an adapter: SwiftShader's measured defaults on software adapters, else the GPU one. */
export function defaultKernelChoice(info: Partial<GPUAdapterInfo> | undefined): KernelChoice {
  return !info || isSoftwareAdapter(info) ? DEFAULT_KERNEL_CHOICE : GPU_KERNEL_CHOICE;
}
