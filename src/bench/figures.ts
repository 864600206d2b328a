/**
 * The pure half of the timing suite: statistics over samples, the traffic and work of a lowered step, derived
 * figures (GFLOP/s, GB/s, arithmetic intensity, share) and result rows. No GPU, no DOM.
 */
import type { Graph, GraphNode, Shape4 } from '../graph/ir.ts';
import { convResidual, elementCount } from '../graph/ir.ts';
import type { BufferRef, Step } from '../runtime/step.ts';

export type TimerKind = 'timestamp' | 'wall';

export interface Summary {
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly meanMs: number;
  readonly samples: number;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * The upper median: the middle sample, the later of the two for an even count (a sample that was measured,
 * never an average of two), as the A/B scripts report.
 */
export function upperMedian(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  return [...values].sort((a, b) => a - b)[values.length >> 1];
}

export function summarize(samplesMs: readonly number[]): Summary {
  if (samplesMs.length === 0) return { medianMs: NaN, minMs: NaN, maxMs: NaN, meanMs: NaN, samples: 0 };
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const v of samplesMs) {
    min = Math.min(min, v);
    max = Math.max(max, v);
    sum += v;
  }
  return { medianMs: median(samplesMs), minMs: min, maxMs: max, meanMs: sum / samplesMs.length, samples: samplesMs.length };
}

/** Minimum bytes a launch must move: each input and output once, each weight once (fp32, logical shapes). */
export interface Traffic {
  readonly inputBytes: number;
  readonly weightBytes: number;
  readonly outputBytes: number;
  readonly bytes: number;
}

function refShape(graph: Graph, ref: BufferRef): Shape4 | null {
  switch (ref.kind) {
    case 'tensor':
      return graph.tensors[ref.id].shape;
    case 'rawInput':
      return graph.tensors[graph.inputs[ref.index]].shape;
    case 'rawOutput':
      return graph.tensors[graph.outputs[ref.index]].shape;
    case 'constant':
    case 'scratch':
      return null;
  }
}

/** Graph nodes by name, to find the node a step was lowered from (`step.label`). */
export function nodesByName(graph: Graph): Map<string, GraphNode> {
  return new Map(graph.nodes.map((n) => [n.name, n]));
}

/** Logical parameter values of a conv / linear node (weights plus bias, if any). */
function logicalParamCount(node: GraphNode | undefined): number | null {
  if (!node || (node.op !== 'conv2d' && node.op !== 'linear')) return null;
  return node.attrs.weight.length + (node.attrs.bias?.length ?? 0);
}

/**
 * Logical parameters of a launch that computes several nodes (a fused inverted-residual block: `step.fused` and
 * the node it is labelled with), or null when one of them is not a conv / linear node or a global pool.
 */
function fusedParamCount(graph: Graph, step: Step, node: GraphNode | undefined): number | null {
  const names = new Set(step.fused);
  // A fused SE gate launch also computes the pool in front of fc1, which has no parameters.
  const counts = [node, ...graph.nodes.filter((n) => names.has(n.name))].map((n) => (n?.op === 'globalAvgPool' ? 0 : logicalParamCount(n)));
  return counts.every((c) => c !== null) ? counts.reduce((a, b) => a! + b!, 0) : null;
}

/**
 * Traffic of a step from its buffers: tensors at their logical NCHW size (not the padded NHWC4 storage), split-K
 * partial sums at their f32 size, weights at their logical size when the step reads the weights of a conv /
 * linear node (the packed, padded constants otherwise: a split-K reduce launch reads the bias only).
 */
