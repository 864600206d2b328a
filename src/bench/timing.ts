/**
 * Per-kernel timing suite, DOM-free so that the timing page (`demo/timing.html`), `npm run bench` in headless
 * Chromium and `npm run bench -- --runtime node` (Dawn) all run the same code.
 *
 * Each network is compiled once (random weights); every step of it (one layer at its real shape) is timed on
 * the GPU with one timestamp pair per dispatch: a batch is one inference recorded with one compute pass per
 * dispatch, resolved and read back once. The whole network is timed as it runs in production (one pass),
 * bracketed by two empty timestamp passes. Without `timestamp-query`, each step is submitted alone and timed
 * by wall clock around `queue.onSubmittedWorkDone()` (`timer: 'wall'`). Microbenchmarks (a large pointwise GEMM
 * and a copy kernel) give the roofline's roofs, raised to the fastest measured kernel where one beats them.
 */
import { GpuError, UnsupportedFeatureError } from '../errors.ts';
import { elementCount } from '../graph/ir.ts';
import { GraphBuilder } from '../graph/builder.ts';
import type { StoragePrecision } from '../../shaders/common.ts';
import type { CompileTimings } from '../runtime/compile-options.ts';
import { compileModel, dispatchGrid, resolvePrecision } from '../runtime/compile.ts';
import { CompiledModel } from '../runtime/compiled-model.ts';
import { deviceAdapterInfo } from '../gpu/device.ts';
import { GpuProfiler, observedResolutionMs } from '../gpu/profiler.ts';
import { Rng } from '../util/random.ts';
import type { InferenceBytes, KernelRef, NetworkRoofline, TimerKind, TimingRow } from './figures.ts';
import { buildNetworkRow, buildStepRows, inferenceBytes, networkRoofline, roofAboveKernels, summarize, timeByKernel, withRoofs } from './figures.ts';

import type { ModelFileReader, NetworkId, NetworkSpec } from './networks.ts';
import { NO_MODEL_FILES, selectNetworks } from './networks.ts';

export type { ModelFileReader, NetworkId, NetworkSpec } from './networks.ts';
export { DEEPLABV3_FILE, NETWORKS, NETWORK_IDS, defaultNetworkIds } from './networks.ts';

export interface TimingSettings {
  /** Untimed whole inferences before the timed ones (per network), and untimed batches per microbenchmark (at least 1). */
  readonly warmups: number;
  /** Untimed one-pass-per-dispatch batches before the per-step ones (the whole-network runs come first). */
  readonly stepWarmups: number;
  /** Timed batches: samples per step and per whole network. */
  readonly repeats: number;
  /** Repetitions of a microbenchmark per batch, and timed batches (after `warmups`) per microbenchmark. */
  readonly microRepeats: number;
  readonly microBatches: number;
  /**
   * GEMM microbenchmarks: 1x1 convs of `channels` -> `channels` over `size` x `size`; the best is the peak (a
   * large problem suits a GPU, a cache-sized one a CPU-backed adapter).
   */
  readonly gemm: readonly { readonly channels: number; readonly size: number }[];
  /** Copy microbenchmarks: bytes copied. */
  readonly copyBytes: number;
}

export const FULL_SETTINGS: TimingSettings = {
  warmups: 3,
  stepWarmups: 1,
  repeats: 20,
  microRepeats: 10,
  microBatches: 5,
  gemm: [
    { channels: 1024, size: 28 },
    { channels: 512, size: 56 },
    { channels: 2048, size: 14 },
  ],
  copyBytes: 64 * 2 ** 20,
};

/**
 * Fast enough for the software adapter (SwiftShader): one warm-up inference, then two timed whole inferences and
 * two timed per-step batches per network, small microbenchmarks.
 */
export const QUICK_SETTINGS: TimingSettings = {
  warmups: 1,
  stepWarmups: 0,
  repeats: 2,
  microRepeats: 3,
  microBatches: 2,
  gemm: [
    { channels: 256, size: 28 },
    { channels: 512, size: 7 },
  ],
  copyBytes: 8 * 2 ** 20,
};

export interface TimingProgress {
  readonly message: string;
  /** 0..1 over the whole suite. */
  readonly fraction: number;
}

