/**
 * The peer benchmark's measuring protocol, DOM-free so that the page (`bench/peers.html`, every engine) and
 * `npm run bench:peers -- --runtime node` (webcnn alone, through Dawn) run the same code.
 *
 * - Model: the builder graph (`mobilenetV2` / `resnet50`, `randomParams(seed)`), exported to ONNX bytes once;
 *   every engine starts from the same bytes (webcnn, ONNX Runtime Web) or from the same graph after
 *   `optimizeGraph` (TF.js, which has no ONNX loader: BN folded into weights and biases). Input: one seeded
 *   NCHW float32 tensor.
 * - Cold start: from the model in memory (and the engine's JS loaded) to the first output read back in JS:
 *   device / backend / wasm initialization, model loading, pipeline compilation and the first inference.
 *   Meant to run in a fresh page per engine (the script does that) so that no cache helps. Before the first
 *   cold start, `primeGpu` uses the GPU once, so that the first engine does not pay the others' share of the
 *   GPU stack's first use in the process (driver, shader compiler and device initialization).
 * - Warm: every engine is set up in one page, runs `warmups` untimed inferences, then `rounds` interleaved
 *   rounds (A, B, C, A, B, C, ...), each inference timed from input upload to output read back in JS.
 *   Medians with min and max.
 * - Agreement: each engine's logits against webcnn's (max |difference|, and relative to max |webcnn logit|).
 */
import type { Graph } from '../../src/graph/ir.ts';
import { elementCount } from '../../src/graph/ir.ts';
import { optimizeGraph } from '../../src/graph/passes/index.ts';
import { exportOnnx } from '../../src/formats/onnx/export.ts';
import { mobilenetV2 } from '../../src/models/mobilenet-v2.ts';
import { resnet50 } from '../../src/models/resnet.ts';
import { randomParams } from '../../src/models/params.ts';
import { Rng } from '../../src/util/random.ts';
import type { AdapterDescription } from '../../src/bench/timing.ts';
import type { ZooNetwork } from './zoo-network.ts';
import { zooTitle } from './zoo-network.ts';

/** The builder networks, and `zoo`: a torchvision ONNX file from the zoo harness (`NetworkRequest.zoo`). */
export type NetworkId = 'mobilenetv2' | 'resnet50' | 'zoo';
/** The builder networks (`--networks`). */
export const NETWORK_IDS: readonly NetworkId[] = ['mobilenetv2', 'resnet50'];

export type EngineId = 'webcnn' | 'ort-jsep' | 'ort-webgpu' | 'tfjs-webgpu' | 'tfjs-wasm';
/** Interleaving order of a round. */
export const ENGINE_IDS: readonly EngineId[] = ['webcnn', 'ort-jsep', 'ort-webgpu', 'tfjs-webgpu', 'tfjs-wasm'];

/** One network to measure, with its own repeat counts (ResNet-50 takes fewer). */
export interface NetworkRequest {
  readonly network: NetworkId;
  /** Untimed inferences per engine after set-up (whose first inference is untimed too). */
  readonly warmups: number;
  /** Interleaved timed rounds: one inference per engine each. */
  readonly rounds: number;
  /** MobileNetV2 only: torchvision `width_mult` (default 1; tests use 0.35). */
  readonly widthMultiplier?: number;
  /** Square input side (default 224; tests use 96). */
  readonly inputSize?: number;
  /** `zoo` only: which exported file the page fetches (`bench/peers/zoo-model.ts`). */
  readonly zoo?: ZooNetwork;
}

export interface PeersOptions {
  /**
   * `cold`: one cold start per engine and network in this page (the script opens a fresh page per engine);
   * `warm`: set-up, warm-ups and interleaved rounds of every engine in this page; `both`: cold, then warm, in
   * this page (tests).
   */
  readonly phase?: 'cold' | 'warm' | 'both';
  readonly networks: readonly NetworkRequest[];
  /** Default: every engine the runtime has, in `ENGINE_IDS` order. */
  readonly engines?: readonly EngineId[];
  /** Weights seed (`randomParams`); the input uses `seed + 1`. Default 1. */
  readonly seed?: number;
}

export interface PeerModel {
  readonly network: NetworkId;
  readonly title: string;
  /** The builder graph (unfused), what the ONNX bytes hold. */
  readonly graph: Graph;
  /** `optimizeGraph(graph)`: folded weights for engines that build the network themselves (TF.js). */
  readonly folded: Graph;
  readonly onnx: Uint8Array;
  readonly inputShape: readonly [number, number, number, number];
  readonly outputSize: number;
  readonly input: Float32Array;
  /** Parameters (builder graph weights and biases, BN statistics included) and MACs of the folded graph. */
  readonly parameters: number;
  readonly macs: number;
}