export function stepTraffic(graph: Graph, step: Step, node?: GraphNode): Traffic {
  let inputBytes = 0;
  let outputBytes = 0;
  let constantBytes = 0;
  const written = new Set(step.program.bindings.filter((b) => b.kind === 'write').map((b) => b.name));
  for (const [name, ref] of Object.entries(step.buffers)) {
    if (ref.kind === 'constant') {
      constantBytes += ref.byteLength;
      continue;
    }
    const bytes = ref.kind === 'scratch' ? ref.byteLength : elementCount(refShape(graph, ref)!) * 4;
    if (written.has(name)) outputBytes += bytes;
    else inputBytes += bytes;
  }
  const params = 'weight' in step.buffers ? logicalParamCount(node) : step.fused ? fusedParamCount(graph, step, node) : null;
  const weightBytes = params === null ? constantBytes : params * 4;
  return { inputBytes, weightBytes, outputBytes, bytes: inputBytes + weightBytes + outputBytes };
}

function dims(shape: Shape4): string {
  const [n, c, h, w] = shape;
  return n === 1 ? `${c}x${h}x${w}` : `${n}x${c}x${h}x${w}`;
}

/**
 * `32x112x112 -> 16x112x112 3x3/2` style: input (first activation) -> output, and the window for convs and pools;
 * the launches of a split-K conv show the node's shapes and `split-K N` (partial sums) or `split-K N reduce`.
 */
export function describeStepShape(graph: Graph, step: Step, node?: GraphNode): string {
  const inRef = step.buffers.src ?? step.buffers.a;
  const outRef = step.buffers.dst;
  const parts: string[] = [];
  const inShape = (inRef ? refShape(graph, inRef) : null) ?? (node ? graph.tensors[node.inputs[0]].shape : null);
  const outShape = (outRef ? refShape(graph, outRef) : null) ?? (node ? graph.tensors[node.output].shape : null);
  parts.push(`${inShape ? dims(inShape) : '?'} -> ${outShape ? dims(outShape) : '?'}`);
  if (node && (node.op === 'conv2d' || node.op === 'maxPool' || node.op === 'avgPool')) {
    const [kh, kw] = node.attrs.kernel;
    const [sy, sx] = node.attrs.stride;
    parts.push(`${kh}x${kw}${sy === sx ? (sy > 1 ? `/${sy}` : '') : `/${sy},${sx}`}`);
    if (node.op === 'conv2d' && node.attrs.groups > 1 && step.kind !== 'depthwise') parts.push(`g${node.attrs.groups}`);
    if (node.op === 'conv2d') {
      const [dy, dx] = node.attrs.dilation;
      if (dy > 1 || dx > 1) parts.push(dy === dx ? `d${dy}` : `d${dy},${dx}`);
    }
  }
  if (node && node.op === 'conv2d' && convResidual(node) !== undefined) parts.push('+res');
  if (node && node.op === 'conv2d' && node.attrs.input) parts.push(`+in-${node.attrs.input.kind}`);
  const partial = step.buffers.partial;
  if (partial?.kind === 'scratch') parts.push(`split-K ${step.uniforms.slices}${outRef ? ' reduce' : ''}`);
  return parts.join(' ');
}

export interface DerivedFigures {
  readonly gflops: number;
  readonly gbps: number;
  /** FLOPs per byte of minimum traffic. */
  readonly intensity: number;
}

/** GFLOP/s = 2 * MACs / time, GB/s = bytes / time (1 GB = 1e9 bytes), intensity = 2 * MACs / bytes. */
export function derivedFigures(macs: number, bytes: number, ms: number): DerivedFigures {
  const flops = 2 * macs;
  const seconds = ms / 1e3;
  return {
    gflops: ms > 0 ? flops / seconds / 1e9 : NaN,
    gbps: ms > 0 ? bytes / seconds / 1e9 : NaN,
    intensity: bytes > 0 ? flops / bytes : NaN,
  };
}

