import { UnsupportedFeatureError } from '../errors.ts';
import type { ConvTile } from './kernel-choice.ts';
import { CONV_FAMILIES, convFamilyOf } from './kernel-table.ts';

/**
 * Where the autotuner keeps its decisions: one tile per adapter and layer signature, so a model tunes once per
 * machine and models that share layer shapes share results; and one `BlockEntry` per inverted-residual block
 * signature.
 */
export interface TuningCache {
  get(key: string): TuningEntry | undefined;
  set(key: string, entry: TuningEntry): void;
}

/** The tuner's decision for an inverted-residual block signature: one fused launch, or the three convs' own. */
export interface BlockEntry {
  readonly family: 'inverted-residual';
  readonly fused: boolean;
}

/** What a tuning cache holds: a conv's tile, or a block's decision. */
export type TuningEntry = ConvTile | BlockEntry;

const positive = (x: unknown): boolean => Number.isInteger(x) && (x as number) > 0;

/**
 * A cache entry as a tile: a family-tagged tile as `toJSON` writes it, or one saved before tiles were tagged
 * (`{ pixelsPerThread, vec4sPerThread, shared?, splitK? }`, its family read from the key's layer kind). Anything
 * else, or a tile no kernel implements, is a `RangeError` naming the key.
 */
export function tileFromJSON(key: string, value: unknown): TuningEntry {
  const notTile = () => new RangeError(`tuning cache entry ${JSON.stringify(key)} is not a tile: ${JSON.stringify(value)}`);
  if (typeof value !== 'object' || value === null) throw notTile();
  const t = value as Record<string, unknown>;
  if (t.family === 'inverted-residual') {
    if (typeof t.fused !== 'boolean' || Object.keys(t).length !== 2) throw notTile();
    return { family: 'inverted-residual', fused: t.fused };
  }
  let tile: ConvTile;
  if (typeof t.family === 'string') {
    if (!Object.hasOwn(CONV_FAMILIES, t.family) || !positive(t.pixelsPerThread)) throw notTile();
    tile = value as ConvTile;
  } else {
    if (!positive(t.pixelsPerThread) || !positive(t.vec4sPerThread)) throw notTile();
    if ((t.shared !== undefined && typeof t.shared !== 'boolean') || (t.splitK !== undefined && !positive(t.splitK))) throw notTile();
    const kinds = key.split('|');
    const [pixelsPerThread, vec4sPerThread] = [t.pixelsPerThread as number, t.vec4sPerThread as number];
    if (t.shared === true) {
      tile = { family: 'conv-shared', pixelsPerThread, vec4sPerThread, ...(t.splitK === undefined ? {} : { splitK: t.splitK as number }) };
    } else if (kinds.includes('depthwise')) {
      tile = { family: 'depthwise', pixelsPerThread };
    } else {
      // A register tile asking for split-K keeps it, so that `check` refuses it by name.
      const family = kinds.includes('pointwise') ? 'pointwise' : 'conv2d';
      tile = { family, pixelsPerThread, vec4sPerThread, ...(t.splitK === undefined ? {} : { splitK: t.splitK }) } as ConvTile;
    }
  }
  const problem = convFamilyOf(tile).check(tile);
  if (problem !== null) throw new RangeError(`tuning cache entry ${JSON.stringify(key)}: ${problem}`);
  return tile;
}

/**
 * A tuning cache in memory. To carry a tuning to another process, save `JSON.stringify(cache)` and load it with
 * `MemoryTuningCache.fromJSON(text)` (or `new MemoryTuningCache(JSON.parse(text))`).
 */
export class MemoryTuningCache implements TuningCache {
  private readonly entries = new Map<string, TuningEntry>();

  /** Starts with `entries` (what `toJSON` gives); an entry that is no tile compile takes is a `RangeError` naming its key. */
  constructor(entries: Readonly<Record<string, unknown>> = {}) {
    if (typeof entries !== 'object' || entries === null || Array.isArray(entries)) {
      throw new RangeError(`tuning cache entries must be an object keyed by layer signature, got ${JSON.stringify(entries) ?? String(entries)}`);
    }
    for (const [key, tile] of Object.entries(entries)) this.entries.set(key, tileFromJSON(key, tile));
  }

  /** The cache `JSON.stringify(cache)` saved. Text that is not such JSON is a `RangeError`. */
  static fromJSON(text: string): MemoryTuningCache {
    let entries: unknown;
    try {
      entries = JSON.parse(text);
    } catch (e) {
      throw new RangeError(`tuning cache JSON does not parse: ${(e as Error).message}`);
    }
    return new MemoryTuningCache(entries as Record<string, unknown>);
  }

  get(key: string): TuningEntry | undefined {
    return this.entries.get(key);
  }
  set(key: string, entry: TuningEntry): void {
    this.entries.set(key, entry);
  }
  get size(): number {
    return this.entries.size;
  }
  toJSON(): Record<string, TuningEntry> {
    return Object.fromEntries(this.entries);
  }
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
        return v ? tileFromJSON(key, JSON.parse(v)) : undefined;
      } catch {
        return undefined;
      }
    },
    set(key, entry) {
      try {
        localStorage.setItem(prefix + key, JSON.stringify(entry));
      } catch {
        // Storage full or disabled: tuning still applies to this compile.
      }
    },
  };
}
