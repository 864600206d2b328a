import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../graph/builder.ts';
import { optimizeGraph } from '../graph/passes/index.ts';
import { lowerGraph } from '../runtime/lowering.ts';
import { decodeTimestamps, observedResolutionMs } from '../gpu/profiler.ts';
import {
  buildNetworkRow,
  buildStepRows,
  derivedFigures,
  describeStepShape,
  inferenceBytes,
  networkRoofline,
  roofTime,
  withRoofs,
  median,
  medianLabel,
  nodesByName,
  roofAboveKernels,
  stepTraffic,
  summarize,
  timeByKernel,
  upperMedian,
} from './figures.ts';
import { bandwidthRoofText, computeRoofText, formatNumber, formatRoofline, formatRowsTable, textTable } from './report.ts';
import type { Peaks } from './timing.ts';

const fill = (n: number, v = 0.1) => new Float32Array(n).fill(v);

/**
 * input 8x4x4 -> conv 3x3 p1 8->16 (+bias, relu) -> depthwise 3x3/2 -> 1x1 16->16 + residual -> gap -> fc 16->10;
 * optimized, gap + flatten + fc are one launch (fusePoolLinear).
 */
function smallNet() {
  const b = new GraphBuilder();
  const x = b.input('input', [1, 8, 4, 4]);
  const c1 = b.conv2d(x, { outChannels: 16, kernel: 3, padding: 1, weight: fill(16 * 8 * 9), bias: fill(16), activation: { kind: 'relu' } }, 'conv');
  const dw = b.conv2d(c1, { outChannels: 16, kernel: 3, stride: 2, padding: 1, groups: 16, weight: fill(16 * 9), bias: null }, 'dw');
  const pw = b.conv2d(dw, { outChannels: 16, kernel: 1, weight: fill(16 * 16), bias: fill(16) }, 'pw');
  const sum = b.add(pw, dw, 'add');
  const g = b.globalAvgPool(sum, 'gap');
  const f = b.flatten(g, 'flatten');
  b.output(b.linear(f, { outFeatures: 10, weight: fill(10 * 16), bias: fill(10) }, 'fc'));
  const graph = optimizeGraph(b.build());
  return { graph, steps: lowerGraph(graph) };
}

describe('statistics', () => {
  it('median, min, max and mean', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
    expect(summarize([5, 1, 4, 2, 3])).toEqual({ medianMs: 3, minMs: 1, maxMs: 5, meanMs: 3, samples: 5 });
    expect(summarize([]).samples).toBe(0);
    expect(summarize([]).medianMs).toBeNaN();
  });
});