export interface TimingRow extends Summary, DerivedFigures {
  /** Network id, e.g. `mobilenet_v2`. */
  readonly network: string;
  /** The layer (graph node) name, or `whole network`. */
  readonly layer: string;
  /** Kernel kind: pointwise, depthwise, conv2d, pool, linear, layout, ... or `network` for the whole network. */
  readonly kernel: string;
  /** The WGSL program's cache key (kernel variant). */
  readonly program: string;
  readonly shape: string;
  /** Index of the step in `CompiledModel.steps`; -1 for the whole network. */
  readonly index: number;
  readonly macs: number;
  readonly flops: number;
  readonly bytes: number;
  readonly inputBytes: number;
  readonly weightBytes: number;
  readonly outputBytes: number;
  /** Fraction of the sum of the network's step medians (1 for the whole-network row). */
  readonly share: number;
  readonly timer: TimerKind;
  /** The median was 0 at the timer's resolution, so `medianMs` holds the mean of the samples instead. */
  readonly belowResolution: boolean;
  /**
   * A dilated convolution: its FLOPs count every tap, but most of a large dilation's taps fall on the padding and
   * a kernel may skip them (the conv2d wrapped tile does), so its GFLOP/s can exceed what any kernel computes.
   */
  readonly dilated?: boolean;
  /** Roofline time at the suite's roofs, ms (`roofTime`); NaN on the whole-network row or without roofs. */
  readonly roofMs?: number;
  /** The roof that bounds the step; null on the whole-network row or without roofs. */
  readonly bound?: Bound | null;
}

/** A row's time: the median, or the mean when most samples fell under the timer's resolution (median 0). */
function robust(summary: Summary): { summary: Summary; belowResolution: boolean } {
  if (summary.medianMs > 0 || !(summary.meanMs > 0)) return { summary, belowResolution: false };
  return { summary: { ...summary, medianMs: summary.meanMs }, belowResolution: true };
}

/** One row per step, from per-step samples (`samples[i]` = the times measured for `steps[i]`). */
export function buildStepRows(
  network: string,
  graph: Graph,
  steps: readonly Step[],
  samples: readonly (readonly number[])[],
  timer: TimerKind,
): TimingRow[] {
  if (samples.length !== steps.length) throw new RangeError(`${steps.length} steps but ${samples.length} sample lists`);
  const nodes = nodesByName(graph);
  const partial = steps.map((step, index) => {
    const node = nodes.get(step.label);
    const traffic = stepTraffic(graph, step, node);
    const { summary, belowResolution } = robust(summarize(samples[index]));
    return { step, index, node, traffic, summary, belowResolution };
  });
  const total = partial.reduce((s, p) => s + (Number.isFinite(p.summary.medianMs) ? p.summary.medianMs : 0), 0);
  return partial.map(({ step, index, node, traffic, summary, belowResolution }) => ({
    network,
    layer: step.label,
    kernel: step.kind,
    program: step.program.key,
    shape: describeStepShape(graph, step, node),
    index,
    ...summary,
    macs: step.macs,
    flops: 2 * step.macs,
    ...traffic,
    ...derivedFigures(step.macs, traffic.bytes, summary.medianMs),
    share: total > 0 ? summary.medianMs / total : NaN,
    timer,
    belowResolution,
    ...(node?.op === 'conv2d' && (node.attrs.dilation[0] > 1 || node.attrs.dilation[1] > 1) ? { dilated: true } : {}),
  }));
}

/**
 * Minimum traffic of a whole inference: the graph's inputs and outputs and every weight, once (a node lowered to
 * several launches counts its logical weights and bias once, with the launch that reads its weights).
 */
export function networkTraffic(graph: Graph, steps: readonly Step[]): Traffic {
  const nodes = nodesByName(graph);
  const inputBytes = graph.inputs.reduce((s, id) => s + elementCount(graph.tensors[id].shape) * 4, 0);
  const outputBytes = graph.outputs.reduce((s, id) => s + elementCount(graph.tensors[id].shape) * 4, 0);
  const counted = new Set<string>();
  const weightBytes = steps.reduce((s, step) => {
    const node = nodes.get(step.label);
    if (node && logicalParamCount(node) !== null) {
      // A fused launch's other nodes (step.fused) count with it; a node lowered to several launches once.
      return [node.name, ...(step.fused ?? [])].reduce((sum, name) => {
        if (counted.has(name)) return sum;
        counted.add(name);
        return sum + (logicalParamCount(nodes.get(name)) ?? 0) * 4;
      }, s);
    }
    return s + stepTraffic(graph, step, node).weightBytes;
  }, 0);
  return { inputBytes, weightBytes, outputBytes, bytes: inputBytes + weightBytes + outputBytes };
}