/** One engine as the protocol drives it. */
export interface PeerEngine {
  readonly id: EngineId;
  readonly label: string;
  /** Counts as a WebGPU peer for the ratios (false: the CPU reference column). */
  readonly webgpu: boolean;
  /** From the model in memory to ready to run: device or backend init, loading, compilation. */
  prepare(model: PeerModel): Promise<void>;
  /**
   * Called once after set-up and before the warm-ups, outside every timer: an engine that finishes optimizing in
   * the background (webcnn's tiered compile) gets there, so that the rounds time it as it runs in a loop.
   */
  settle?(): Promise<void>;
  /** Called before each timed inference, outside the timer (e.g. TF.js switches its global backend). */
  activate?(): Promise<void>;
  /** NCHW float32 in, first output read back in JS (NCHW element order). */
  run(input: Float32Array): Promise<Float32Array>;
  /** GPU time of the last run when the engine measures it (webcnn with `timestamp-query`). */
  lastGpuMs?(): number | null;
  /** Free what `prepare` made (devices, sessions, tensors). */
  dispose(): Promise<void>;
  /** Extra facts for the report (versions, backend details). */
  describe?(): Record<string, string>;
}

export type EngineFactory = (id: EngineId) => PeerEngine;

export interface ColdStart {
  /** Model in memory to first output in JS. */
  readonly totalMs: number;
  /** Of which: to ready (init, load, compile). */
  readonly prepareMs: number;
  /** Of which: the first inference (lazy compilation included, for engines that compile on first run). */
  readonly firstRunMs: number;
}

export interface LogitCheck {
  /** max |engine - webcnn| over the output. */
  readonly maxAbsDiff: number;
  /** maxAbsDiff / max |webcnn logit|. */
  readonly relDiff: number;
  /** max |webcnn logit|. */
  readonly refMaxAbs: number;
  /** Whether the engine's arg max is webcnn's. */
  readonly top1Agrees: boolean;
  readonly finite: boolean;
}

export interface EngineResult {
  readonly engine: EngineId;
  readonly label: string;
  readonly webgpu: boolean;
  /** Timed inferences (warm phase), in round order. */
  readonly timesMs: readonly number[];
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  /** Untimed warm-up inferences' times, where recorded (the script's multi-page protocol). */
  readonly warmupMs?: readonly number[];
  /** GPU time per timed inference, where the engine reports it. */
  readonly gpuMs?: readonly number[];
  readonly gpuMedianMs?: number;
  /** Cold start: measured in this page's `cold` phase (or merged in by the script from a fresh page). */
  readonly cold?: ColdStart;
  /** Set-up in the warm page (prepare + first inference); other engines may already have run there. */
  readonly setup?: ColdStart;
  /** Against webcnn's output (webcnn's own row compares it with itself: 0). */
  readonly logits?: LogitCheck;
  /** Compute dispatches encoded by the last timed run, where the page counts them (`dispatch-counter.ts`). */
  readonly dispatchesPerRun?: number;
  /** The cold start's output against webcnn's cold start output (fresh pages; merged in by the script). */
  readonly coldLogits?: LogitCheck;
  /** Why the cold start failed, when the warm page ran. */
  readonly coldError?: string;
  /** The engine's output (cold phase only: the script compares fresh pages' outputs). */
  readonly output?: readonly number[];
  readonly details?: Record<string, string>;
  readonly error?: string;
}

export interface NetworkResult {
  readonly network: NetworkId;
  readonly title: string;
  readonly inputShape: readonly number[];
  readonly outputSize: number;
  readonly parameters: number;
  readonly macs: number;
  readonly onnxBytes: number;
  readonly warmups: number;
  readonly rounds: number;
  readonly engines: readonly EngineResult[];
}

export interface PeersResult {
  readonly version: 1;
  readonly date: string;
  readonly phase: 'cold' | 'warm' | 'both';
  /** Where it ran: a user agent, or `node vX (Dawn)`. */
  readonly runtime: string;
  readonly adapter: AdapterDescription | null;
  readonly seed: number;
  readonly versions: Readonly<Record<string, string>>;
  readonly networks: readonly NetworkResult[];
  readonly durationMs: number;
}

export interface PeersProgress {
  readonly message: string;
}

export const NETWORK_TITLES: Readonly<Record<NetworkId, string>> = {
  mobilenetv2: 'MobileNetV2 1.0 224',
  resnet50: 'ResNet-50 224',
  zoo: 'a torchvision network',
};

