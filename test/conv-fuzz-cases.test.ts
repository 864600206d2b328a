import { describe, expect, it } from 'vitest';
import {
  CI_FUZZ_BLOCKS, CI_FUZZ_SEED, CI_FUZZ_SHAPES, FUZZ_BLOCK_CHOICES, FUZZ_KERNEL_CHOICES, blockFuzzEntries, convFuzzEntries, fuzzSeed, fuzzedBlocks, fuzzedConvs, type FuzzedConv,
} from './conv-fuzz-cases.ts';
import { findInvertedResidualBlocks } from '../src/runtime/inverted-residual.ts';
import { blockVariant } from '../shaders/inverted-residual/index.ts';
import { buildCase } from './gpu-cases.ts';
import { lowerGraph } from '../src/runtime/lowering.ts';
import { DEFAULT_KERNEL_CHOICE, GPU_KERNEL_CHOICE, SOFTWARE_UPGRADE_KERNELS, optimizeForKernels } from '../src/runtime/kernel-choice.ts';

const kernelW = (c: FuzzedConv) => c.kernelW ?? c.kernel;

describe('the conv shape fuzzer', () => {
  it('draws the same shapes for the same seed, and others for another', () => {
    expect(fuzzedConvs(1, 40)).toEqual(fuzzedConvs(1, 40));
    expect(fuzzedConvs(2, 40)).not.toEqual(fuzzedConvs(1, 40));
    expect(fuzzedConvs(1, 10)).toEqual(fuzzedConvs(1, 40).slice(0, 10));
  });

  it('seeds every stream, run and case apart', () => {
    const seeds = ['conv', 'conv-weights', 'block', 'block-weights', 'tuned'].flatMap((stream) => [1, 2].flatMap((run) => [0, 1, 1000].map((i) => fuzzSeed(stream, run, i))));
    expect(new Set(seeds).size).toBe(seeds.length);
    expect(seeds.every((x) => Number.isInteger(x) && x >= 0 && x < 2 ** 32)).toBe(true);
  });

  it('draws only convs that build, within the multiply-add cap', () => {
    for (const seed of [1, 2, 3]) {
      for (const c of fuzzedConvs(seed, 200)) {
        const { graph } = buildCase(c);
        const conv = graph.nodes.find((n) => n.op === 'conv2d');
        expect(conv?.op).toBe('conv2d');
        const [n, outC, outH, outW] = graph.tensors[conv?.output ?? 0].shape;
        expect(n * outC * outH * outW * (c.inC / c.groups) * c.kernel * kernelW(c)).toBeLessThanOrEqual(3_000_000);
      }
    }
  });

  it("reaches every conv kind and window feature within CI's shapes", () => {
    const cases = fuzzedConvs(CI_FUZZ_SEED, CI_FUZZ_SHAPES);
    const has = (what: string, test: (c: FuzzedConv) => boolean) => expect(cases.some(test), what).toBe(true);
    has('a 1x1 conv', (c) => c.kernel === 1 && kernelW(c) === 1 && c.groups === 1);
    has('a depthwise conv', (c) => c.groups === c.inC && c.groups > 1);
    has('a depthwise conv with a channel multiplier', (c) => c.groups === c.inC && c.outC === 2 * c.inC);
    has('a grouped conv, whole vec4s per group', (c) => c.groups > 1 && c.groups < c.inC && (c.inC / c.groups) % 4 === 0 && (c.outC / c.groups) % 4 === 0);
    has('a grouped conv, odd channels per group', (c) => c.groups > 1 && c.groups < c.inC && (c.inC / c.groups) % 4 !== 0);
    has('a dense KxK conv', (c) => c.groups === 1 && c.inC > 4 && c.kernel > 1);
    has('an RGB stem', (c) => c.groups === 1 && c.inC <= 4 && c.kernel >= 3);
    has('a rectangular window', (c) => c.kernel !== kernelW(c));
    has('stride above 1', (c) => c.stride > 1);
    has('dilation above 1', (c) => (c.dilation ?? 1) > 1 || (c.dilationX ?? 1) > 1);
    has('uneven padding', (c) => c.pads !== undefined && (c.pads[0] !== c.pads[2] || c.pads[1] !== c.pads[3]));
    has('batch 2', (c) => c.n === 2);
    has('a 1-pixel side', (c) => c.h === 1 || c.w === 1);
    has('a residual', (c) => c.residual);
    has('a table activation', (c) => c.activation.startsWith('fn:'));
    has('f16-packed storage', (c) => c.precision === 'f16-packed');
  });

  it('runs each shape on every kernel choice and on one tuner tile, named by seed and index', () => {
    const entries = convFuzzEntries(7, 5);
    const perShape = FUZZ_KERNEL_CHOICES.length + 1;
    expect(entries).toHaveLength(5 * perShape);
    expect(new Set(entries.map((e) => e.name)).size).toBe(entries.length);
    expect(entries[0].name).toMatch(/^conv fuzz s7#0 software: /);
    for (let i = 0; i < 5; i++) {
      expect(entries.slice(i * perShape, i * perShape + FUZZ_KERNEL_CHOICES.length).map((e) => e.kernels)).toEqual(FUZZ_KERNEL_CHOICES.map((k) => k.kernels));
      const tuned = entries[i * perShape + FUZZ_KERNEL_CHOICES.length];
      expect(tuned.name).toMatch(new RegExp(`^conv fuzz s7#${i} tuned `));
      expect(tuned.kernels?.perNode?.size).toBe(1);
      // The tuned case must have run its tile's family: the runner checks this program-key prefix.
      const family = [...(tuned.kernels?.perNode?.values() ?? [])][0]?.family;
      expect(tuned.kernel).toBe({ pointwise: 'pointwise/', conv2d: 'conv2d/', 'conv-shared': 'conv-shared/', depthwise: 'depthwise', grouped: 'grouped', stem: 'conv-stem/' }[family ?? 'pointwise']);
    }
  });

  it("draws tuner tiles of every family the tuner has within CI's shapes", () => {
    const families = new Set(convFuzzEntries(CI_FUZZ_SEED, CI_FUZZ_SHAPES).flatMap((e) => [...(e.kernels?.perNode?.values() ?? [])].map((t) => t.family)));
    expect([...families].sort()).toEqual(['conv-shared', 'conv2d', 'depthwise', 'grouped', 'pointwise', 'stem']);
  });

  it("gives SwiftShader's kernels no short-circuit && or || to compile (allOf, anyOf: shaders/common.ts)", () => {
    // Every program the software default, its upgrade and the register-tile tuner tiles give 80 fuzzed convs; the
    // workgroup-memory families (conv-shared), which only GPUs default to, keep theirs.
    const shortCircuit = new Set<string>();
    let programs = 0;
    const entries = convFuzzEntries(5, 80).filter((e) => ![...(e.kernels?.perNode?.values() ?? [])].some((t) => t.family === 'conv-shared'));
    for (const e of entries) {
      if (e.kernels === GPU_KERNEL_CHOICE) continue;
      const kernels = e.kernels ?? DEFAULT_KERNEL_CHOICE;
      for (const step of lowerGraph(optimizeForKernels(buildCase(e.case).graph, kernels), kernels)) {
        programs++;
        if (/&&|\|\|/.test(step.program.code.replace(/\/\/[^\n]*/g, ''))) shortCircuit.add(step.program.key);
      }
    }
    expect(programs).toBeGreaterThan(200);
    expect([...shortCircuit]).toEqual([]);
  });

  it("routes CI's shapes to every software kernel: stems walking and not, depthwise, grouped row form, wrapped tiles", () => {
    const kernels = new Set<string>();
    for (const c of fuzzedConvs(CI_FUZZ_SEED, CI_FUZZ_SHAPES)) {
      for (const choice of [DEFAULT_KERNEL_CHOICE, SOFTWARE_UPGRADE_KERNELS]) {
        for (const step of lowerGraph(optimizeForKernels(buildCase(c).graph, choice), choice)) kernels.add(step.program.key.split('/')[0] + (step.program.key.includes('/walk') ? '/walk' : ''));
      }
    }
    for (const k of ['pointwise', 'conv2d', 'conv-stem', 'conv-stem/walk', 'depthwise-rolling', 'grouped', 'grouped-rows']) expect(kernels, k).toContain(k);
  });
});

describe('the block shape fuzzer', () => {
  it('draws the same blocks for the same seed', () => {
    expect(fuzzedBlocks(1, 20)).toEqual(fuzzedBlocks(1, 20));
    expect(fuzzedBlocks(2, 20)).not.toEqual(fuzzedBlocks(1, 20));
  });

  it('draws blocks the fused kernel takes: one block each, with a variant', () => {
    for (const b of fuzzedBlocks(3, 100)) {
      const { graph } = buildCase(b);
      const blocks = findInvertedResidualBlocks(optimizeForKernels(graph, DEFAULT_KERNEL_CHOICE));
      expect(blocks).toHaveLength(1);
      expect(blockVariant(blocks[0])).not.toBeNull();
    }
  });

  it("reaches expansion 1, squeeze-and-excitation, residuals, stride 2, 5x5, batch 2 and f16 within CI's blocks", () => {
    const blocks = fuzzedBlocks(CI_FUZZ_SEED, CI_FUZZ_BLOCKS);
    const has = (what: string, test: (b: (typeof blocks)[number]) => boolean) => expect(blocks.some(test), what).toBe(true);
    has('no expand', (b) => !b.expand);
    has('an SE', (b) => b.se !== undefined);
    has('a residual', (b) => b.residual);
    has('stride 2', (b) => b.stride === 2);
    has('a 5x5 window', (b) => b.kernel === 5);
    has('batch 2', (b) => b.n === 2);
    has('f16-packed', (b) => b.precision === 'f16-packed');
  });

  it('asks the fused choices to run the fused kernel', () => {
    const entries = blockFuzzEntries(4, 3);
    expect(entries).toHaveLength(3 * FUZZ_BLOCK_CHOICES.length);
    expect(entries.map((e) => e.kernel)).toEqual(Array.from({ length: 3 }, () => FUZZ_BLOCK_CHOICES.map((c) => (c.fused ? 'inverted-residual/t' : undefined))).flat());
  });
});