/** The whole-network row: one inference in one compute pass. */
export function buildNetworkRow(
  network: string,
  graph: Graph,
  steps: readonly Step[],
  samples: readonly number[],
  timer: TimerKind,
): TimingRow {
  const macs = steps.reduce((s, step) => s + step.macs, 0);
  const traffic = networkTraffic(graph, steps);
  const { summary, belowResolution } = robust(summarize(samples));
  const [input] = graph.inputs.map((id) => graph.tensors[id].shape);
  const [output] = graph.outputs.map((id) => graph.tensors[id].shape);
  return {
    network,
    layer: 'whole network',
    kernel: 'network',
    program: `${steps.length} dispatches`,
    shape: `${input ? dims(input) : '?'} -> ${output ? dims(output) : '?'}`,
    index: -1,
    ...summary,
    macs,
    flops: 2 * macs,
    ...traffic,
    ...derivedFigures(macs, traffic.bytes, summary.medianMs),
    share: 1,
    timer,
    belowResolution,
  };
}

/** Median time per kernel kind over a network's step rows (the whole-network row is skipped). */
export function timeByKernel(rows: readonly TimingRow[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rows) {
    if (r.index < 0) continue;
    out[r.kernel] = (out[r.kernel] ?? 0) + r.medianMs;
  }
  return out;
}

/**
 * What a row's "median" is, for labels: the median of two samples is their mean, and of one the sample itself,
 * so quick runs (2 samples) say so.
 */
export function medianLabel(samples: number): string {
  if (samples >= 3) return `median of ${samples} runs`;
  return samples === 2 ? 'mean of 2 runs (their median)' : samples === 1 ? '1 run' : 'no runs';
}

/** A kernel named by its network and layer. */
export interface KernelRef {
  readonly network: string;
  readonly layer: string;
}

/**
 * A roofline roof that no plotted kernel rises above: the microbenchmark's figure, or the fastest kernel's where
 * one beat it (a probe that suits the adapter less than some layer does, as on SwiftShader, would otherwise draw
 * a "peak" under measured points). Plotted kernels: steps with multiply-adds whose median is above the timer's
 * resolution. Dilated convs never raise the compute roof: their FLOPs count the padding taps a kernel may skip.
 * `kernel` is null when the probe set the roof.
 */
export function roofAboveKernels(probe: number, rows: readonly TimingRow[], figure: 'gflops' | 'gbps'): { value: number; kernel: KernelRef | null } {
  let value = Number.isFinite(probe) && probe > 0 ? probe : 0;
  let kernel: KernelRef | null = null;
  for (const r of rows) {
    if (r.index < 0 || !(r.macs > 0) || r.belowResolution || !Number.isFinite(r[figure])) continue;
    if (figure === 'gflops' && r.dilated) continue;
    if (r[figure] > value) {
      value = r[figure];
      kernel = { network: r.network, layer: r.layer };
    }
  }
  return { value, kernel };
}

/** The roof that bounds a kernel: its FLOPs at the compute roof, or its bytes at the bandwidth roof, the longer. */
export type Bound = 'compute' | 'bandwidth';

/** The roofs of a roofline: GFLOP/s and GB/s (1 G = 1e9). */
export interface Roofs {
  readonly gflops: number;
  readonly gbps: number;
}

/**
 * A kernel's roofline time: max(FLOP / compute roof, bytes / bandwidth roof) in ms, and which roof gives it
 * (compute on a tie). NaN and null where a roof is missing.
 */
