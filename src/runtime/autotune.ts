import type { ConvSharedTile } from '../../shaders/conv-shared/index.ts';
import { CONV_SHARED_SPLIT_K_TILES, CONV_SHARED_TILES, convSharedFits } from '../../shaders/conv-shared/index.ts';
import { CONV2D_TILES } from '../../shaders/conv2d/index.ts';
import { DEPTHWISE_TILES } from '../../shaders/depthwise/index.ts';
import { GROUPED_CONV_TILES, isGroupedConv } from '../../shaders/conv-grouped/index.ts';
import type { NodeView } from '../../shaders/family.ts';
import { POINTWISE_TILES } from '../../shaders/pointwise/index.ts';
import { STEM_CONV_TILES, isStemConv } from '../../shaders/conv-stem/index.ts';
import { UnsupportedFeatureError } from '../errors.ts';
import { deviceAdapterInfo, isSoftwareAdapter } from '../gpu/device.ts';
import { GpuProfiler } from '../gpu/profiler.ts';
import type { Conv2dNode, Graph, TensorId } from '../graph/ir.ts';
import { convResidual, shapeToString } from '../graph/ir.ts';
import type { KernelChoice, Tile } from './kernel-choice.ts';
import { defaultKernelChoice } from './kernel-choice.ts';
import type { ConvLayerKind } from './kernel-table.ts';
import { choiceTileOf, convLayerKind, layerVariants, nodeView } from './kernel-table.ts';
import type { Step } from './step.ts';
import type { TuningCache } from './tuning-cache.ts';
import { tuneBlocks } from './autotune-blocks.ts';

/**
 * Measured kernel selection: every convolution is timed with each variant its kernel families propose (one
 * timestamp pair per launch) and keeps the fastest. Results are cached per adapter and layer signature
 * (tuning-cache.ts).
 */

/**
 * Every tile the families propose per layer kind, in the order the tuner tries them (the first is the untuned
 * software default); a layer tries those `candidateFits` accepts.
 */
export const TILE_CANDIDATES: Readonly<Record<ConvLayerKind, readonly Tile[]>> = {
  pointwise: [...POINTWISE_TILES, ...CONV_SHARED_TILES, ...CONV_SHARED_SPLIT_K_TILES, ...GROUPED_CONV_TILES],
  conv2d: [...CONV2D_TILES, ...CONV_SHARED_TILES, ...CONV_SHARED_SPLIT_K_TILES, ...GROUPED_CONV_TILES, ...STEM_CONV_TILES],
  depthwise: DEPTHWISE_TILES,
};

/**
 * What the tuner tries on software adapters: the register tiles only. Workgroup-memory tiles (split-K ones
 * included) are much slower there, barriers being thread synchronisation on a CPU (docs/decisions/kernel-defaults.md).
 */
export const SOFTWARE_TILE_CANDIDATES: Readonly<Record<ConvLayerKind, readonly Tile[]>> = {
  pointwise: TILE_CANDIDATES.pointwise.filter((t) => t.family !== 'conv-shared'),
  conv2d: TILE_CANDIDATES.conv2d.filter((t) => t.family !== 'conv-shared'),
  depthwise: TILE_CANDIDATES.depthwise,
};

/**
 * Whether the tuner tries a candidate on a layer: every tile without split-K; a split-K tile only where
 * splitting can pay (`convSharedFits`); a grouped tile on grouped convs only, a stem tile on RGB stems only. Depends on the layer's shapes
 * only, so layers of one signature agree.
 */
export function candidateFits(tile: Tile, view: NodeView<Conv2dNode>): boolean {
  if (tile.family === 'grouped') return isGroupedConv(view);
  if (tile.family === 'stem') return isStemConv(view);
  return tile.family !== 'conv-shared' || convSharedFits(tile as ConvSharedTile, view);
}

/** What identifies a convolution's cost: layer kind, shapes and window (not its weights or name). */
export function convSignature(graph: Graph, node: Conv2dNode, family: ConvLayerKind): string {
  const a = node.attrs;
  const input = graph.tensors[node.inputs[0]].shape;
  return [
    family,
    shapeToString(input),
    `k${a.kernel.join('x')}`,
    `s${a.stride.join('x')}`,
    `p${a.pads.join(',')}`,
    `d${a.dilation.join('x')}`,
    `g${a.groups}`,
    `o${a.outChannels}`,
    convResidual(node) !== undefined ? 'res' : '',
    ...(a.input ? [`in-${a.input.kind}`] : []),
  ].join('|');
}

