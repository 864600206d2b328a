import { UnsupportedFeatureError } from '../errors.ts';
import { deviceAdapterInfo, isSoftwareAdapter } from '../gpu/device.ts';
import { GpuProfiler } from '../gpu/profiler.ts';
import type { Conv2dNode, Graph, Shape4, TensorId } from '../graph/ir.ts';
import { shapeToString } from '../graph/ir.ts';
import type { KernelChoice, Step, StepKind, Tile } from './lowering.ts';
import { DEFAULT_KERNEL_CHOICE, defaultKernelChoice, denseTileOf, lowerGraph, sharedConvGeometry, splitKFits, tileProblem } from './lowering.ts';

/**
 * Measured kernel selection: every convolution is timed with each candidate register tile (one timestamp pair
 * per launch) and keeps the fastest. Results are cached per adapter and layer signature, so a model tunes once
 * per machine and models that share layer shapes share results.
 */
export interface TuningCache {
  get(key: string): Tile | undefined;
  set(key: string, tile: Tile): void;
}

/**
 * A tuning cache in memory. To carry a tuning to another process, save `JSON.stringify(cache)` and load it with
 * `MemoryTuningCache.fromJSON(text)` (or `new MemoryTuningCache(JSON.parse(text))`).
 */
export class MemoryTuningCache implements TuningCache {
  private readonly entries = new Map<string, Tile>();

  /** Starts with `entries` (what `toJSON` gives); an entry that is no tile compile takes is a `RangeError` naming its key. */
  constructor(entries: Readonly<Record<string, Tile>> = {}) {
    if (typeof entries !== 'object' || entries === null || Array.isArray(entries)) {
      throw new RangeError(`tuning cache entries must be an object keyed by layer signature, got ${JSON.stringify(entries) ?? String(entries)}`);
    }
    for (const [key, tile] of Object.entries(entries)) {
      if (!isTile(tile)) throw new RangeError(`tuning cache entry ${JSON.stringify(key)} is not a tile: ${JSON.stringify(tile)}`);
      const problem = tileProblem(tile);
      if (problem !== null) throw new RangeError(`tuning cache entry ${JSON.stringify(key)}: ${problem}`);
      this.entries.set(key, tile);
    }
  }

  /** The cache `JSON.stringify(cache)` saved. Text that is not such JSON is a `RangeError`. */
  static fromJSON(text: string): MemoryTuningCache {
    let entries: unknown;
    try {
      entries = JSON.parse(text);
    } catch (e) {
      throw new RangeError(`tuning cache JSON does not parse: ${(e as Error).message}`);
    }
    return new MemoryTuningCache(entries as Record<string, Tile>);
  }

  get(key: string): Tile | undefined {
    return this.entries.get(key);
  }
  set(key: string, tile: Tile): void {
    this.entries.set(key, tile);
  }
  get size(): number {
    return this.entries.size;
  }
  toJSON(): Record<string, Tile> {
    return Object.fromEntries(this.entries);
  }
}

/** Whether `value` has a tile's shape: positive whole pixels and vec4s per invocation, optional flags. */
function isTile(value: unknown): value is Tile {
  if (typeof value !== 'object' || value === null) return false;
  const t = value as Record<string, unknown>;
  const positive = (x: unknown) => Number.isInteger(x) && (x as number) > 0;
  return positive(t.pixelsPerThread) && positive(t.vec4sPerThread) &&
    (t.shared === undefined || typeof t.shared === 'boolean') && (t.splitK === undefined || positive(t.splitK));
}

/**
 * A cache in `localStorage` (browsers), one entry per layer signature. Where there is no `localStorage` (Node)
 * it throws an `UnsupportedFeatureError`: use a `MemoryTuningCache` and save its JSON instead.
 */
export function localStorageTuningCache(prefix = 'webcnn-tune:'): TuningCache {
  if (typeof (globalThis as { localStorage?: unknown }).localStorage === 'undefined') {
    throw new UnsupportedFeatureError(
      'localStorageTuningCache: this environment has no localStorage (Node?); use new MemoryTuningCache() and save JSON.stringify(cache)',
    );
  }
  return {
    get(key) {
      try {
        const v = localStorage.getItem(prefix + key);
        return v ? (JSON.parse(v) as Tile) : undefined;
      } catch {
        return undefined;
      }
    },
    set(key, tile) {
      try {
        localStorage.setItem(prefix + key, JSON.stringify(tile));
      } catch {
        // Storage full or disabled: tuning still applies to this compile.
      }
    },
  };
}