export function networkTitle(r: NetworkRequest): string {
  if (r.zoo) return zooTitle(r.zoo);
  if (r.network === 'mobilenetv2') {
    const w = r.widthMultiplier ?? 1;
    return `MobileNetV2 ${w === 1 ? '1.0' : w} ${r.inputSize ?? 224}`;
  }
  return `ResNet-50 ${r.inputSize ?? 224}`;
}

/** Builds the network with seeded random weights, folds it and exports it to ONNX bytes. */
export function buildPeerModel(r: NetworkRequest, seed = 1): PeerModel {
  if (r.network === 'zoo') throw new Error('buildPeerModel: a zoo network comes from its ONNX file (zoo-model.ts)');
  const params = randomParams(seed);
  const graph =
    r.network === 'mobilenetv2'
      ? mobilenetV2({ params, widthMultiplier: r.widthMultiplier, inputSize: r.inputSize })
      : resnet50({ params, inputSize: r.inputSize });
  const folded = optimizeGraph(graph);
  const onnx = exportOnnx(graph, { name: r.network });
  return peerModelOf(r, seed, graph, folded, onnx);
}

/** The rest of a `PeerModel` from its graphs and ONNX bytes: seeded input, parameters and MACs. */
export function peerModelOf(r: NetworkRequest, seed: number, graph: Graph, folded: Graph, onnx: Uint8Array): PeerModel {
  const inputShape = graph.tensors[graph.inputs[0]].shape;
  const input = new Rng((seed + 1) >>> 0).fill(elementCount(inputShape), -1, 1);
  let parameters = 0;
  for (const n of graph.nodes) {
    if (n.op === 'conv2d' || n.op === 'linear') parameters += n.attrs.weight.length + (n.attrs.bias?.length ?? 0);
    if (n.op === 'batchNorm') parameters += 4 * n.attrs.gamma.length;
  }
  let macs = 0;
  for (const n of folded.nodes) {
    const out = folded.tensors[n.output].shape;
    if (n.op === 'conv2d') macs += elementCount(out) * (n.attrs.weight.length / n.attrs.outChannels);
    if (n.op === 'linear') macs += out[0] * n.attrs.weight.length;
  }
  return {
    network: r.network,
    title: networkTitle(r),
    graph,
    folded,
    onnx,
    inputShape: [...inputShape] as [number, number, number, number],
    outputSize: elementCount(graph.tensors[graph.outputs[0]].shape),
    input,
    parameters,
    macs,
  };
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function compareLogits(reference: ArrayLike<number>, values: ArrayLike<number>): LogitCheck {
  let maxAbsDiff = 0;
  let refMaxAbs = 0;
  let finite = reference.length === values.length;
  let refArg = 0;
  let arg = 0;
  for (let i = 0; i < reference.length; i++) {
    const r = reference[i];
    const v = values[i];
    if (!Number.isFinite(v)) finite = false;
    maxAbsDiff = Math.max(maxAbsDiff, Math.abs(v - r));
    refMaxAbs = Math.max(refMaxAbs, Math.abs(r));
    if (r > reference[refArg]) refArg = i;
    if (v > values[arg]) arg = i;
  }
  if (!finite) maxAbsDiff = Infinity;
  return { maxAbsDiff, relDiff: refMaxAbs > 0 ? maxAbsDiff / refMaxAbs : maxAbsDiff, refMaxAbs, top1Agrees: refArg === arg, finite };
}

/** The agreement the issue asks for: max |diff| <= 1e-3 * max |webcnn logit| + 1e-4. */
export function logitsAgree(c: LogitCheck, relTolerance = 1e-3, absTolerance = 1e-4): boolean {
  return c.finite && c.maxAbsDiff <= relTolerance * c.refMaxAbs + absTolerance;
}

export function errorText(e: unknown): string {
  return e instanceof Error ? `${e.name === 'Error' ? '' : `${e.name}: `}${e.message}` : String(e);
}

const PRIME_KERNEL = `@group(0) @binding(0) var<storage, read_write> counter: array<u32>;
@compute @workgroup_size(1) fn main() { counter[0] = counter[0] + 1u; }`;

/**
 * Uses the GPU once before any cold start: a throwaway device compiles one trivial kernel, runs it and is
 * destroyed. Whatever touches the GPU first in a process or browser pays one-time costs that belong to no
 * engine (loading the driver's shader compiler, first device initialization); cold starts run one engine after
 * the other, always webcnn first, so without this webcnn would pay them for everyone. Nothing the engines
 * compile is cached by it: its kernel is none of theirs. Returns the milliseconds it took.
 */
export async function primeGpu(gpu: GPU): Promise<number> {
  const t0 = performance.now();
  const adapter = await gpu.requestAdapter();
  if (!adapter) throw new Error('primeGpu: no WebGPU adapter');
  const device = await adapter.requestDevice();
  try {
    const module = device.createShaderModule({ label: 'prime', code: PRIME_KERNEL });
    const pipeline = await device.createComputePipelineAsync({ label: 'prime', layout: 'auto', compute: { module, entryPoint: 'main' } });
    const buffer = device.createBuffer({ label: 'prime', size: 4, usage: GPUBufferUsage.STORAGE });
    const bindGroup = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer } }] });
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(1);
    pass.end();
    device.queue.submit([encoder.finish()]);
    await device.queue.onSubmittedWorkDone();
  } finally {
    device.destroy();
  }
  return performance.now() - t0;
}