export interface TuneOptions {
  readonly cache?: TuningCache;
  /** Timed runs per candidate (median taken). */
  readonly repeats?: number;
  /** Identifies the adapter in cache keys (vendor, architecture, description). */
  readonly adapterKey?: string;
  /**
   * Called after each measured round: `done` of `total` rounds, where a round compiles and times the model once
   * with the next candidate tile on every layer still to tune (`total` is the longest candidate list). Not called
   * when the cache answers for every layer.
   */
  readonly onProgress?: (done: number, total: number) => void;
  /**
   * The choice tuning starts from (layers keep its other settings and are timed with its tile first). Default:
   * the compile's kernel choice, i.e. its `kernels` option, else `defaultKernelChoice(adapterInfo)` of the device.
   */
  readonly base?: KernelChoice;
  /**
   * Tiles to try per layer kind (each layer tries those `candidateFits` accepts); default: the `variants()` of the
   * families that may run the layer (`LAYER_FAMILIES`), which leave out workgroup-memory tiles on software adapters.
   */
  readonly candidates?: Readonly<Record<ConvLayerKind, readonly Tile[]>>;
  /**
   * Also time each inverted-residual block on the fused kernel against its three launches (autotune-blocks.ts);
   * default: on hardware adapters, not on software ones, where the fused kernel's workgroup barriers made it
   * slower on every MobileNetV2 block measured (docs/decisions/kernel-defaults.md).
   */
  readonly invertedResidual?: boolean;
}

export interface TuneResult {
  readonly perNode: Map<TensorId, Tile>;
  /** Per inverted-residual block (by its project conv's output): fused or separate; empty when not tuned. */
  readonly invertedResidualBlocks: Map<TensorId, 'fused' | 'separate'>;
  /** Layers measured now (the rest came from the cache). */
  readonly measured: number;
  readonly fromCache: number;
}

export interface StepProfile {
  /** Median GPU time of every launch, ms. */
  readonly mediansMs: number[];
  /** The timer's observed step (coarse where timestamps are quantized), ms; Infinity when none was seen. */
  readonly resolutionMs: number;
}

/** One timed trial: the launches of the graph compiled with a kernel choice, and their GPU times. */
export interface Measurement {
  readonly steps: readonly Step[];
  readonly profile: StepProfile;
}

/**
 * Compiles the tuned graph with `choice` and times every launch (compile.ts gives it; a callback, so the tuner
 * needs no compiler).
 */
export type Measure = (choice: KernelChoice) => Promise<Measurement>;

/** A convolution being tuned: its cache key, the tile the base gives it, and the candidates it tries. */
interface Layer {
  readonly key: string;
  readonly baseTile: Tile;
  readonly candidates: readonly Tile[];
}

/**
 * Picks a tile per convolution of an optimized graph, timing trials through `measure`. Needs `timestamp-query`;
 * without it, an `UnsupportedFeatureError`.
 */