describe('derived figures', () => {
  it('GFLOP/s = 2 MACs / time, GB/s = bytes / time, intensity = FLOPs / byte', () => {
    const f = derivedFigures(1e9, 1e8, 10);
    expect(f.gflops).toBeCloseTo(200, 9);
    expect(f.gbps).toBeCloseTo(10, 9);
    expect(f.intensity).toBeCloseTo(20, 9);
    expect(derivedFigures(0, 1000, 1).gflops).toBe(0);
    expect(derivedFigures(10, 10, 0).gflops).toBeNaN();
  });

  it('traffic and shape of known steps, at logical sizes', () => {
    const { graph, steps } = smallNet();
    const nodes = nodesByName(graph);
    expect(steps.map((s) => `${s.label}:${s.kind}`)).toEqual([
      'pack input 0:layout', 'conv:conv2d', 'dw:depthwise', 'pw:pointwise', 'fc:linear', 'unpack output 0:layout',
    ]);
    const [pack, conv, dw, pw, fc] = steps;

    expect(conv.macs).toBe(4 * 4 * 16 * 8 * 9);
    expect(stepTraffic(graph, conv, nodes.get('conv'))).toEqual({
      inputBytes: 8 * 16 * 4,
      weightBytes: (16 * 8 * 9 + 16) * 4,
      outputBytes: 16 * 16 * 4,
      bytes: 8 * 16 * 4 + (16 * 8 * 9 + 16) * 4 + 16 * 16 * 4,
    });
    expect(describeStepShape(graph, conv, nodes.get('conv'))).toBe('8x4x4 -> 16x4x4 3x3');

    // Depthwise without bias: only its 16x9 weights count (the packed constants are padded and carry a zero bias).
    expect(stepTraffic(graph, dw, nodes.get('dw')).weightBytes).toBe(16 * 9 * 4);
    expect(describeStepShape(graph, dw, nodes.get('dw'))).toBe('16x4x4 -> 16x2x2 3x3/2');

    // The residual add fused into the pointwise conv is read too.
    expect(stepTraffic(graph, pw, nodes.get('pw')).inputBytes).toBe(2 * 16 * 4 * 4);
    expect(describeStepShape(graph, pw, nodes.get('pw'))).toBe('16x2x2 -> 16x2x2 1x1 +res');

    // The fused head reads the 16x2x2 map (the pooled vector never goes through memory).
    expect(fc.macs).toBe(16 * 10);
    expect(stepTraffic(graph, fc, nodes.get('fc'))).toEqual({
      inputBytes: 16 * 4 * 4,
      weightBytes: (160 + 10) * 4,
      outputBytes: 10 * 4,
      bytes: 16 * 4 * 4 + (160 + 10) * 4 + 10 * 4,
    });
    expect(describeStepShape(graph, fc, nodes.get('fc'))).toBe('16x2x2 -> 10x1x1');
    expect(stepTraffic(graph, pack).bytes).toBe(2 * 8 * 16 * 4);
  });
});

describe('rows', () => {
  it('one row per step with derived figures and shares', () => {
    const { graph, steps } = smallNet();
    const samples = steps.map((_, i) => [i + 1, 2 * (i + 1), 3 * (i + 1)]);
    const rows = buildStepRows('tiny', graph, steps, samples, 'timestamp');
    expect(rows).toHaveLength(steps.length);
    expect(rows.map((r) => r.layer)).toEqual(steps.map((s) => s.label));
    const total = steps.reduce((s, _, i) => s + 2 * (i + 1), 0);
    rows.forEach((r, i) => {
      expect(r.network).toBe('tiny');
      expect(r.index).toBe(i);
      expect(r.medianMs).toBe(2 * (i + 1));
      expect(r.minMs).toBe(i + 1);
      expect(r.maxMs).toBe(3 * (i + 1));
      expect(r.share).toBeCloseTo((2 * (i + 1)) / total, 12);
      expect(r.gflops).toBeCloseTo((2 * steps[i].macs) / (r.medianMs * 1e6), 9);
      expect(r.gbps).toBeCloseTo(r.bytes / (r.medianMs * 1e6), 9);
      expect(r.timer).toBe('timestamp');
    });
    expect(rows.reduce((s, r) => s + r.share, 0)).toBeCloseTo(1, 12);
    const conv = rows[1];
    expect(conv.kernel).toBe('conv2d');
    expect(conv.intensity).toBeCloseTo((2 * conv.macs) / conv.bytes, 12);
    expect(timeByKernel(rows)).toEqual({ layout: 2 + 12, conv2d: 4, depthwise: 6, pointwise: 8, linear: 10 });
  });

  it('a median under the timer resolution falls back to the mean, flagged', () => {
    const { graph, steps } = smallNet();
    const samples = steps.map(() => [0, 0, 0.3]);
    const rows = buildStepRows('tiny', graph, steps, samples, 'timestamp');
    expect(rows[0].medianMs).toBeCloseTo(0.1, 12);
    expect(rows[0].belowResolution).toBe(true);
    expect(buildStepRows('tiny', graph, steps, steps.map(() => [1]), 'wall')[0].belowResolution).toBe(false);
    expect(() => buildStepRows('tiny', graph, steps, [[1]], 'wall')).toThrow(RangeError);
  });

  it('the whole-network row sums MACs and counts inputs, outputs and weights once', () => {
    const { graph, steps } = smallNet();
    const row = buildNetworkRow('tiny', graph, steps, [2, 4, 3], 'wall');
    expect(row.index).toBe(-1);
    expect(row.kernel).toBe('network');
    expect(row.medianMs).toBe(3);
    expect(row.macs).toBe(steps.reduce((s, x) => s + x.macs, 0));
    const weights = (16 * 8 * 9 + 16 + 16 * 9 + 16 * 16 + 16 + 160 + 10) * 4;
    expect(row.weightBytes).toBe(weights);
    expect(row.bytes).toBe(8 * 16 * 4 + weights + 10 * 4);
    expect(row.shape).toBe('8x4x4 -> 10x1x1');
  });
});

