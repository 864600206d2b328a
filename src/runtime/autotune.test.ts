import { describe, expect, it } from 'vitest';
import { UnsupportedFeatureError } from '../errors.ts';
import { MemoryTuningCache, localStorageTuningCache } from './tuning-cache.ts';
import { SOFTWARE_TILE_CANDIDATES, TILE_CANDIDATES, candidateFits, pickTile } from './autotune.ts';
import { GraphBuilder } from '../graph/builder.ts';
import type { Conv2dNode } from '../graph/ir.ts';
import { nodeView } from './kernel-table.ts';
import type { Tile } from './kernel-choice.ts';

const base: Tile = { family: 'conv-shared', pixelsPerThread: 2, vec4sPerThread: 2 };
const a: Tile = { family: 'pointwise', pixelsPerThread: 4, vec4sPerThread: 2 };
const b: Tile = { family: 'pointwise', pixelsPerThread: 1, vec4sPerThread: 1 };

describe('pickTile', () => {
  it('takes the fastest candidate when it clearly beats the base', () => {
    expect(pickTile(base, 0.1, [a, b], [0.08, 0.05], 0.0002, 1)).toBe(b);
  });

  it('keeps the base on quantized timestamps: a 65.5 us step swamps 10-20 us layers', () => {
    // Dawn's default quantization on an H200: every launch reads 0 or 65.5 us.
    expect(pickTile(base, 0.0655, [a, b], [0, 0.0655], 0.0655, 1)).toBe(base);
    expect(pickTile(base, 0.131, [a, b], [0.0655, 0], 0.0655, 1)).toBe(base);
  });

  it('needs more than 3% of the base time, and two timer steps per layer of the signature', () => {
    expect(pickTile(base, 1, [a], [0.975], 0.000001, 1)).toBe(base);
    expect(pickTile(base, 1, [a], [0.96], 0.000001, 1)).toBe(a);
    // Ten layers share the signature: the margin is 10 x 2 timer steps.
    expect(pickTile(base, 1, [a], [0.9], 0.006, 10)).toBe(base);
    expect(pickTile(base, 1, [a], [0.85], 0.006, 10)).toBe(a);
  });

  it('never picks a candidate that was not measured (Infinity)', () => {
    expect(pickTile(base, 0.5, [a], [Infinity], 0.001, 1)).toBe(base);
  });
});

describe('candidates', () => {
  it('software adapters skip the workgroup-memory tiles, GPUs try them', () => {
    const shared = (t: Tile) => t.family === 'conv-shared';
    expect(Object.values(SOFTWARE_TILE_CANDIDATES).flat().some(shared)).toBe(false);
    expect(TILE_CANDIDATES.pointwise.some(shared)).toBe(true);
    expect(TILE_CANDIDATES.conv2d.some(shared)).toBe(true);
  });

  it('grouped tiles are candidates on both adapter classes, tried on grouped convs only', () => {
    const grouped = (t: Tile) => t.family === 'grouped';
    for (const list of [TILE_CANDIDATES, SOFTWARE_TILE_CANDIDATES]) {
      expect(list.pointwise.some(grouped) && list.conv2d.some(grouped)).toBe(true);
      expect(list.depthwise.some(grouped)).toBe(false);
    }
    const conv = (groups: number) => {
      const b = new GraphBuilder();
      b.output(b.conv2d(b.input('x', [1, 16, 6, 6]), { outChannels: 16, kernel: 3, padding: 1, groups, weight: new Float32Array((16 * 16 * 9) / groups), bias: null }));
      const g = b.build();
      return nodeView(g, g.nodes[0] as Conv2dNode);
    };
    const tile = TILE_CANDIDATES.conv2d.find(grouped)!;
    expect(candidateFits(tile, conv(4))).toBe(true);
    expect(candidateFits(tile, conv(1))).toBe(false);
    expect(candidateFits(tile, conv(16))).toBe(false); // depthwise
    // A cached grouped tile loads back.
    const cache = MemoryTuningCache.fromJSON(JSON.stringify({ 'k|conv2d|g4': tile }));
    expect(cache.get('k|conv2d|g4')).toEqual(tile);
  });
});