export async function tuneKernels(device: GPUDevice, graph: Graph, measure: Measure, options: TuneOptions = {}): Promise<TuneResult> {
  if (!GpuProfiler.supported(device)) {
    throw new UnsupportedFeatureError(
      "tuning needs the WebGPU feature 'timestamp-query', which this device lacks (acquire it with timestamps, or compile without tune)",
    );
  }
  const perNode = new Map<TensorId, Tile>();
  const cache = options.cache;
  const prefix = options.adapterKey ? `${options.adapterKey}|` : '';
  const adapter = { software: isSoftwareAdapter(deviceAdapterInfo(device)) };

  // Per-layer rules of the base do not apply to tuned layers: each gets an explicit tile.
  const base: KernelChoice = { ...(options.base ?? defaultKernelChoice(deviceAdapterInfo(device))), perNode: undefined };
  // Every convolution with its layer kind, the base's tile (the first measured round: a layer keeps it unless a
  // candidate is faster by more than the timer can tell apart) and the variants its families propose.
  const convs = new Map<TensorId, Layer>();
  for (const node of graph.nodes) {
    if (node.op !== 'conv2d') continue;
    const view = nodeView(graph, node);
    const kind = convLayerKind(view);
    convs.set(node.output, {
      key: prefix + convSignature(graph, node, kind),
      baseTile: choiceTileOf(base, view),
      candidates: options.candidates ? options.candidates[kind].filter((t) => candidateFits(t, view)) : layerVariants(view, adapter),
    });
  }

  const pending = new Map<TensorId, Layer>();
  for (const [id, c] of convs) {
    const cached = cache?.get(c.key);
    if (cached && cached.family !== 'inverted-residual') perNode.set(id, cached);
    else pending.set(id, c);
  }
  const fromCache = perNode.size;
  const blocks = async () =>
    options.invertedResidual ?? !adapter.software ? tuneBlocks(graph, measure, { ...base, perNode }, cache, prefix) : new Map<TensorId, 'fused' | 'separate'>();
  if (pending.size === 0) return { perNode, invertedResidualBlocks: await blocks(), measured: 0, fromCache };

  // times.get(id)[0] is the base's tile; [r + 1] is candidate r of the layer's list. A layer's time is the sum
  // of its launches (a split-K conv has two).
  const times = new Map<TensorId, number[]>();
  let resolutionMs = 0;
  const record = ({ steps, profile }: Measurement, slot: number) => {
    resolutionMs = Math.max(resolutionMs, Number.isFinite(profile.resolutionMs) ? profile.resolutionMs : 0);
    steps.forEach((step, i) => {
      const out = step.node;
      if (out === undefined || !pending.has(out)) return;
      const list = times.get(out) ?? [];
      list[slot] = (list[slot] ?? 0) + profile.mediansMs[i];
      times.set(out, list);
    });
  };
  record(await measure(base), 0);
  // Round r times candidate r of every pending layer's list, all layers in one model per round (a layer with a
  // shorter list repeats its last candidate, whose time then goes unread).
  const rounds = Math.max(...[...pending.values()].map((c) => c.candidates.length));
  for (let round = 0; round < rounds; round++) {
    const trial = new Map(perNode);
    for (const [id, c] of pending) {
      trial.set(id, c.candidates[Math.min(round, c.candidates.length - 1)] ?? c.baseTile);
    }
    record(await measure({ ...base, perNode: trial }), round + 1);
    options.onProgress?.(round + 1, rounds);
  }

  // Layers with one signature get one decision (their times summed), so the cache can answer for all of them.
  const groups = new Map<string, { candidates: readonly Tile[]; baseTile: Tile; ids: TensorId[] }>();
  for (const [id, c] of pending) {
    const g = groups.get(c.key) ?? { candidates: c.candidates, baseTile: c.baseTile, ids: [] };
    g.ids.push(id);
    groups.set(c.key, g);
  }
  for (const [key, g] of groups) {
    const total = (slot: number) => g.ids.reduce((sum, id) => sum + (times.get(id)?.[slot] ?? Infinity), 0);
    const candidates = g.candidates;
    const best = pickTile(g.baseTile, total(0), candidates, candidates.map((_, r) => total(r + 1)), resolutionMs, g.ids.length);
    for (const id of g.ids) perNode.set(id, best);
    cache?.set(key, best);
  }
  return { perNode, invertedResidualBlocks: await blocks(), measured: pending.size, fromCache };
}

/**
 * The tuner's decision for one layer signature (`layers` layers, times summed): the fastest candidate if it
 * beats the base tile by more than two timer steps per layer (quantized timestamps, e.g. Chrome's 100 us
 * without developer features, would otherwise decide on noise) and 3% of the base time; else the base tile.
 */
export function pickTile(
  baseTile: Tile,
  baseMs: number,
  candidates: readonly Tile[],
  candidateMs: readonly number[],
  resolutionMs: number,
  layers: number,
): Tile {
  const margin = Math.max(2 * resolutionMs * layers, 0.03 * baseMs);
  let best = baseTile;
  let bestMs = baseMs - margin;
  candidates.forEach((tile, r) => {
    if (candidateMs[r] < bestMs) {
      best = tile;
      bestMs = candidateMs[r];
    }
  });
  return best;
}