export interface TimingOptions {
  /** QUICK_SETTINGS instead of FULL_SETTINGS. */
  readonly quick?: boolean;
  /** Overrides of the chosen settings. */
  readonly settings?: Partial<TimingSettings>;
  /** Default: `defaultNetworkIds(quick)` (every network in a full run; DeepLabV3 only when named in a quick one). */
  readonly networks?: readonly NetworkId[];
  /** Reads the model files of networks that come from one (DeepLabV3); required when such a network runs. */
  readonly readModelFile?: ModelFileReader;
  /** More networks to time after `networks` (e.g. an ONNX file's graph), ids distinct from those. */
  readonly extraNetworks?: readonly NetworkSpec[];
  /** `auto` (default): timestamps when the device has `timestamp-query`, else wall clock. */
  readonly timer?: 'auto' | TimerKind;
  /** Skip the peak microbenchmarks (the roofline then has no roofs). */
  readonly peaks?: boolean;
  /**
   * Storage precision of the networks (`compile`'s option, default f32; the peak microbenchmarks stay f32).
   * Traffic figures (GB/s, intensity) keep counting fp32 sizes.
   */
  readonly precision?: StoragePrecision | 'auto';
  /** What to report about the adapter; defaults to `describeDevice(device)`. */
  readonly adapter?: AdapterDescription;
  readonly onProgress?: (p: TimingProgress) => void;
}

export interface AdapterDescription {
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
  readonly features: readonly string[];
  readonly limits: Readonly<Record<string, number>>;
  /** Where the figures came from, e.g. a user agent or `node (Dawn)`. */
  readonly runtime?: string;
}

export interface GemmFigure {
  readonly shape: string;
  readonly macs: number;
  readonly medianMs: number;
  readonly gflops: number;
}

export interface Peaks {
  /**
   * The roofline's flat roof: the best GEMM probe, or the fastest measured kernel where one beat it
   * (`gflopsKernel`), so that no kernel plots above its roof.
   */
  readonly gflops: number;
  /**
   * The roofline's slope: the copy kernel's bandwidth (what a kernel can reach; `copyBufferToBuffer` is a DMA
   * copy kernels cannot use), or the fastest measured kernel's where one beat it (`gbpsKernel`).
   */
  readonly gbps: number;
  /** The kernels that set the roofs; null where the probe did. */
  readonly gflopsKernel: KernelRef | null;
  readonly gbpsKernel: KernelRef | null;
  /** The best GEMM, and every one tried. */
  readonly gemm: GemmFigure;
  readonly gemms: readonly GemmFigure[];
  readonly copy: {
    readonly bytes: number;
    /** A vec4 copy kernel (read + write = 2 x bytes). */
    readonly kernelMs: number;
    readonly kernelGbps: number;
    /** `copyBufferToBuffer` (read + write = 2 x bytes). */
    readonly copyBufferMs: number;
    readonly copyBufferGbps: number;
  };
}

export interface NetworkSummary {
  readonly network: string;
  readonly title: string;
  readonly inputShape: readonly number[];
  readonly dispatches: number;
  readonly macs: number;
  readonly weightBytes: number;
  readonly compileMs: number;
  /** `compileMs` phase by phase. */
  readonly compileTimings?: CompileTimings;
  /**
   * The tiered compile's second tier (`CompileOptions.upgrade`), compiled before any timing so that the figures
   * are those of a model run in a loop: milliseconds from the call to the swap, or null without an upgrade.
   */
  readonly upgradeMs?: number | null;
  /** Whole inference, one compute pass: median / min / max over the timed runs. */
  readonly inferenceMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  /**
   * Sum of the per-step medians. Measured apart from `inferenceMs` (one pass per dispatch against one pass for
   * the whole inference, other runs, other samples), so either can be the larger.
   */
  readonly sumOfStepsMs: number;
  /** Median wall time from submit to `onSubmittedWorkDone` of a whole inference (includes submit overhead). */
  readonly latencyMs: number;
  readonly gflops: number;
  /** Sum of step medians per kernel kind. */
  readonly byKernel: Readonly<Record<string, number>>;
  /** 2 x multiply-adds of one inference. */
  readonly flops: number;
  /** Bytes one inference moves as planned: activations read and written by every launch, and the weights. */
  readonly bytesMoved: InferenceBytes;
  /**
   * Roofline efficiency at the suite's roofs (the roofline chart's): sum over the kernels of max(FLOP / compute
   * roof, bytes / bandwidth roof) over the sum of their medians, whole and per kernel family; null without roofs.
   */
  readonly roofline: NetworkRoofline | null;
}