/** Prepare + first inference, timed. */
export async function coldStart(engine: PeerEngine, model: PeerModel): Promise<{ cold: ColdStart; output: Float32Array }> {
  const t0 = performance.now();
  await engine.prepare(model);
  const t1 = performance.now();
  const output = await engine.run(model.input);
  const t2 = performance.now();
  return { cold: { totalMs: t2 - t0, prepareMs: t1 - t0, firstRunMs: t2 - t1 }, output };
}

/** Median, min and max of timed inferences (and of GPU times, when there are any). */
export function timingFigures(times: readonly number[], gpu: readonly number[] = []) {
  return {
    timesMs: times,
    medianMs: median(times),
    minMs: times.length ? Math.min(...times) : NaN,
    maxMs: times.length ? Math.max(...times) : NaN,
    ...(gpu.length ? { gpuMs: gpu, gpuMedianMs: median(gpu) } : {}),
  };
}

/** Facts about a network as measured, without the engines. */
export function networkFacts(model: PeerModel, request: NetworkRequest): Omit<NetworkResult, 'engines'> {
  return {
    network: model.network,
    title: model.title,
    inputShape: model.inputShape,
    outputSize: model.outputSize,
    parameters: model.parameters,
    macs: model.macs,
    onnxBytes: model.onnx.byteLength,
    warmups: request.warmups,
    rounds: request.rounds,
  };
}

/**
 * One engine kept alive in a page for the script's multi-page protocol: `open` is the cold start (the page is
 * fresh), then `run` as often as the script interleaves it with the other engines' pages.
 */
export interface OpenedEngine {
  readonly engine: EngineId;
  readonly label: string;
  readonly webgpu: boolean;
  readonly network: Omit<NetworkResult, 'engines'>;
  readonly cold?: ColdStart;
  /** The cold start's output. */
  readonly output?: readonly number[];
  readonly details?: Record<string, string>;
  readonly error?: string;
  readonly runtime: string;
  readonly adapter: AdapterDescription | null;
  readonly versions: Readonly<Record<string, string>>;
}

export interface TimedRun {
  readonly ms: number;
  readonly gpuMs: number | null;
  /** Compute dispatches the run encoded, where the page counts them (`dispatch-counter.ts`). */
  readonly dispatches?: number;
  readonly output?: readonly number[];
}

function emptyResult(engine: PeerEngine): EngineResult {
  return { engine: engine.id, label: engine.label, webgpu: engine.webgpu, timesMs: [], medianMs: NaN, minMs: NaN, maxMs: NaN };
}

/** One cold start per engine, one engine after the other (each disposed before the next starts). */
export async function measureColdStarts(
  factory: EngineFactory,
  engines: readonly EngineId[],
  model: PeerModel,
  onProgress?: (p: PeersProgress) => void,
): Promise<EngineResult[]> {
  const results: EngineResult[] = [];
  let reference: Float32Array | null = null;
  for (const id of engines) {
    const engine = factory(id);
    onProgress?.({ message: `${model.title}: cold start of ${engine.label}` });
    try {
      const { cold, output } = await coldStart(engine, model);
      if (id === 'webcnn') reference = output;
      results.push({
        ...emptyResult(engine),
        cold,
        output: Array.from(output),
        logits: reference ? compareLogits(reference, output) : undefined,
        details: engine.describe?.(),
      });
    } catch (e) {
      results.push({ ...emptyResult(engine), error: errorText(e) });
    } finally {
      await engine.dispose().catch(() => undefined);
    }
  }
  return results;
}