export type ConvFamily = 'pointwise' | 'depthwise' | 'conv2d';

/** Workgroup-memory tiles (8 x 8 invocations, each this register tile): 16-64 pixels x 64-128 output channels. */
const SHARED_TILES: readonly Tile[] = [
  { pixelsPerThread: 4, vec4sPerThread: 2, shared: true },
  { pixelsPerThread: 4, vec4sPerThread: 4, shared: true },
  { pixelsPerThread: 8, vec4sPerThread: 2, shared: true },
  { pixelsPerThread: 2, vec4sPerThread: 2, shared: true },
];

/**
 * Split-K tiles: the 16 px x 64 ch workgroup-memory tile (the GPU default) with K spread over 2-16 workgroups per
 * output tile. Tried only on layers `candidateFits` accepts (few output tiles, enough K per slice).
 */
const SPLIT_K_TILES: readonly Tile[] = [2, 4, 8, 16].map((splitK) => ({ pixelsPerThread: 2, vec4sPerThread: 2, shared: true, splitK }));

/**
 * Layers with at most this many 16 x 64 output tiles (workgroups of the GPU default) are split-K candidates:
 * under two per compute unit of a large GPU (an H200 has 132 SMs), where splitting K adds parallelism the output
 * lacks. At 224: ResNet-50's 3x3s and 1x1 reductions from layer1 (196 tiles) to layer4 (32) and its 7x7 and
 * 14x14 expansions (128, 208); MobileNetV2's projections from 56x56 down (196 to 12 tiles) and its 7x7
 * expansions (60, 80). Each split also needs `MIN_SPLIT_K_SLICE` input vec4s of K per slice.
 */
export const SPLIT_K_MAX_TILES = 256;

/** Candidate tiles per kernel family, tried in this order (the first is the untuned default). */
export const TILE_CANDIDATES: Readonly<Record<ConvFamily, readonly Tile[]>> = {
  pointwise: [
    DEFAULT_KERNEL_CHOICE.pointwise,
    { pixelsPerThread: 4, vec4sPerThread: 2 },
    { pixelsPerThread: 4, vec4sPerThread: 4 },
    { pixelsPerThread: 8, vec4sPerThread: 1 },
    { pixelsPerThread: 2, vec4sPerThread: 4 },
    // Small tiles: many more invocations, for wide GPUs on small maps.
    { pixelsPerThread: 2, vec4sPerThread: 1 },
    { pixelsPerThread: 1, vec4sPerThread: 1 },
    ...SHARED_TILES,
    ...SPLIT_K_TILES,
  ],
  conv2d: [
    DEFAULT_KERNEL_CHOICE.conv2d,
    { pixelsPerThread: 4, vec4sPerThread: 2 },
    { pixelsPerThread: 4, vec4sPerThread: 4 },
    { pixelsPerThread: 8, vec4sPerThread: 4 },
    { pixelsPerThread: 2, vec4sPerThread: 2 },
    { pixelsPerThread: 16, vec4sPerThread: 2 },
    { pixelsPerThread: 2, vec4sPerThread: 1 },
    { pixelsPerThread: 1, vec4sPerThread: 1 },
    ...SHARED_TILES,
    ...SPLIT_K_TILES,
  ],
  depthwise: [
    { pixelsPerThread: DEFAULT_KERNEL_CHOICE.depthwise.pixelsPerThread, vec4sPerThread: 1 },
    { pixelsPerThread: 8, vec4sPerThread: 1 },
    { pixelsPerThread: 2, vec4sPerThread: 1 },
    { pixelsPerThread: 1, vec4sPerThread: 1 },
  ],
};

/**
 * What the tuner tries on software adapters: the register tiles only. Workgroup-memory tiles (split-K ones
 * included) measured 5-10x slower there (barriers are thread synchronisation on a CPU), so timing them only
 * lengthens tuning.
 */