export interface TimingSuiteResult {
  readonly version: 1;
  readonly date: string;
  readonly quick: boolean;
  readonly timer: TimerKind;
  /** Storage precision the networks ran at ('auto' resolved). */
  readonly precision: StoragePrecision;
  /** Smallest nonzero step between timestamps seen (or of `performance.now()` for the wall timer), in ms. */
  readonly timerResolutionMs: number;
  readonly settings: TimingSettings;
  readonly adapter: AdapterDescription;
  readonly peaks: Peaks | null;
  readonly networks: readonly NetworkSummary[];
  readonly rows: readonly TimingRow[];
  readonly durationMs: number;
}

const LIMIT_NAMES = [
  'maxBufferSize', 'maxStorageBufferBindingSize', 'maxUniformBufferBindingSize', 'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY', 'maxComputeWorkgroupSizeZ', 'maxComputeWorkgroupsPerDimension', 'maxBindGroups',
  'maxBindingsPerBindGroup', 'minStorageBufferOffsetAlignment', 'minUniformBufferOffsetAlignment',
];

/** Limits as a plain object (the named ones, plus whatever the implementation enumerates). */
export function limitsRecord(limits: GPUSupportedLimits): Record<string, number> {
  const out: Record<string, number> = {};
  const names = new Set(LIMIT_NAMES);
  for (const k in limits) names.add(k);
  for (const k of [...names].sort()) {
    const v = (limits as unknown as Record<string, unknown>)[k];
    if (typeof v === 'number') out[k] = v;
  }
  return out;
}

/** An adapter's identity, features and limits (what it offers, not what a device asked for). */
export function describeAdapter(adapter: GPUAdapter, runtime?: string): AdapterDescription {
  const info = adapter.info;
  return {
    vendor: info?.vendor ?? '',
    architecture: info?.architecture ?? '',
    device: info?.device ?? '',
    description: info?.description ?? '',
    features: [...adapter.features].sort(),
    limits: limitsRecord(adapter.limits),
    runtime,
  };
}

/** The same from a device alone (its features and limits are those it was created with). */
export function describeDevice(device: GPUDevice, runtime?: string): AdapterDescription {
  const info = deviceAdapterInfo(device);
  return {
    vendor: info?.vendor ?? '',
    architecture: info?.architecture ?? '',
    device: info?.device ?? '',
    description: info?.description ?? '',
    features: [...device.features].sort(),
    limits: limitsRecord(device.limits),
    runtime,
  };
}

/** Smallest nonzero step of `performance.now()`: the wall timer's resolution, in ms. */
export function wallClockResolutionMs(): number {
  let best = Infinity;
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    let t1 = t0;
    for (let spins = 0; t1 === t0 && spins < 1e7; spins++) t1 = performance.now();
    if (t1 > t0) best = Math.min(best, t1 - t0);
  }
  return best;
}

/** Keeps the smallest nonzero timestamp step seen over every batch. */
class ResolutionTracker {
  value = Infinity;
  add(timestampsNs: ArrayLike<number>): void {
    this.value = Math.min(this.value, observedResolutionMs(timestampsNs));
  }
}

interface Ctx {
  readonly device: GPUDevice;
  readonly timer: TimerKind;
  readonly precision: StoragePrecision;
  readonly settings: TimingSettings;
  readonly resolution: ResolutionTracker;
}

async function submitAndWait(device: GPUDevice, encoder: GPUCommandEncoder): Promise<number> {
  const t0 = performance.now();
  device.queue.submit([encoder.finish()]);
  await device.queue.onSubmittedWorkDone();
  return performance.now() - t0;
}