/**
 * Sets every engine up in turn (prepare + first inference), then `warmups` untimed inferences each, then
 * `rounds` interleaved timed rounds; compares every engine's last output with webcnn's. An engine that fails
 * is reported with its error and left out of the later rounds.
 */
export async function measureWarm(
  factory: EngineFactory,
  engines: readonly EngineId[],
  model: PeerModel,
  request: Pick<NetworkRequest, 'warmups' | 'rounds'>,
  onProgress?: (p: PeersProgress) => void,
): Promise<EngineResult[]> {
  interface Live {
    engine: PeerEngine;
    setup?: ColdStart;
    times: number[];
    gpu: number[];
    output?: Float32Array;
    error?: string;
  }
  const live: Live[] = engines.map((id) => ({ engine: factory(id), times: [], gpu: [] }));
  const fail = (l: Live, e: unknown) => {
    l.error = errorText(e);
    onProgress?.({ message: `${model.title}: ${l.engine.label} failed: ${l.error}` });
  };
  const runOnce = async (l: Live, timed: boolean) => {
    await l.engine.activate?.();
    const t0 = performance.now();
    const out = await l.engine.run(model.input);
    const t1 = performance.now();
    l.output = out;
    if (timed) {
      l.times.push(t1 - t0);
      const g = l.engine.lastGpuMs?.();
      if (g != null) l.gpu.push(g);
    }
  };
  try {
    for (const l of live) {
      onProgress?.({ message: `${model.title}: setting up ${l.engine.label}` });
      try {
        const { cold, output } = await coldStart(l.engine, model);
        l.setup = cold;
        l.output = output;
      } catch (e) {
        fail(l, e);
      }
    }
    const ok = () => live.filter((l) => !l.error);
    for (const l of ok()) {
      if (!l.engine.settle) continue;
      onProgress?.({ message: `${model.title}: ${l.engine.label} settling` });
      await l.engine.settle().catch((e) => fail(l, e));
    }
    for (let w = 0; w < request.warmups; w++) {
      onProgress?.({ message: `${model.title}: warm-up ${w + 1}/${request.warmups}` });
      for (const l of ok()) await runOnce(l, false).catch((e) => fail(l, e));
    }
    for (let r = 0; r < request.rounds; r++) {
      onProgress?.({ message: `${model.title}: round ${r + 1}/${request.rounds}` });
      for (const l of ok()) await runOnce(l, true).catch((e) => fail(l, e));
    }
    const reference = live.find((l) => l.engine.id === 'webcnn' && !l.error)?.output ?? null;
    return live.map((l): EngineResult => ({
      ...emptyResult(l.engine),
      ...timingFigures(l.times, l.gpu),
      setup: l.setup,
      logits: reference && l.output && !l.error ? compareLogits(reference, l.output) : undefined,
      details: l.engine.describe?.(),
      ...(l.error ? { error: l.error } : {}),
    }));
  } finally {
    for (const l of live) await l.engine.dispose().catch(() => undefined);
  }
}

/** Runs the requested phases over every network with the engines `factory` makes. */
export async function runPeersWith(
  factory: EngineFactory,
  options: PeersOptions,
  context: {
    runtime: string;
    adapter: AdapterDescription | null;
    versions: Record<string, string>;
    defaultEngines: readonly EngineId[];
    onProgress?: (p: PeersProgress) => void;
  },
): Promise<PeersResult> {
  const start = performance.now();
  const phase = options.phase ?? 'warm';
  const seed = options.seed ?? 1;
  const engines = options.engines ?? context.defaultEngines;
  const networks: NetworkResult[] = [];
  for (const request of options.networks) {
    context.onProgress?.({ message: `${networkTitle(request)}: building the graph and its ONNX bytes` });
    const model = buildPeerModel(request, seed);
    const cold = phase === 'warm' ? [] : await measureColdStarts(factory, engines, model, context.onProgress);
    const warm = phase === 'cold' ? [] : await measureWarm(factory, engines, model, request, context.onProgress);
    const merged = engines.map((id) => {
      const c = cold.find((r) => r.engine === id);
      const w = warm.find((r) => r.engine === id);
      if (!w) return c!;
      if (!c) return w;
      return { ...w, cold: c.cold, error: w.error ?? c.error };
    });
    networks.push({ ...networkFacts(model, request), engines: merged });
  }
  return {
    version: 1,
    date: new Date().toISOString(),
    phase,
    runtime: context.runtime,
    adapter: context.adapter,
    seed,
    versions: context.versions,
    networks,
    durationMs: performance.now() - start,
  };
}