describe('tuning caches', () => {
  const entries: Record<string, Tile> = {
    'a|pointwise': { family: 'pointwise', pixelsPerThread: 4, vec4sPerThread: 2 },
    'b|conv2d': { family: 'conv-shared', pixelsPerThread: 2, vec4sPerThread: 2, splitK: 4 },
    'c|depthwise': { family: 'depthwise', pixelsPerThread: 8 },
  };

  it('MemoryTuningCache loads what toJSON saved, through JSON text, so a tuning can move to another process', () => {
    const cache = new MemoryTuningCache();
    for (const [key, tile] of Object.entries(entries)) cache.set(key, tile);
    const text = JSON.stringify(cache);
    for (const restored of [MemoryTuningCache.fromJSON(text), new MemoryTuningCache(JSON.parse(text))]) {
      expect(restored.size).toBe(3);
      expect(restored.toJSON()).toEqual(entries);
      expect(restored.get('b|conv2d')).toEqual(entries['b|conv2d']);
    }
  });

  it('reads entries saved before tiles named their family, by the layer kind in their key', () => {
    const legacy = {
      'x|pointwise|[1, 8, 4, 4]': { pixelsPerThread: 4, vec4sPerThread: 2 },
      'x|conv2d|[1, 8, 4, 4]': { pixelsPerThread: 2, vec4sPerThread: 2, shared: true, splitK: 4 },
      'x|depthwise|[1, 8, 4, 4]': { pixelsPerThread: 8, vec4sPerThread: 1 },
      'x|conv2d|[1, 3, 9, 9]': { pixelsPerThread: 16, vec4sPerThread: 2 },
    };
    expect(Object.values(new MemoryTuningCache(legacy).toJSON())).toEqual([
      { family: 'pointwise', pixelsPerThread: 4, vec4sPerThread: 2 },
      { family: 'conv-shared', pixelsPerThread: 2, vec4sPerThread: 2, splitK: 4 },
      { family: 'depthwise', pixelsPerThread: 8 },
      { family: 'conv2d', pixelsPerThread: 16, vec4sPerThread: 2 },
    ]);
  });

  it('refuses entries that are no tiles, and text that is no JSON, with a RangeError', () => {
    expect(() => new MemoryTuningCache({ k: { pixelsPerThread: 0, vec4sPerThread: 1 } })).toThrow(
      new RangeError('tuning cache entry "k" is not a tile: {"pixelsPerThread":0,"vec4sPerThread":1}'));
    expect(() => MemoryTuningCache.fromJSON('{')).toThrow(RangeError);
    expect(() => MemoryTuningCache.fromJSON('null')).toThrow(RangeError);
    for (const text of ['[]', '[{"pixelsPerThread":1,"vec4sPerThread":1}]', '3', '"x"']) {
      expect(() => MemoryTuningCache.fromJSON(text), text).toThrow(
        new RangeError(`tuning cache entries must be an object keyed by layer signature, got ${text}`));
    }
  });

  it('refuses tiles that compile refuses (checkKernelChoice\'s rules), naming the entry', () => {
    const refused = (tile: object, why: string) =>
      expect(() => MemoryTuningCache.fromJSON(JSON.stringify({ k: tile }))).toThrow(new RangeError(`tuning cache entry "k": ${why}`));
    refused({ pixelsPerThread: 3, vec4sPerThread: 2, shared: true }, 'workgroup-memory tile 3 pixels x 2 vec4s is not implemented (pixels 2, 4, 6 or 8; vec4s 1 to 4)');
    refused({ pixelsPerThread: 1000, vec4sPerThread: 1 }, 'register tile 1000 pixels x 1 vec4s is not implemented (pixels 1 to 16; vec4s 1 to 8)');
    refused({ pixelsPerThread: 4, vec4sPerThread: 2, splitK: 4 }, "split-K needs a workgroup-memory tile (family 'conv-shared')");
    refused({ family: 'conv-shared', pixelsPerThread: 5, vec4sPerThread: 2 }, 'workgroup-memory tile 5 pixels x 2 vec4s is not implemented (pixels 2, 4, 6 or 8; vec4s 1 to 4)');
    refused({ family: 'depthwise', pixelsPerThread: 17 }, '17 pixels per invocation is not an integer from 1 to 16');
    refused({ family: 'depthwise', pixelsPerThread: 4, rowsPerThread: 9 }, '9 rows per invocation is not an integer from 1 to 8');
    refused({ family: 'depthwise', pixelsPerThread: 4, rollingRows: 65 }, '65 rolling rows per invocation is not an integer from 1 to 64');
    refused({ family: 'depthwise', pixelsPerThread: 4, rollingRows: 8, rowsPerThread: 2 }, 'rollingRows excludes rows and rowsPerThread');
    refused({ pixelsPerThread: 2, vec4sPerThread: 2, shared: true, splitK: 65 }, 'splitK 65 is not an integer from 1 to 64');
  });

  it('loads a depthwise block tile back from a tuning cache', () => {
    const tile = { family: 'depthwise', pixelsPerThread: 4, rowsPerThread: 4 };
    expect(MemoryTuningCache.fromJSON(JSON.stringify({ k: tile })).get('k')).toEqual(tile);
  });

  it('loads a depthwise rolling tile back from a tuning cache', () => {
    const tile = { family: 'depthwise', pixelsPerThread: 4, rollingRows: 16 };
    expect(MemoryTuningCache.fromJSON(JSON.stringify({ k: tile })).get('k')).toEqual(tile);
  });

  it('localStorageTuningCache throws UnsupportedFeatureError where there is no localStorage (Node)', () => {
    expect(() => localStorageTuningCache()).toThrow(UnsupportedFeatureError);
    expect(() => localStorageTuningCache()).toThrow(/no localStorage.*MemoryTuningCache/);
  });
});
