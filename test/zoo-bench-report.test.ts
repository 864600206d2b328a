import { describe, expect, it } from 'vitest';
import type { Graph, GraphNode, Shape4 } from '../src/graph/ir.ts';
import type { Step } from '../src/runtime/step.ts';
import { formatFusions, summarizeFusions } from '../bench/peers/fusions.ts';
import type { EngineResult, NetworkResult, PeersResult } from '../bench/peers/protocol.ts';
import type { ZooFacts } from '../bench/peers/zoo-report.ts';
import { DOC_BEGIN, DOC_END, formatZooReport, replaceGenerated } from '../bench/peers/zoo-report.ts';

const shape: Shape4 = [1, 8, 4, 4];
const tensors = Array.from({ length: 8 }, (_, id) => ({ id, name: `t${id}`, shape }));
const conv = (name: string, input: number, output: number, extra: Record<string, unknown> = {}, inputs = [input]): GraphNode =>
  ({
    op: 'conv2d',
    name,
    inputs,
    output,
    attrs: {
      outChannels: 8, kernel: [1, 1], stride: [1, 1], pads: [0, 0, 0, 0], dilation: [1, 1], groups: 1,
      weight: new Float32Array(64), bias: null, activation: { kind: 'relu' }, ...extra,
    },
  }) as GraphNode;

describe('summarizeFusions', () => {
  // Loaded: conv, batchNorm, relu, conv, concat, mul. Compiled: the BN folded and the relu fused into the first
  // conv, the second conv with a residual add and an attribute this file does not know, a free concat, a mul.
  const loaded: Graph = {
    tensors,
    inputs: [0],
    outputs: [7],
    nodes: [
      conv('a', 0, 1, { activation: { kind: 'none' } }),
      { op: 'batchNorm', name: 'bn', inputs: [1], output: 2, attrs: { gamma: new Float32Array(8), beta: new Float32Array(8), mean: new Float32Array(8), variance: new Float32Array(8), epsilon: 1e-5 } },
      { op: 'activation', name: 'relu', inputs: [2], output: 3, attrs: { activation: { kind: 'relu' } } },
      conv('b', 3, 4, { activation: { kind: 'none' } }),
      { op: 'concat', name: 'cat', inputs: [3, 4], output: 5, attrs: {} },
      { op: 'binary', name: 'mul', inputs: [5, 0], output: 7, attrs: { op: 'mul', activation: { kind: 'none' } } },
    ],
  };
  const compiled: Graph = {
    tensors,
    inputs: [0],
    outputs: [7],
    nodes: [
      conv('a', 0, 3),
      conv('b', 3, 4, { activation: { kind: 'function', name: 'hard-swish', params: [] }, inputScale: 6 }, [3, 0]),
      loaded.nodes[4],
      loaded.nodes[5],
    ],
  };
  const step = (kind: Step['kind'], node?: number) => ({ kind, node }) as unknown as Step;
  const steps = [step('layout'), step('pointwise', 3), step('pointwise', 4), step('elementwise', 7), step('layout')];

  it('counts launches, removed ops, epilogues (unknown attributes by name), free nodes and own passes', () => {
    const f = summarizeFusions(loaded, compiled, steps);
    expect(f).toEqual({
      loadedNodes: 6,
      compiledNodes: 4,
      launches: 5,
      launchesByKind: { layout: 2, pointwise: 2, elementwise: 1 },
      removed: { batchNorm: 1, activation: 1 },
      epilogues: { relu: 1, 'hard-swish': 1, 'residual add': 1, 'conv2d.inputScale': 1 },
      free: { concat: 1 },
      ownPasses: { 'binary mul': 1 },
    });
    expect(formatFusions(f)).toBe(
      '6 nodes loaded, 4 after the passes, 5 launches (layout 2, pointwise 2, elementwise 1). Removed by the passes: activation 1, ' +
        'batchNorm 1. In epilogues: conv2d.inputScale 1, hard-swish 1, relu 1, residual add 1. Free (no launch): concat 1. ' +
        'Own passes besides conv/linear: binary mul 1.',
    );
  });
});

