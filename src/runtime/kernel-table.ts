import type { StoragePrecision } from '../../shaders/common.ts';
import { concatFamily, sliceChannelsFamily } from '../../shaders/channel-copy/index.ts';
import { shuffleChannelsFamily } from '../../shaders/channel-shuffle/index.ts';
import { conv2dFamily } from '../../shaders/conv2d/index.ts';
import { convSharedFamily } from '../../shaders/conv-shared/index.ts';
import { sharedConvGeometry, splitKFits } from '../../shaders/conv-shared/geometry.ts';
import { MAX_SPLIT_K } from '../../shaders/conv-shared/limits.ts';
import { isDepthwiseConv, isPointwiseConv } from '../../shaders/conv-common.ts';
import { depthwiseFamily } from '../../shaders/depthwise/index.ts';
import { broadcastAddFamily, elementwiseFamily } from '../../shaders/elementwise/index.ts';
import { binaryFamily } from '../../shaders/binary/index.ts';
import type { AdapterTraits, FixedKernelFamily, KernelFamily, Launch, NodeView } from '../../shaders/family.ts';
import { flattenFamily, reshapeFamily } from '../../shaders/layout/index.ts';
import type { LinearTile } from '../../shaders/linear/index.ts';
import { isPooledLinear, linearFamily } from '../../shaders/linear/index.ts';
import { padFamily } from '../../shaders/pad/index.ts';
import { pointwiseFamily } from '../../shaders/pointwise/index.ts';
import { globalAvgPoolFamily, poolFamily } from '../../shaders/pool/index.ts';
import { MAX_REGISTER_TILE } from '../../shaders/register-tile.ts';
import { softmaxAxesFamily, softmaxFamily } from '../../shaders/softmax/index.ts';
import { countIn } from '../../shaders/tiles.ts';
import { argMaxFamily } from '../../shaders/argmax/index.ts';
import { convTransposeFamily } from '../../shaders/conv-transpose/index.ts';
import { resizeFamily } from '../../shaders/resize/index.ts';
import { layerNormFamily } from '../../shaders/layer-norm/index.ts';
import { groupedConvFamily, isGroupedConv } from '../../shaders/conv-grouped/index.ts';
import { matMulFamily } from '../../shaders/matmul/index.ts';
import { reduceChannelsFamily } from '../../shaders/reduce-channels/index.ts';
import { isStemConv, stemConvFamily } from '../../shaders/conv-stem/index.ts';
import { pointwiseShapeTile, shapeRuleApplies } from '../../shaders/pointwise/shape-tile.ts';
import { conv2dShapeTile } from '../../shaders/conv2d/shape-tile.ts';
import { GraphError, UnsupportedFeatureError } from '../errors.ts';
import type { Conv2dNode, Graph, GraphNode, LinearNode } from '../graph/ir.ts';
import type { ConvTile, KernelChoice } from './kernel-choice.ts';

/**
 * Kernel selection as tables: which family runs a convolution is the family its tile names (`CONV_FAMILIES`);
 * every other op runs on the first family of `FIXED_FAMILIES` that supports it. The tuner times the variants of
 * the families a convolution's layer kind may use (`LAYER_FAMILIES`).
 */

/** A node of `graph` with its shapes, as families see it. */
export function nodeView<N extends GraphNode>(graph: Graph, node: N): NodeView<N> {
  const inShapes = node.inputs.map((id) => graph.tensors[id].shape);
  return { node, inShape: inShapes[0], inShapes, outShape: graph.tensors[node.output].shape };
}

type ConvFamilyOf<T extends ConvTile> = KernelFamily<Conv2dNode, T>;

/** The conv families by the `family` tag of their tiles. */
export const CONV_FAMILIES: { readonly [F in ConvTile['family']]: ConvFamilyOf<Extract<ConvTile, { family: F }>> } = {
  pointwise: pointwiseFamily,
  conv2d: conv2dFamily,
  'conv-shared': convSharedFamily,
  depthwise: depthwiseFamily,
  grouped: groupedConvFamily,
  stem: stemConvFamily,
};