/** Samples per step: `repeats` batches of one inference with a timestamp pair around each dispatch. */
async function timeSteps(ctx: Ctx, model: CompiledModel, profiler: GpuProfiler | null): Promise<number[][]> {
  const { device, settings } = ctx;
  const n = model.dispatchCount;
  const samples: number[][] = model.steps.map(() => []);
  for (let r = 0; r < settings.stepWarmups + settings.repeats; r++) {
    const timed = r >= settings.stepWarmups;
    if (profiler) {
      const encoder = device.createCommandEncoder({ label: 'timing: steps' });
      model.encode(encoder, (i) => profiler.timestampWrites(i));
      profiler.resolve(encoder, n);
      device.queue.submit([encoder.finish()]);
      const out = await profiler.read(n);
      if (!timed) continue;
      out.durationsMs.forEach((ms, i) => samples[i].push(ms));
      ctx.resolution.add(out.timestampsNs);
    } else {
      // No timestamps: each dispatch alone, in order, timed from submit to done.
      for (let i = 0; i < n; i++) {
        const encoder = device.createCommandEncoder({ label: `timing: step ${i}` });
        model.encodeStep(encoder, i);
        const ms = await submitAndWait(device, encoder);
        if (timed) samples[i].push(ms);
      }
    }
  }
  return samples;
}

/** Whole inferences (one compute pass, as `run` records it): GPU samples and wall-clock latencies. */
async function timeWhole(ctx: Ctx, model: CompiledModel, profiler: GpuProfiler | null): Promise<{ gpu: number[]; wall: number[] }> {
  const { device, settings } = ctx;
  const gpu: number[] = [];
  const wall: number[] = [];
  for (let r = 0; r < settings.warmups + settings.repeats; r++) {
    const encoder = device.createCommandEncoder({ label: 'timing: whole network' });
    profiler?.mark(encoder, 0, 'begin');
    model.encode(encoder);
    if (profiler) {
      profiler.mark(encoder, 0, 'end');
      profiler.resolve(encoder, 1);
    }
    const ms = await submitAndWait(device, encoder);
    const out = profiler ? await profiler.read(1) : null;
    if (r < settings.warmups) continue;
    wall.push(ms);
    gpu.push(out ? out.durationsMs[0] : ms);
    if (out) ctx.resolution.add(out.timestampsNs);
  }
  return { gpu, wall };
}

/** Times `record` (one op per call) `microRepeats` times per batch; returns per-op samples. */
async function timeMicro(ctx: Ctx, record: (encoder: GPUCommandEncoder, timestamps: GPUProfilerSlot | null) => void): Promise<number[]> {
  const { device, settings } = ctx;
  const k = settings.microRepeats;
  const profiler = ctx.timer === 'timestamp' ? new GpuProfiler(device, k) : null;
  const samples: number[] = [];
  // At least one untimed batch, even with `warmups: 0`: a probe's first batch can include pipeline and memory
  // warm-up, which would pull a peak down.
  const warmups = Math.max(1, settings.warmups);
  try {
    for (let r = 0; r < warmups + settings.microBatches; r++) {
      const encoder = device.createCommandEncoder({ label: 'timing: microbenchmark' });
      for (let i = 0; i < k; i++) record(encoder, profiler ? { profiler, index: i } : null);
      if (profiler) profiler.resolve(encoder, k);
      const ms = await submitAndWait(device, encoder);
      if (profiler) {
        const out = await profiler.read(k);
        if (r >= warmups) {
          samples.push(...out.durationsMs);
          ctx.resolution.add(out.timestampsNs);
        }
      } else if (r >= warmups) {
        samples.push(ms / k);
      }
    }
  } finally {
    profiler?.destroy();
  }
  return samples;
}

interface GPUProfilerSlot {
  readonly profiler: GpuProfiler;
  readonly index: number;
}

const COPY_WGSL = /* wgsl */ `
@group(0) @binding(0) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4<f32>>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = gid.x + gid.y * groups.x * 256u;
  if (i < arrayLength(&src)) {
    dst[i] = src[i];
  }
}`;