export function roofTime(flops: number, bytes: number, roofs: Roofs): { ms: number; bound: Bound | null } {
  if (!(roofs.gflops > 0) || !(roofs.gbps > 0)) return { ms: NaN, bound: null };
  const computeMs = flops / (roofs.gflops * 1e6);
  const bandwidthMs = bytes / (roofs.gbps * 1e6);
  return computeMs >= bandwidthMs ? { ms: computeMs, bound: 'compute' } : { ms: bandwidthMs, bound: 'bandwidth' };
}

/** Roofline efficiency of a set of kernels: the sum of their roofline times over the sum of their medians. */
export interface RooflineFigure {
  /** Sum over the kernels of their roofline times, ms. */
  readonly roofMs: number;
  /** Sum of their medians, ms. */
  readonly measuredMs: number;
  /** `roofMs / measuredMs` (1 = every kernel at its roof). */
  readonly efficiency: number;
  readonly kernels: number;
  /** How many kernels each roof bounds. */
  readonly computeBound: number;
  readonly bandwidthBound: number;
}

/** A network's roofline efficiency, whole and per kernel family (`TimingRow.kernel`). */
export interface NetworkRoofline extends RooflineFigure {
  readonly byKernel: Readonly<Record<string, RooflineFigure>>;
}

function rooflineFigure(rows: readonly TimingRow[], roofs: Roofs): RooflineFigure {
  let roofMs = 0;
  let measuredMs = 0;
  let computeBound = 0;
  let bandwidthBound = 0;
  for (const r of rows) {
    const t = roofTime(r.flops, r.bytes, roofs);
    roofMs += t.ms;
    measuredMs += Number.isFinite(r.medianMs) ? r.medianMs : 0;
    if (t.bound === 'compute') computeBound++;
    else if (t.bound === 'bandwidth') bandwidthBound++;
  }
  return { roofMs, measuredMs, efficiency: measuredMs > 0 ? roofMs / measuredMs : NaN, kernels: rows.length, computeBound, bandwidthBound };
}

/** Roofline efficiency of one network's step rows (the whole-network row is skipped), whole and per kernel family. */
export function networkRoofline(rows: readonly TimingRow[], roofs: Roofs): NetworkRoofline {
  const steps = rows.filter((r) => r.index >= 0);
  const families = new Map<string, TimingRow[]>();
  for (const r of steps) families.set(r.kernel, [...(families.get(r.kernel) ?? []), r]);
  const byKernel: Record<string, RooflineFigure> = {};
  for (const [kernel, list] of families) byKernel[kernel] = rooflineFigure(list, roofs);
  return { ...rooflineFigure(steps, roofs), byKernel };
}

/** Each row with its roofline time and bound (NaN / null on the whole-network row and without roofs). */
export function withRoofs(rows: readonly TimingRow[], roofs: Roofs | null): TimingRow[] {
  return rows.map((r) => {
    const t = r.index >= 0 && roofs ? roofTime(r.flops, r.bytes, roofs) : { ms: NaN, bound: null };
    return { ...r, roofMs: t.ms, bound: t.bound };
  });
}

/**
 * Bytes one inference moves as the plan runs it: every launch's activation reads and writes (tensors at their
 * logical fp32 size, split-K partial sums at theirs), and every weight once.
 */
export interface InferenceBytes {
  readonly activationBytes: number;
  readonly weightBytes: number;
  readonly bytes: number;
}

export function inferenceBytes(graph: Graph, steps: readonly Step[]): InferenceBytes {
  const nodes = nodesByName(graph);
  const activationBytes = steps.reduce((s, step) => {
    const t = stepTraffic(graph, step, nodes.get(step.label));
    return s + t.inputBytes + t.outputBytes;
  }, 0);
  const { weightBytes } = networkTraffic(graph, steps);
  return { activationBytes, weightBytes, bytes: activationBytes + weightBytes };
}