/** The family that runs `tile` (the table lookup, typed for any tile). */
export function convFamilyOf(tile: ConvTile): ConvFamilyOf<ConvTile> {
  return CONV_FAMILIES[tile.family] as ConvFamilyOf<ConvTile>;
}

/** What the tuner tunes and caches per layer: a conv's kind (the key of `TILE_CANDIDATES` and of cache entries). */
export type ConvLayerKind = 'pointwise' | 'conv2d' | 'depthwise';

export function convLayerKind(view: NodeView<Conv2dNode>): ConvLayerKind {
  if (isDepthwiseConv(view)) return 'depthwise';
  return isPointwiseConv(view.node.attrs) ? 'pointwise' : 'conv2d';
}

/**
 * The families whose variants the tuner times on a layer kind, in this order (the register kernels first). The
 * grouped family proposes variants for grouped convs only, the stem family for RGB stems (`isStemConv`) only.
 */
export const LAYER_FAMILIES: { readonly [K in ConvLayerKind]: readonly ConvFamilyOf<ConvTile>[] } = {
  pointwise: [pointwiseFamily, convSharedFamily, groupedConvFamily] as readonly ConvFamilyOf<ConvTile>[],
  conv2d: [conv2dFamily, convSharedFamily, groupedConvFamily, stemConvFamily] as readonly ConvFamilyOf<ConvTile>[],
  depthwise: [depthwiseFamily] as readonly ConvFamilyOf<ConvTile>[],
};

/** Every tile the families propose for a layer on an adapter, the untuned register default first. */
export function layerVariants(view: NodeView<Conv2dNode>, adapter: AdapterTraits): ConvTile[] {
  return LAYER_FAMILIES[convLayerKind(view)].flatMap((f) => [...f.variants(view, adapter)]);
}

/** Ops without tuning knobs, each on the first family here that supports the node. */
export const FIXED_FAMILIES: readonly FixedKernelFamily<GraphNode>[] = [
  elementwiseFamily,
  broadcastAddFamily,
  poolFamily,
  globalAvgPoolFamily,
  flattenFamily,
  reshapeFamily,
  padFamily,
  softmaxFamily,
  softmaxAxesFamily,
  resizeFamily,
  argMaxFamily,
  convTransposeFamily,
  binaryFamily,
  concatFamily,
  sliceChannelsFamily,
  shuffleChannelsFamily,
  layerNormFamily,
  matMulFamily,
  reduceChannelsFamily,
] as readonly FixedKernelFamily<GraphNode>[];

/**
 * The tile a conv gets from a kernel choice without a per-node tile: `depthwise` for depthwise convs, `grouped`
 * (where the choice has it) for other grouped ones; for dense ones `pointwise` for 1x1 GEMMs, `stem` for convs on
 * at most 4 input channels (a `stem` family tile only where that family runs the conv), else `conv2d`; plus
 * `smallMapSplitK` where it fits; 1x1 convs by `pointwiseShapeTile` where `pointwiseByShape` asks for it.
 */
export function choiceTileOf(choice: KernelChoice, view: NodeView<Conv2dNode>): ConvTile {
  if (isDepthwiseConv(view)) return choice.depthwise;
  if (choice.grouped && isGroupedConv(view)) return choice.grouped;
  const a = view.node.attrs;
  const stem = choice.stem && view.inShape[1] <= 4 && (choice.stem.family !== 'stem' || isStemConv(view)) ? choice.stem : undefined;
  if (isPointwiseConv(a) && choice.pointwiseByShape && choice.pointwise.family === 'pointwise') {
    const pixels = view.outShape[0] * view.outShape[2] * view.outShape[3];
    const shape = { pixels, outC4: Math.ceil(view.outShape[1] / 4), macs: pixels * view.outShape[1] * view.inShape[1] };
    if (shapeRuleApplies(shape, choice.pointwiseByShape)) return pointwiseShapeTile(shape, choice.pointwiseByShape);
  }
  const base = isPointwiseConv(a) ? choice.pointwise : stem ?? conv2dChoiceTile(choice, view);
  const rule = choice.smallMapSplitK;
  if (!rule || base.family !== 'conv-shared' || (base.splitK ?? 1) > 1) return base;
  const { tiles, K } = sharedConvGeometry(base, view.inShape, view.outShape, a);
  return splitKFits(tiles, K, rule.splits, rule.maxTiles) ? { ...base, splitK: rule.splits } : base;
}