describe('profiler decoding', () => {
  it('durations per pair and the smallest nonzero timestamp step', () => {
    const raw = new BigUint64Array([1_000_000n, 3_000_000n, 3_000_000n, 3_500_000n, 9_000_000n, 8_000_000n]);
    const { durationsMs, timestampsNs } = decodeTimestamps(raw, 3);
    expect([...durationsMs]).toEqual([2, 0.5, 0]);
    expect([...timestampsNs]).toEqual([0, 2e6, 2e6, 2.5e6, 8e6, 7e6]);
    expect(observedResolutionMs(timestampsNs)).toBeCloseTo(0.5, 12);
    expect(observedResolutionMs([5, 5])).toBe(Infinity);
  });
});

describe('report', () => {
  it('formats numbers and tables', () => {
    expect(formatNumber(1234.5)).toBe('1235');
    expect(formatNumber(12.345)).toBe('12.35');
    expect(formatNumber(0.5)).toBe('0.500');
    expect(formatNumber(NaN)).toBe('-');
    expect(textTable(['a', 'n'], [['xx', '1'], ['y', '22']], ['l', 'r'])).toBe('a    n\n--  --\nxx   1\ny   22');
    const { graph, steps } = smallNet();
    const rows = buildStepRows('tiny', graph, steps, steps.map(() => [1]), 'timestamp');
    const text = formatRowsTable(rows);
    expect(text.split('\n')).toHaveLength(rows.length + 2);
    expect(text).toContain('8x4x4 -> 16x4x4 3x3');
  });

  it('says what set each roof, and keeps copyBufferToBuffer apart from the roofs', () => {
    const gemm = { shape: '256x28x28 -> 256x28x28', macs: 51e6, medianMs: 28, gflops: 3.64 };
    const copy = { bytes: 8 * 2 ** 20, kernelMs: 6.4, kernelGbps: 2.6, copyBufferMs: 0.35, copyBufferGbps: 48 };
    const probes: Peaks = { gflops: 3.64, gbps: 2.6, gflopsKernel: null, gbpsKernel: null, gemm, gemms: [gemm], copy };
    expect(computeRoofText(probes)).toBe('3.64 GFLOP/s (pointwise GEMM probe 256x28x28 -> 256x28x28)');
    expect(bandwidthRoofText(probes)).toBe('2.60 GB/s (copy kernel over 8.0 MiB); copyBufferToBuffer 48.0 GB/s, not a roof (a DMA copy, no kernel)');
    const kernel = { network: 'resnet50', layer: 'layer3.0.conv1' };
    const raised: Peaks = { ...probes, gflops: 4.53, gflopsKernel: kernel, gbps: 3.1, gbpsKernel: kernel };
    const titles = new Map([['resnet50', 'ResNet-50 224']]);
    expect(computeRoofText(raised, titles)).toBe('4.53 GFLOP/s (fastest kernel, ResNet-50 224 layer3.0.conv1; the pointwise GEMM probe 256x28x28 -> 256x28x28 reached 3.64)');
    expect(bandwidthRoofText(raised, titles)).toMatch(/^3\.10 GB\/s \(fastest kernel, ResNet-50 224 layer3\.0\.conv1; the copy kernel over 8\.0 MiB reached 2\.60\)/);
  });
});