async function measurePeaks(ctx: Ctx, progress: (message: string) => void): Promise<Peaks> {
  const { device, settings } = ctx;

  // Compute: the pointwise (1x1 conv) GEMM kernel on square problems.
  const gemms: GemmFigure[] = [];
  for (const { channels: C, size: S } of settings.gemm) {
    progress(`peak compute: pointwise GEMM ${C}x${S}x${S} -> ${C}`);
    const b = new GraphBuilder();
    const x = b.input('x', [1, C, S, S]);
    const rng = new Rng(7);
    b.output(b.conv2d(x, { outChannels: C, kernel: 1, weight: rng.fill(C * C, -0.05, 0.05), bias: null }, 'gemm'));
    const model = await compileModel(device, b.build());
    try {
      // The kernel the networks run once upgraded (tiered compilation), not the first tier's.
      await model.whenUpgraded();
      model.writeInputs([rng.fill(C * S * S, -1, 1)]);
      const index = model.steps.findIndex((s) => s.kind === 'pointwise');
      const macs = model.steps[index].macs;
      const samples = await timeMicro(ctx, (encoder, slot) =>
        model.encodeStep(encoder, index, slot ? slot.profiler.timestampWrites(slot.index) : undefined),
      );
      const ms = summarize(samples).medianMs;
      gemms.push({ shape: `${C}x${S}x${S} -> ${C}x${S}x${S}`, macs, medianMs: ms, gflops: (2 * macs) / (ms * 1e6) });
    } finally {
      model.dispose();
    }
  }
  const gemm = gemms.reduce((a, b) => (b.gflops > a.gflops ? b : a));

  // Bandwidth: a vec4 copy kernel and copyBufferToBuffer over `copyBytes`.
  const bytes = settings.copyBytes;
  progress(`peak bandwidth: copy ${(bytes / 2 ** 20).toFixed(0)} MiB`);
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  const src = device.createBuffer({ label: 'copy bench src', size: bytes, usage });
  const dst = device.createBuffer({ label: 'copy bench dst', size: bytes, usage });
  try {
    const module = device.createShaderModule({ label: 'copy bench', code: COPY_WGSL });
    const pipeline = await device.createComputePipelineAsync({ label: 'copy bench', layout: 'auto', compute: { module, entryPoint: 'main' } });
    const bindGroup = device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: src } },
        { binding: 1, resource: { buffer: dst } },
      ],
    });
    const [gx, gy] = dispatchGrid(Math.ceil(bytes / 16 / 256));
    const kernelSamples = await timeMicro(ctx, (encoder, slot) => {
      const pass = encoder.beginComputePass({ timestampWrites: slot ? slot.profiler.timestampWrites(slot.index) : undefined });
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(gx, gy);
      pass.end();
    });
    const copySamples = await timeMicro(ctx, (encoder, slot) => {
      if (slot) slot.profiler.mark(encoder, slot.index, 'begin');
      encoder.copyBufferToBuffer(src, 0, dst, 0, bytes);
      if (slot) slot.profiler.mark(encoder, slot.index, 'end');
    });
    const kernelMs = summarize(kernelSamples).medianMs;
    const copyBufferMs = summarize(copySamples).medianMs;
    const kernelGbps = (2 * bytes) / (kernelMs * 1e6);
    const copyBufferGbps = (2 * bytes) / (copyBufferMs * 1e6);
    const copy = { bytes, kernelMs, kernelGbps, copyBufferMs, copyBufferGbps };
    // The probes' roofs; runTimingSuite raises them to any kernel that beats them.
    return { gflops: gemm.gflops, gbps: kernelGbps, gflopsKernel: null, gbpsKernel: null, gemm, gemms, copy };
  } finally {
    src.destroy();
    dst.destroy();
  }
}

async function timeNetwork(ctx: Ctx, spec: NetworkSpec, readFile: ModelFileReader, progress: (message: string) => void): Promise<{ rows: TimingRow[]; summary: NetworkSummary }> {
  const { device, timer } = ctx;
  progress(`${spec.title}: ${spec.file ? `reading ${spec.file}` : 'building'} and compiling`);
  const graph = await spec.build(readFile);
  const t0 = performance.now();
  const model = await compileModel(device, graph, { precision: ctx.precision });
  const compileMs = performance.now() - t0;
  let upgradeMs: number | null = null;
  if (model.upgrade.state === 'waiting') {
    progress(`${spec.title}: compiling the upgrade's kernels`);
    const t1 = performance.now();
    if (await model.whenUpgraded()) upgradeMs = performance.now() - t1;
  }
  const profiler = timer === 'timestamp' ? new GpuProfiler(device, model.dispatchCount) : null;
  try {
    const inputShape = model.inputs[0].shape;
    model.writeInputs([new Rng(3).fill(elementCount(inputShape), -1, 1)]);
    progress(`${spec.title}: whole network`);
    const whole = await timeWhole(ctx, model, profiler);
    progress(`${spec.title}: ${model.dispatchCount} dispatches one by one`);
    const perStep = await timeSteps(ctx, model, profiler);
    const stepRows = buildStepRows(spec.id, model.graph, model.steps, perStep, timer);
    const networkRow = buildNetworkRow(spec.id, model.graph, model.steps, whole.gpu, timer);
    const summary: NetworkSummary = {
      network: spec.id,
      title: spec.title,
      inputShape: [...inputShape],
      dispatches: model.dispatchCount,
      macs: networkRow.macs,
      weightBytes: networkRow.weightBytes,
      compileMs,
      compileTimings: model.compileTimings,
      upgradeMs,
      inferenceMs: networkRow.medianMs,
      minMs: networkRow.minMs,
      maxMs: networkRow.maxMs,
      sumOfStepsMs: stepRows.reduce((s, r) => s + r.medianMs, 0),
      latencyMs: summarize(whole.wall).medianMs,
      gflops: networkRow.gflops,
      byKernel: timeByKernel(stepRows),
      flops: networkRow.flops,
      bytesMoved: inferenceBytes(model.graph, model.steps),
      roofline: null,
    };
    return { rows: [...stepRows, networkRow], summary };
  } finally {
    profiler?.destroy();
    model.dispose();
  }
}

