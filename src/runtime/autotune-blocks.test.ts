import { describe, expect, it } from 'vitest';
import { optimizeGraph } from '../graph/passes/index.ts';
import { mobilenetV2, randomParams } from '../models/index.ts';
import type { Measurement } from './autotune.ts';
import { blockSignature, tuneBlocks } from './autotune-blocks.ts';
import { findInvertedResidualBlocks } from './inverted-residual.ts';
import type { KernelChoice } from './kernel-choice.ts';
import { DEFAULT_KERNEL_CHOICE } from './kernel-choice.ts';
import { lowerGraph } from './lowering.ts';
import { MemoryTuningCache } from './tuning-cache.ts';
import { FUSED_SE_SHAPE } from '../../test/inverted-residual-cases.ts';
import { buildCase } from '../../test/gpu-cases.ts';

const graph = optimizeGraph(mobilenetV2({ params: randomParams(1), inputSize: 64, batch: 1, numClasses: 10 }));
const blocks = findInvertedResidualBlocks(graph);

/** A fake measure: every launch takes 1 ms, except fused launches, which take `fusedMs(label)`. */
function fakeMeasure(fusedMs: (label: string) => number, calls: KernelChoice[], on = graph) {
  return async (choice: KernelChoice): Promise<Measurement> => {
    calls.push(choice);
    const steps = lowerGraph(on, choice);
    return { steps, profile: { mediansMs: steps.map((s) => (s.kind === 'invertedResidual' ? fusedMs(s.label) : 1)), resolutionMs: 0.01 } };
  };
}

describe('tuneBlocks', () => {
  it('fuses the block signatures whose fused launch beats their three launches, and caches each decision', async () => {
    const calls: KernelChoice[] = [];
    const cache = new MemoryTuningCache();
    // The first block (two launches separately) is faster fused; every other one is slower (3 launches = 3 ms).
    const decisions = await tuneBlocks(graph, fakeMeasure((label) => (label === blocks[0].project.name ? 1 : 3.5), calls), DEFAULT_KERNEL_CHOICE, cache, 'a|');
    expect(calls.map((c) => c.invertedResidual)).toEqual(['separate', 'fused']);
    expect(decisions.size).toBe(17);
    expect(decisions.get(blocks[0].project.output)).toBe('fused');
    expect([...decisions.values()].filter((d) => d === 'fused')).toHaveLength(1);
    expect(cache.get(`a|${blockSignature(graph, blocks[0])}`)).toEqual({ family: 'inverted-residual', fused: true });
    // Answered from the cache: no measurement.
    const again: KernelChoice[] = [];
    const cached = await tuneBlocks(graph, fakeMeasure(() => 0, again), DEFAULT_KERNEL_CHOICE, MemoryTuningCache.fromJSON(JSON.stringify(cache)), 'a|');
    expect(again).toHaveLength(0);
    expect(cached).toEqual(decisions);
  });

  it('a tie within the margin stays separate', async () => {
    const decisions = await tuneBlocks(graph, fakeMeasure((label) => (label === blocks[0].project.name ? 1.99 : 2.95), []), DEFAULT_KERNEL_CHOICE, undefined, '');
    expect([...decisions.values()].every((d) => d === 'separate')).toBe(true);
  });

  it('a cache entry for a block is no tile, and a malformed one is refused', () => {
    expect(() => new MemoryTuningCache({ k: { family: 'inverted-residual', fused: 'yes' } })).toThrow(RangeError);
    expect(new MemoryTuningCache({ k: { family: 'inverted-residual', fused: false } }).get('k')).toEqual({ family: 'inverted-residual', fused: false });
  });
});

describe('tuneBlocks with squeeze-and-excitation', () => {
  const seGraph = optimizeGraph(buildCase(FUSED_SE_SHAPE[1]).graph, { fusePoolLinear: false });
  const [se] = findInvertedResidualBlocks(seGraph);

  it('weighs the three fused launches against the six separate ones (expand, depthwise, pool, fc1, fc2, project)', async () => {
    expect(blockSignature(seGraph, se)).toMatch(/\|se10-act-noact\/hard-sigmoid/);
    // 3 x 1.9 ms = 5.7 ms fused against 6 ms separate: within the 3% + resolution margin of 6 ms, a tie.
    const tie = await tuneBlocks(seGraph, fakeMeasure(() => 1.95, [], seGraph), DEFAULT_KERNEL_CHOICE, undefined, '');
    expect(tie.get(se.project.output)).toBe('separate');
    const win = await tuneBlocks(seGraph, fakeMeasure(() => 1.5, [], seGraph), DEFAULT_KERNEL_CHOICE, undefined, '');
    expect(win.get(se.project.output)).toBe('fused');
  });
});