describe('formatZooReport', () => {
  const row = (engine: EngineResult['engine'], label: string, medianMs: number, coldMs: number, dispatchesPerRun: number, extra: Partial<EngineResult> = {}): EngineResult => ({
    engine, label, webgpu: true, timesMs: [medianMs], medianMs, minMs: medianMs, maxMs: medianMs,
    cold: { totalMs: coldMs, prepareMs: coldMs / 2, firstRunMs: coldMs / 2 }, dispatchesPerRun, ...extra,
  });
  const network: NetworkResult = {
    network: 'zoo', title: 'googlenet 160', inputShape: [1, 3, 160, 160], outputSize: 1000, parameters: 0, macs: 0.77e9,
    onnxBytes: 1, warmups: 1, rounds: 3,
    engines: [
      row('webcnn', 'webcnn', 100, 1000, 70, {
        details: { activationPeakBytes: String(2 * 2 ** 20), activationUnplannedBytes: String(9 * 2 ** 20), weightBytes: String(26 * 2 ** 20) },
      }),
      { ...row('ort-jsep', 'ORT JSEP', NaN, NaN, 0), error: 'ceil_mode is not\n implemented', dispatchesPerRun: undefined },
      row('ort-webgpu', 'ORT native', 250, 4000, 90, { logits: { maxAbsDiff: 1e-6, relDiff: 1e-6, refMaxAbs: 1, top1Agrees: true, finite: true } }),
      // Fast and wrong: left out of the ratios.
      { ...row('ort-webgpu', 'ORT wrong', 1, 1, 90), logits: { maxAbsDiff: 1, relDiff: 1, refMaxAbs: 1, top1Agrees: false, finite: true } },
    ],
  };
  const result: PeersResult = {
    version: 1, date: '2026-12-07T08:30:00.000Z', phase: 'both', runtime: 'ua', adapter: null, seed: 1,
    versions: { 'onnxruntime-web': '1.30.0' }, networks: [network], durationMs: 60_000,
  };
  const facts = new Map<string, ZooFacts>([['googlenet 160', { model: 'googlenet', family: 'GoogLeNet', task: 'classification', side: 160, onnxNodes: 200, onnxOps: { Conv: 57, Relu: 57 } }]]);

  it('one table row per network with ratios to the faster ORT build, memory, dispatches, errors and fusions', () => {
    const text = formatZooReport(result, facts, { browser: 'Chromium 156', notes: ['Machine: busy.'] });
    expect(text).toContain('Measured 2026-12-07 08:29-08:30 UTC (1.0 min).');
    expect(text).toContain('Machine: busy.');
    expect(text).toContain('| googlenet | 160 | 0.77 | 100 | error | 250 | 0.40 (over) | 1000 | 4000 | 0.25 | 2.0 (9.0) | 26.0 | 70 / error / 90 | 200 |');
    expect(text).toContain('- googlenet 160, ORT JSEP: ceil_mode is not implemented');
    expect(text).toContain("- googlenet 160, ORT wrong: output differs from webcnn's by 1.00e+0 (max |webcnn| 1.00e+0): left out of the ratios");
    expect(text).toContain('- **googlenet** (ONNX: 200 nodes: Conv 57, Relu 57). webcnn did not run it.');
  });
});

describe('replaceGenerated', () => {
  it('replaces what lies between the markers and keeps the rest', () => {
    const doc = `# Title\n\nprose\n\n${DOC_BEGIN}\n\nold table\n\n${DOC_END}\n\nmore prose\n`;
    expect(replaceGenerated(doc, 'new table\n')).toBe(`# Title\n\nprose\n\n${DOC_BEGIN}\n\nnew table\n\n${DOC_END}\n\nmore prose\n`);
    expect(() => replaceGenerated('# no markers', 'x')).toThrow('has no');
  });
});