/** A dense KxK conv's tile: `conv2dByShape`'s for its shape where the choice has the rule, else `conv2d`. */
function conv2dChoiceTile(choice: KernelChoice, view: NodeView<Conv2dNode>): ConvTile {
  const rule = choice.conv2dByShape;
  if (!rule || choice.conv2d.family !== 'conv2d') return choice.conv2d;
  const [n, outC, outH, outW] = view.outShape;
  const { dilation } = view.node.attrs;
  return conv2dShapeTile({ n, outH, outW, outC4: Math.ceil(outC / 4), dilated: dilation[0] > 1 || dilation[1] > 1 }, rule);
}

/** The tile a conv runs with: its per-node tile (a depthwise one keeps the choice's `rows`), else `choiceTileOf`. */
export function convTileOf(choice: KernelChoice, view: NodeView<Conv2dNode>): ConvTile {
  const own = choice.perNode?.get(view.node.output);
  if (!own) return choiceTileOf(choice, view);
  return own.family === 'depthwise' && own.rows === undefined && choice.depthwise.rows !== undefined ? { ...own, rows: choice.depthwise.rows } : own;
}

/**
 * A fully connected layer's kernel: the split-K one where `linear: 'splitK'` and it has fewer rows than a
 * pointwise tile has pixels, else the pooled register GEMV over a fused pool, else the pointwise kernel with the
 * batch as pixels (one row and one vec4 per invocation for few rows, spreading the output channels instead).
 */
export function linearTileOf(choice: KernelChoice, view: NodeView<LinearNode>): LinearTile {
  const rows = view.inShape[0];
  const fewRows = rows < choice.pointwise.pixelsPerThread;
  if (fewRows && choice.linear === 'splitK') return { family: 'linear', kernel: 'splitK' };
  const P = fewRows ? 1 : choice.pointwise.pixelsPerThread;
  if (isPooledLinear(view)) {
    return { family: 'linear', kernel: 'pooled', rowsPerThread: P, vec4sPerThread: choice.pooledLinearVec4s ?? (fewRows ? 1 : choice.pointwise.vec4sPerThread) };
  }
  return { family: 'linear', kernel: 'register', pixelsPerThread: P, vec4sPerThread: fewRows ? 1 : choice.pointwise.vec4sPerThread };
}

/** A node's launches under a kernel choice. */
export function launchesOf(view: NodeView, choice: KernelChoice, precision: StoragePrecision): readonly Launch[] {
  const { node } = view;
  if (node.op === 'conv2d') {
    const conv = view as NodeView<Conv2dNode>;
    const tile = convTileOf(choice, conv);
    const family = convFamilyOf(tile);
    if (!family.supports(conv)) {
      throw new UnsupportedFeatureError(`kernels.perNode(${node.output}): a ${tile.family} tile cannot run ${node.name} (a ${convLayerKind(conv)} conv)`);
    }
    return family.launch(conv, tile, precision);
  }
  if (node.op === 'linear') {
    const linear = view as NodeView<LinearNode>;
    return linearFamily.launch(linear, linearTileOf(choice, linear), precision);
  }
  if (node.op === 'batchNorm') {
    throw new GraphError(`node ${node.name}: batch norm must be folded before lowering (run optimizeGraph, or compile without optimize: false)`);
  }
  const family = FIXED_FAMILIES.find((f) => f.supports(view));
  if (!family) throw new UnsupportedFeatureError(`node ${node.name}: no kernel family runs op '${node.op}'`);
  return family.launch(view, undefined, precision);
}

/**
 * Refuses, with an `UnsupportedFeatureError` naming the field, a kernel choice (`compile`'s `kernels`, or a
 * per-node tile) that no kernel implements, before it becomes degenerate WGSL or a launch of zero workgroups.
 */