describe('upperMedian', () => {
  it('is the middle sample, the later of the two middle ones for an even count', () => {
    expect(upperMedian([3, 1, 2])).toBe(2);
    expect(upperMedian([4, 1, 3, 2])).toBe(3);
    expect(upperMedian([5])).toBe(5);
    expect(upperMedian([])).toBeNaN();
  });
});

describe('roofs and labels', () => {
  it('a roof rises to the fastest plotted kernel that beat the probe, and names it', () => {
    const { graph, steps } = smallNet();
    const rows = buildStepRows('tiny', graph, steps, steps.map(() => [1e-3]), 'timestamp');
    const plotted = rows.filter((r) => r.macs > 0);
    const fastest = plotted.reduce((a, b) => (b.gflops > a.gflops ? b : a));
    const widest = plotted.reduce((a, b) => (b.gbps > a.gbps ? b : a));
    expect(roofAboveKernels(fastest.gflops / 2, rows, 'gflops')).toEqual({ value: fastest.gflops, kernel: { network: 'tiny', layer: fastest.layer } });
    expect(roofAboveKernels(widest.gbps / 2, rows, 'gbps')).toEqual({ value: widest.gbps, kernel: { network: 'tiny', layer: widest.layer } });
    expect(roofAboveKernels(fastest.gflops * 2, rows, 'gflops')).toEqual({ value: fastest.gflops * 2, kernel: null });
    // The whole-network row, steps without MACs and medians under the timer's resolution set no roof.
    const network = buildNetworkRow('tiny', graph, steps, [1e-9], 'timestamp');
    const noise = rows.map((r) => ({ ...r, belowResolution: true, gflops: 1e9, gbps: 1e9 }));
    expect(roofAboveKernels(1, [network, ...noise], 'gflops')).toEqual({ value: 1, kernel: null });
  });

  it('a dilated conv, whose FLOPs count padding taps a kernel may skip, never raises the compute roof', () => {
    const { graph, steps } = smallNet();
    const rows = buildStepRows('tiny', graph, steps, steps.map(() => [1e-3]), 'timestamp');
    const plotted = rows.filter((r) => r.macs > 0);
    const fastest = plotted.reduce((a, b) => (b.gflops > a.gflops ? b : a));
    const marked = rows.map((r) => (r === fastest ? { ...r, dilated: true } : r));
    const next = plotted.filter((r) => r !== fastest).reduce((a, b) => (b.gflops > a.gflops ? b : a), { gflops: 0, layer: '' });
    expect(roofAboveKernels(0, marked, 'gflops').value).toBe(next.gflops);
    expect(roofAboveKernels(0, marked, 'gflops').kernel?.layer).not.toBe(fastest.layer);
    // Its bytes are what they are: it may still set the bandwidth roof.
    expect(roofAboveKernels(0, marked, 'gbps')).toEqual(roofAboveKernels(0, rows, 'gbps'));
  });

  it('labels the median of two samples as their mean', () => {
    expect(median([2179, 2243])).toBe(2211);
    expect(medianLabel(2)).toBe('mean of 2 runs (their median)');
    expect(medianLabel(20)).toBe('median of 20 runs');
    expect(medianLabel(1)).toBe('1 run');
  });
});