/** Runs the microbenchmarks and every selected network; see the module comment. */
export async function runTimingSuite(device: GPUDevice, options: TimingOptions = {}): Promise<TimingSuiteResult> {
  const started = performance.now();
  const quick = options.quick ?? false;
  const settings: TimingSettings = { ...(quick ? QUICK_SETTINGS : FULL_SETTINGS), ...options.settings };
  const wanted = options.timer ?? 'auto';
  const hasTimestamps = GpuProfiler.supported(device);
  if (wanted === 'timestamp' && !hasTimestamps) throw new UnsupportedFeatureError('timer "timestamp" asked for, but the device lacks timestamp-query');
  const timer: TimerKind = wanted === 'auto' ? (hasTimestamps ? 'timestamp' : 'wall') : wanted;
  const networks: NetworkSpec[] = [...selectNetworks(options.networks, quick, options.readModelFile), ...(options.extraNetworks ?? [])];
  const readFile = options.readModelFile ?? NO_MODEL_FILES;
  const precision = resolvePrecision(device, options.precision);
  const ctx: Ctx = { device, timer, precision, settings, resolution: new ResolutionTracker() };

  const stages = networks.length + (options.peaks === false ? 0 : 1);
  let stage = 0;
  const progress = (message: string) => options.onProgress?.({ message, fraction: Math.min(1, stage / stages) });

  device.pushErrorScope('validation');
  let peaks: Peaks | null = null;
  const rows: TimingRow[] = [];
  const summaries: NetworkSummary[] = [];
  try {
    if (options.peaks !== false) {
      peaks = await measurePeaks(ctx, progress);
      stage++;
    }
    for (const spec of networks) {
      const { rows: r, summary } = await timeNetwork(ctx, spec, readFile, progress);
      rows.push(...r);
      summaries.push(summary);
      stage++;
    }
  } finally {
    const error = await device.popErrorScope();
    if (error) throw new GpuError(`GPU validation error while timing: ${error.message.split('\n')[0]}`);
  }
  if (peaks) {
    const compute = roofAboveKernels(peaks.gflops, rows, 'gflops');
    const bandwidth = roofAboveKernels(peaks.gbps, rows, 'gbps');
    peaks = { ...peaks, gflops: compute.value, gflopsKernel: compute.kernel, gbps: bandwidth.value, gbpsKernel: bandwidth.kernel };
  }
  // Roofline times and efficiency at the final roofs, the ones the roofline chart draws.
  const roofs = peaks;
  const rated = withRoofs(rows, roofs);
  const rooflined = summaries.map((s) => ({ ...s, roofline: roofs ? networkRoofline(rated.filter((r) => r.network === s.network), roofs) : null }));
  progress('done');
  return {
    version: 1,
    date: new Date().toISOString(),
    quick,
    timer,
    precision,
    timerResolutionMs: timer === 'timestamp' ? ctx.resolution.value : wallClockResolutionMs(),
    settings,
    adapter: options.adapter ?? describeDevice(device),
    peaks,
    networks: rooflined,
    rows: rated,
    durationMs: performance.now() - started,
  };
}