export function checkKernelChoice(choice: KernelChoice): void {
  const refuse = (where: string, what: string): never => {
    throw new UnsupportedFeatureError(`kernels.${where}: ${what}`);
  };
  const checkTile = (where: string, t: ConvTile | undefined, allowed: readonly ConvTile['family'][]): void => {
    if (t === undefined) return;
    if (!allowed.includes(t.family)) refuse(where, `family '${String(t.family)}' is not one of ${allowed.map((f) => `'${f}'`).join(', ')}`);
    const problem = convFamilyOf(t).check(t);
    if (problem !== null) refuse(where, problem);
  };
  checkTile('pointwise', choice.pointwise, ['pointwise', 'conv-shared']);
  checkTile('conv2d', choice.conv2d, ['conv2d', 'conv-shared']);
  checkTile('stem', choice.stem, ['conv2d', 'conv-shared', 'stem']);
  checkTile('depthwise', choice.depthwise, ['depthwise']);
  checkTile('grouped', choice.grouped, ['grouped']);
  if (choice.linear !== undefined && choice.linear !== 'splitK' && choice.linear !== 'register') {
    refuse('linear', `'${String(choice.linear)}' is not 'splitK' or 'register'`);
  }
  if (choice.pooledLinearVec4s !== undefined && !countIn(choice.pooledLinearVec4s, 1, MAX_REGISTER_TILE.vec4s)) {
    refuse('pooledLinearVec4s', `${String(choice.pooledLinearVec4s)} is not an integer from 1 to ${MAX_REGISTER_TILE.vec4s}`);
  }
  const rule = choice.smallMapSplitK;
  if (rule !== undefined && (!countIn(rule.splits, 1, MAX_SPLIT_K) || !countIn(rule.maxTiles, 1, Number.MAX_SAFE_INTEGER))) {
    refuse('smallMapSplitK', `splits ${String(rule.splits)} / maxTiles ${String(rule.maxTiles)} must be integers (splits 1 to ${MAX_SPLIT_K}, maxTiles >= 1)`);
  }
  for (const [id, t] of choice.perNode ?? []) checkTile(`perNode(${id})`, t, Object.keys(CONV_FAMILIES) as ConvTile['family'][]);
  const fusedOrNot = (where: string, v: unknown): void => {
    if (v !== undefined && v !== 'fused' && v !== 'separate') refuse(where, `'${String(v)}' is not 'fused' or 'separate'`);
  };
  fusedOrNot('invertedResidual', choice.invertedResidual);
  for (const [id, v] of choice.invertedResidualBlocks ?? []) fusedOrNot(`invertedResidualBlocks(${id})`, v);
  const shapeRule = choice.pointwiseByShape;
  if (shapeRule !== undefined && (!shapeRule.pixels?.length || !shapeRule.vec4s?.length
    || !shapeRule.pixels.every((p) => countIn(p, 1, MAX_REGISTER_TILE.pixels)) || !shapeRule.vec4s.every((v) => countIn(v, 1, MAX_REGISTER_TILE.vec4s)))) {
    refuse('pointwiseByShape', `pixels ${String(shapeRule.pixels)} / vec4s ${String(shapeRule.vec4s)} must be non-empty lists of integers (pixels 1 to ${MAX_REGISTER_TILE.pixels}, vec4s 1 to ${MAX_REGISTER_TILE.vec4s})`);
  }
  if (shapeRule?.minMacs !== undefined && !countIn(shapeRule.minMacs, 0, Number.MAX_SAFE_INTEGER)) {
    refuse('pointwiseByShape', `minMacs ${String(shapeRule.minMacs)} must be an integer >= 0`);
  }
  const conv2dRule = choice.conv2dByShape;
  if (conv2dRule !== undefined) {
    if (!conv2dRule.tiles?.length) refuse('conv2dByShape', 'tiles must be a non-empty list');
    conv2dRule.tiles.forEach((t, i) => checkTile(`conv2dByShape.tiles[${i}]`, t, ['conv2d']));
    if (!countIn(conv2dRule.minWorkgroups, 0, Number.MAX_SAFE_INTEGER)) refuse('conv2dByShape', `minWorkgroups ${String(conv2dRule.minWorkgroups)} must be an integer >= 0`);
  }
}