describe('roofline efficiency', () => {
  it("a kernel's roofline time is the longer of FLOPs at the compute roof and bytes at the bandwidth roof", () => {
    // 10 GFLOP/s, 5 GB/s: 2e6 FLOP take 0.2 ms, 4e6 bytes 0.8 ms.
    expect(roofTime(2e6, 4e6, { gflops: 10, gbps: 5 })).toEqual({ ms: 0.8, bound: 'bandwidth' });
    expect(roofTime(2e7, 4e6, { gflops: 10, gbps: 5 })).toEqual({ ms: 2, bound: 'compute' });
    expect(roofTime(0, 4e6, { gflops: 10, gbps: 5 }).bound).toBe('bandwidth');
    expect(roofTime(2e6, 4e6, { gflops: 0, gbps: 5 })).toEqual({ ms: NaN, bound: null });
  });

  it('per network and per kernel family: sum of roofline times over sum of medians, bounds counted', () => {
    const { graph, steps } = smallNet();
    const rows = [...buildStepRows('tiny', graph, steps, steps.map((_, i) => [i + 1]), 'timestamp'), buildNetworkRow('tiny', graph, steps, [1], 'timestamp')];
    const roofs = { gflops: 0.001, gbps: 0.002 };
    const rated = withRoofs(rows, roofs);
    const stepRows = rated.filter((r) => r.index >= 0);
    const expected = stepRows.map((r) => Math.max(r.flops / (roofs.gflops * 1e6), r.bytes / (roofs.gbps * 1e6)));
    stepRows.forEach((r, i) => {
      expect(r.roofMs).toBeCloseTo(expected[i], 12);
      expect(r.bound).toBe(r.flops / roofs.gflops >= r.bytes / roofs.gbps ? 'compute' : 'bandwidth');
    });
    expect(rated.find((r) => r.index < 0)!.bound).toBeNull();
    const r = networkRoofline(rated, roofs);
    const measured = steps.reduce((sum, _, i) => sum + i + 1, 0);
    expect(r.measuredMs).toBe(measured);
    expect(r.roofMs).toBeCloseTo(expected.reduce((a, b) => a + b, 0), 12);
    expect(r.efficiency).toBeCloseTo(r.roofMs / measured, 12);
    expect(r.kernels).toBe(steps.length);
    expect(r.computeBound + r.bandwidthBound).toBe(steps.length);
    expect(Object.keys(r.byKernel).sort()).toEqual(['conv2d', 'depthwise', 'layout', 'linear', 'pointwise']);
    const layout = r.byKernel.layout;
    expect(layout.kernels).toBe(2);
    expect(layout.measuredMs).toBe(1 + steps.length);
    expect(layout.bandwidthBound).toBe(2); // no FLOPs
    expect(layout.efficiency).toBeCloseTo(layout.roofMs / layout.measuredMs, 12);
    expect(Object.values(r.byKernel).reduce((a, f) => a + f.roofMs, 0)).toBeCloseTo(r.roofMs, 12);
    expect(formatRoofline(r)).toMatch(/^roofline efficiency \d\.\d\d \(roofline .* ms\)\n  by kernel: /);
    expect(formatRowsTable(rated).split('\n')[0]).toMatch(/roof ms\s+bound$/);
  });

  it('bytes moved per inference: every launch reads and writes its activations, the weights count once', () => {
    const { graph, steps } = smallNet();
    const bytes = inferenceBytes(graph, steps);
    const weights = (16 * 8 * 9 + 16 + 16 * 9 + 16 * 16 + 16 + 160 + 10) * 4;
    expect(bytes.weightBytes).toBe(weights);
    // pack (in 8x4x4 read, written), conv (8x4x4 -> 16x4x4), dw (16x4x4 -> 16x2x2), pw (16x2x2 + residual 16x2x2
    // -> 16x2x2), fused pool + fc (16x2x2 -> 10), unpack (10 read, written).
    const a = (c: number, hw: number) => c * hw * 4;
    const expected = 2 * a(8, 16) + a(8, 16) + a(16, 16) + a(16, 16) + a(16, 4) + 3 * a(16, 4) + a(16, 4) + a(10, 1) + 2 * a(10, 1);
    expect(bytes.activationBytes).toBe(expected);
    expect(bytes.bytes).toBe(expected + weights);
  });
});