export const SOFTWARE_TILE_CANDIDATES: Readonly<Record<ConvFamily, readonly Tile[]>> = {
  pointwise: TILE_CANDIDATES.pointwise.filter((t) => !t.shared),
  conv2d: TILE_CANDIDATES.conv2d.filter((t) => !t.shared),
  depthwise: TILE_CANDIDATES.depthwise,
};

/**
 * Whether the tuner tries a candidate on a layer: every tile without split-K; a split-K tile only where
 * `splitKFits` says splitting can pay (at most `SPLIT_K_MAX_TILES` output tiles unsplit, `MIN_SPLIT_K_SLICE`
 * input vec4s of K per slice). Depends on the layer's shapes only, so layers of one signature agree.
 */
export function candidateFits(tile: Tile, node: Conv2dNode, inShape: Shape4, outShape: Shape4): boolean {
  const splits = tile.splitK ?? 1;
  if (splits <= 1) return true;
  if (!tile.shared) return false;
  const { tiles, K } = sharedConvGeometry(tile, inShape, outShape, node.attrs);
  return splitKFits(tiles, K, splits, SPLIT_K_MAX_TILES);
}

/** What identifies a convolution's cost: family, shapes and window (not its weights or name). */
export function convSignature(graph: Graph, node: Conv2dNode, family: ConvFamily): string {
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
    node.inputs.length > 1 ? 'res' : '',
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
  /** Tiles to try per family; default `TILE_CANDIDATES`, or `SOFTWARE_TILE_CANDIDATES` on software adapters. */
  readonly candidates?: Readonly<Record<ConvFamily, readonly Tile[]>>;
}

export interface TuneResult {
  readonly perNode: Map<TensorId, Tile>;
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

/** A convolution being tuned: its family, cache key, the tile the base gives it, and the candidates it tries. */
interface Layer {
  readonly family: ConvFamily;
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
  const candidatesOf =
    options.candidates ?? (isSoftwareAdapter(deviceAdapterInfo(device)) ? SOFTWARE_TILE_CANDIDATES : TILE_CANDIDATES);

  // Per-layer rules of the base do not apply to tuned layers: each gets an explicit tile.
  const base: KernelChoice = { ...(options.base ?? defaultKernelChoice(deviceAdapterInfo(device))), perNode: undefined };
  // The base's lowering finds the convolutions and their families; the base is also the first measured round:
  // a layer keeps the base's tile unless a candidate is faster by more than the timer can tell apart.
  const convs = new Map<TensorId, Layer>();
  const byOutput = new Map(graph.nodes.map((n) => [n.output, n]));
  for (const step of lowerGraph(graph, base)) {
    const node = step.node === undefined ? undefined : byOutput.get(step.node);
    if (node?.op !== 'conv2d' || !isConvFamily(step.kind) || convs.has(node.output)) continue;
    const inShape = graph.tensors[node.inputs[0]].shape;
    const outShape = graph.tensors[node.output].shape;
    convs.set(node.output, {
      family: step.kind,
      key: prefix + convSignature(graph, node, step.kind),
      baseTile: baseTileOf(base, step.kind, node, inShape, outShape),
      candidates: candidatesOf[step.kind].filter((t) => candidateFits(t, node, inShape, outShape)),
    });
  }

  const pending = new Map<TensorId, Layer>();
  for (const [id, c] of convs) {
    const cached = cache?.get(c.key);
    if (cached) perNode.set(id, cached);
    else pending.set(id, c);
  }
  const fromCache = perNode.size;
  if (pending.size === 0) return { perNode, measured: 0, fromCache };

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
  return { perNode, measured: pending.size, fromCache };
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

/** The tile `base` gives a layer of `family` (what lowering picks without a per-node tile). */
function baseTileOf(base: KernelChoice, family: ConvFamily, node: Conv2dNode, inShape: Shape4, outShape: Shape4): Tile {
  if (family === 'depthwise') return { pixelsPerThread: base.depthwise.pixelsPerThread, vec4sPerThread: 1 };
  return denseTileOf(base, node.attrs, inShape, outShape);
}

function isConvFamily(kind: StepKind): kind is ConvFamily {
  return kind === 'pointwise' || kind === 'depthwise' || kind === 'conv2d';
}
