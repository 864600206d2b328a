import type { StoragePrecision } from '../../shaders/common.ts';
import { packUniforms, uniformByteSize } from '../../shaders/common.ts';
import { DeviceLostError, DisposedError, GpuError, ResourceLimitError, ShapeError, UnsupportedFeatureError } from '../errors.ts';
import { deviceAdapterInfo } from '../gpu/device.ts';
import { BufferTracker } from '../gpu/buffers.ts';
import type { LostWatcher } from '../gpu/device-lost.ts';
import { lostReasonText, watchDeviceLost } from '../gpu/device-lost.ts';
import { pipelineCacheFor } from '../gpu/pipeline-cache.ts';
import type { Graph, Shape4, TensorId } from '../graph/ir.ts';
import { elementCount, shapeToString } from '../graph/ir.ts';
import type { MemoryPlan } from '../graph/memory-plan.ts';
import { planMemory } from '../graph/memory-plan.ts';
import { validateGraph } from '../graph/validate.ts';
import type { TuneOptions } from './autotune.ts';
import { tuneKernels } from './autotune.ts';
import type { BufferRef, KernelChoice, Step } from './lowering.ts';
import { defaultKernelChoice, isAliasNode, lowerGraph, optimizeForKernels, storageBytes } from './lowering.ts';
import { classOf, withArticle } from '../util/describe.ts';

export interface TensorDescription {
  readonly name: string;
  readonly shape: Shape4;
}

export interface CompileOptions {
  /**
   * Skip BN folding and fusion (for tests of the unfused kernels, or a graph already optimized). Batch norm runs
   * only folded, so a graph that still has `batchNorm` nodes then fails with a `GraphError`.
   */
  readonly optimize?: boolean;
  /** Tiles to use; default `defaultKernelChoice(device.adapterInfo)` (software adapters and GPUs differ). */
  readonly kernels?: KernelChoice;
  /**
   * Time each convolution's candidate tiles on this device and keep the fastest (needs `timestamp-query`;
   * pass a cache to tune once per adapter). Off by default: compiling stays deterministic and quick.
   */
  readonly tune?: boolean | TuneOptions;
  /**
   * How activations and conv / linear weights are stored on the GPU (arithmetic is f32 in every mode; inputs and
   * outputs stay NCHW float32): 'f32' (the default), 'f16' (native half storage; needs the device feature
   * `shader-f16`, else an `UnsupportedFeatureError`), 'f16-packed' (the same 8 bytes per 4 channels through
   * `pack2x16float`, on every device), or 'auto' ('f16' when the device has `shader-f16`, else 'f32').
   */
  readonly precision?: StoragePrecision | 'auto';
}

/** The storage precision a compile with `requested` uses on `device`; 'f16' without `shader-f16` throws. */
export function resolvePrecision(device: GPUDevice, requested: StoragePrecision | 'auto' = 'f32'): StoragePrecision {
  const native = device.features.has('shader-f16');
  if (requested === 'auto') return native ? 'f16' : 'f32';
  if (requested === 'f16' && !native) {
    throw new UnsupportedFeatureError(
      "precision 'f16' needs the WebGPU feature 'shader-f16', which this device lacks (use 'f16-packed', which runs everywhere, or 'auto')",
    );
  }
  if (requested !== 'f32' && requested !== 'f16' && requested !== 'f16-packed') {
    throw new UnsupportedFeatureError(`unknown precision '${String(requested)}' (use 'f32', 'f16', 'f16-packed' or 'auto')`);
  }
  return requested;
}

/**
 * A model's GPU memory. `buffers`, `bytes`, `weightBytes` and `scratchBytes` are what it holds now (all 0 after
 * `dispose()`); the two activation figures describe its memory plan, a property of the compiled graph that
 * `dispose()` does not change.
 */
export interface MemoryReport {
  /** GPU buffers this model owns right now, and their bytes (activations, weights, inputs, outputs, ...). */
  readonly buffers: number;
  readonly bytes: number;
  /** The plan's activation memory with liveness-based reuse (what the activation buffers take), and without it. */
  readonly activationPeakBytes: number;
  readonly activationUnplannedBytes: number;
  /** Conv / linear weights and biases on the GPU. */
  readonly weightBytes: number;
  /** The split-K partial-sum buffer (0 when no launch splits K): one for the model, sized to the largest need. */
  readonly scratchBytes: number;
}

/**
 * Where `compile` spent its time, in milliseconds of wall clock (`performance.now()`), phase by phase. Pipelines
 * compile in the background from `lower` on, so `pipelinesMs` is only the wait left after the weights are up.
 */
export interface CompileTimings {
  /** BN folding and fusion passes (0 with `optimize: false`). */
  readonly optimizeMs: number;
  /** The autotuner (0 unless `tune`). */
  readonly tuneMs: number;
  /** Lowering to steps and memory planning. */
  readonly lowerMs: number;
  /** Activation, staging, readback, scratch and uniform buffers. */
  readonly buffersMs: number;
  /** Packing the weights into the kernels' layouts and writing them into GPU buffers. */
  readonly weightsMs: number;
  /** Waiting for pipeline compiles still running after the weights were written. */
  readonly pipelinesMs: number;
  /** Bind groups, and the device's validation and out-of-memory verdicts. */
  readonly bindGroupsMs: number;
  readonly totalMs: number;
}

/** The per-run timestamp pair: query set, resolve buffer, where it lands in the readback, the pass's writes. */
interface RunTimer {
  readonly querySet: GPUQuerySet;
  readonly resolve: GPUBuffer;
  readonly readbackOffset: number;
  readonly writes: GPUComputePassTimestampWrites;
}

/** One launch ready to record: everything was created at compile time. */
interface PreparedDispatch {
  readonly step: Step;
  readonly pipeline: GPUComputePipeline;
  readonly bindGroup: GPUBindGroup;
  readonly grid: readonly [number, number];
}

/** Milliseconds since the previous `lap` (or the start), and since the start. */
function phaseClock(): { lap(): number; total(): number } {
  const start = performance.now();
  let last = start;
  return {
    lap() {
      const now = performance.now();
      const ms = now - last;
      last = now;
      return ms;
    },
    total: () => performance.now() - start,
  };
}

/**
 * Runs `work` between an 'out-of-memory' and a 'validation' error scope pushed just before it and popped just
 * after it, with no `await` in between: the scope stack is the device's, so a scope left open across an `await`
 * would catch the errors of whatever else runs on the device meanwhile (another compile, the app's own work).
 * `error` resolves to the first error the work caused, or null.
 */
function withErrorScopes<T>(device: GPUDevice, work: () => T): { value: T; error: Promise<GPUError | null> } {
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  let error!: Promise<GPUError | null>;
  let value: T;
  try {
    value = work();
  } finally {
    const validation = device.popErrorScope();
    const outOfMemory = device.popErrorScope();
    error = Promise.all([validation, outOfMemory]).then(([v, o]) => v ?? o);
    error.catch(() => undefined); // when `work` threw, nobody awaits it
  }
  return { value, error };
}

/** A device error as webcnn's one-line `GpuError`: what failed, then the first line of the device's message. */
function gpuFailure(what: string, error: GPUError): GpuError {
  return new GpuError(`${what}: ${error.message.split('\n')[0]}`);
}

/** The first of two error-scope verdicts (either may be absent). */
async function firstError(a: Promise<GPUError | null>, b: Promise<GPUError | null> | null): Promise<GPUError | null> {
  return (await a) ?? (b ? await b : null);
}

const MAX_GROUPS_PER_DIM = 65535;

/** Runs `make`; a `ResourceLimitError` it throws gets a hint at what makes activations smaller. */
function withActivationHint<T>(precision: StoragePrecision, make: () => T): T {
  try {
    return make();
  } catch (e) {
    if (!(e instanceof ResourceLimitError)) throw e;
    const f16 = precision === 'f32' ? ", or precision 'f16-packed' (half the bytes)" : '';
    throw new ResourceLimitError(`${e.message}; use a smaller batch or input size${f16}`, { cause: e });
  }
}

/** Folds a 1D workgroup count into a 2D grid the kernels unfold with `num_workgroups`. */
export function dispatchGrid(workgroups: number): [number, number] {
  if (workgroups <= MAX_GROUPS_PER_DIM) return [Math.max(1, workgroups), 1];
  const y = Math.ceil(workgroups / MAX_GROUPS_PER_DIM);
  return [Math.ceil(workgroups / y), y];
}

/** What a run input is, for `checkInputs`' message: other arrays are named, with how to convert them. */
function describeInput(data: unknown): string {
  if (data instanceof Float32Array) return `${data.length} values`;
  const values = (n: number) => `${n} value${n === 1 ? '' : 's'}; convert it with Float32Array.from`;
  if (Array.isArray(data)) return `an Array of ${values(data.length)}`;
  if (ArrayBuffer.isView(data) && 'length' in data && typeof data.length === 'number') return `${classOf(data)} of ${values(data.length)}`;
  if (data instanceof ArrayBuffer) return `an ArrayBuffer of ${data.byteLength} bytes; wrap it with new Float32Array(buffer)`;
  if (data === null || data === undefined) return String(data);
  return `${withArticle(typeof data)} (not a Float32Array)`;
}

/**
 * A graph compiled for one device: pipelines, buffers, uniforms and bind groups are all made in `compile`;
 * `run` records one compute pass, submits once and reads back once. Calls are queued, so concurrent `run`s
 * each get their own result.
 */
export class CompiledModel {
  readonly inputs: readonly TensorDescription[];
  readonly outputs: readonly TensorDescription[];
  /** The graph after passes, as it runs. */
  readonly graph: Graph;
  readonly steps: readonly Step[];
  readonly memoryPlan: MemoryPlan;

  private readonly rawInputs: GPUBuffer[];
  private readonly rawOutputs: GPUBuffer[];
  private readonly readback: GPUBuffer;
  private readonly outputOffsets: number[];
  /** Begin/end timestamps of every run's model pass, when the device has `timestamp-query`. */
  private readonly runTimer: RunTimer | null;
  private gpuMs: number | null = null;
  private readonly weightBytes: number;
  private readonly scratchBytes: number;
  private queue: Promise<unknown> = Promise.resolve();
  /** Runs called and not yet settled. */
  private pending = 0;
  private disposed = false;
  private lostReason: string | null = null;
  private readonly options: CompileOptions;
  /** The tiles this model was compiled with (tuned per layer when `tune` was on). */
  readonly kernels: KernelChoice;
  /** How this model stores activations and weights (the `precision` option, 'auto' resolved). */
  readonly precision: StoragePrecision;
  /** Where `compile` spent its time (for cold-start breakdowns). */
  readonly compileTimings: CompileTimings;

  private constructor(
    readonly device: GPUDevice,
    private readonly tracker: BufferTracker,
    private readonly dispatches: PreparedDispatch[],
    parts: {
      graph: Graph;
      steps: Step[];
      plan: MemoryPlan;
      rawInputs: GPUBuffer[];
      rawOutputs: GPUBuffer[];
      readback: GPUBuffer;
      outputOffsets: number[];
      weightBytes: number;
      scratchBytes: number;
      runTimer: RunTimer | null;
      options: CompileOptions;
      kernels: KernelChoice;
      precision: StoragePrecision;
      compileTimings: CompileTimings;
    },
  ) {
    this.options = parts.options;
    this.kernels = parts.kernels;
    this.precision = parts.precision;
    this.compileTimings = parts.compileTimings;
    this.graph = parts.graph;
    this.steps = parts.steps;
    this.memoryPlan = parts.plan;
    this.rawInputs = parts.rawInputs;
    this.rawOutputs = parts.rawOutputs;
    this.readback = parts.readback;
    this.outputOffsets = parts.outputOffsets;
    this.runTimer = parts.runTimer;
    this.weightBytes = parts.weightBytes;
    this.scratchBytes = parts.scratchBytes;
    const describe = (id: TensorId): TensorDescription => ({ name: this.graph.tensors[id].name, shape: this.graph.tensors[id].shape });
    this.inputs = this.graph.inputs.map(describe);
    this.outputs = this.graph.outputs.map(describe);
    // Weakly: the device outlives its models, and must not keep a disposed one in memory (device-lost.ts).
    watchDeviceLost(device, this.lostWatcher);
  }

  /** Held by the model alone; `watchDeviceLost` keeps only a weak reference to it. */
  private readonly lostWatcher: LostWatcher = { onLost: (info) => this.markLost(info) };

  private markLost(info: GPUDeviceLostInfo): void {
    if (this.lostReason === null) this.lostReason = lostReasonText(info);
  }

  static async compile(device: GPUDevice, source: Graph, options: CompileOptions = {}): Promise<CompiledModel> {
    const clock = phaseClock();
    // Seen at the end: a device lost before or during the compile must not hand back a model that cannot run.
    const compileState: LostWatcher & { lost: GPUDeviceLostInfo | null } = {
      lost: null,
      onLost(info) {
        this.lost = info;
      },
    };
    watchDeviceLost(device, compileState);
    const lostError = (info: GPUDeviceLostInfo) =>
      new DeviceLostError(`the GPU device was lost (${lostReasonText(info)}) while compiling; compile on a new device`);
    validateGraph(source);
    const precision = resolvePrecision(device, options.precision);
    let kernels = options.kernels ?? defaultKernelChoice(deviceAdapterInfo(device));
    const graph = options.optimize === false ? source : optimizeForKernels(source, kernels);
    validateGraph(graph);
    const optimizeMs = clock.lap();
    if (options.tune) {
      const given = options.tune === true ? {} : options.tune;
      // Tiles are measured at the model's precision, and cached apart from the other precisions' choices.
      const tuneOptions = precision === 'f32' ? given : { ...given, adapterKey: `${given.adapterKey ?? ''}|${precision}` };
      const { perNode } = await tuneKernels(
        device,
        graph,
        (k) => CompiledModel.compile(device, graph, { optimize: false, kernels: k, precision }),
        { base: kernels, ...tuneOptions },
      );
      kernels = { ...kernels, perNode };
    }
    const tuneMs = clock.lap();
    const steps = lowerGraph(graph, kernels, precision);
    const plan = planMemory(graph, {
      bytesOf: (id) => storageBytes(graph.tensors[id].shape, precision),
      isAlias: (node) => isAliasNode(graph, node),
    });
    const cache = pipelineCacheFor(device);
    // Start every pipeline compile at once; they finish in parallel while buffers are made.
    const pipelines = steps.map((s) => cache.get(s.program));
    pipelines.forEach((p) => p.catch(() => undefined));
    const lowerMs = clock.lap();

    const tracker = new BufferTracker(device);
    try {
      // Everything up to the pipeline wait is synchronous GPU work, checked by one pair of error scopes.
      let buffersMs = 0;
      const made = withErrorScopes(device, () => {
        const storage = GPUBufferUsage.STORAGE;
        const slots = plan.slotBytes.map((bytes, i) => withActivationHint(precision, () => tracker.create(`activation buffer ${i}`, bytes, storage)));
        const rawInputs = graph.inputs.map((id, i) =>
          tracker.create(`input ${i} (NCHW)`, elementCount(graph.tensors[id].shape) * 4, storage | GPUBufferUsage.COPY_DST),
        );
        const rawOutputs = graph.outputs.map((id, i) =>
          tracker.create(`output ${i} (NCHW)`, elementCount(graph.tensors[id].shape) * 4, storage | GPUBufferUsage.COPY_SRC),
        );
        const outputOffsets: number[] = [];
        let readbackBytes = 0;
        for (const id of graph.outputs) {
          outputOffsets.push(readbackBytes);
          readbackBytes += Math.ceil((elementCount(graph.tensors[id].shape) * 4) / 16) * 16;
        }
        let runTimer: RunTimer | null = null;
        if (device.features.has('timestamp-query')) {
          // Two timestamps ride along in the output readback: GPU time per run without a second readback.
          const querySet = device.createQuerySet({ label: 'run timer', type: 'timestamp', count: 2 });
          tracker.adopt(querySet);
          const resolve = tracker.create('run timer resolve', 16, GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC);
          const writes = { querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 };
          runTimer = { querySet, resolve, readbackOffset: readbackBytes, writes };
          readbackBytes += 16;
        }
        const readback = tracker.create('readback', readbackBytes, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
        // Split-K partial sums: launches run in order, so one buffer serves every split-K step.
        let scratchBytes = 0;
        for (const s of steps) for (const r of Object.values(s.buffers)) if (r.kind === 'scratch') scratchBytes = Math.max(scratchBytes, r.byteLength);
        const scratch = scratchBytes > 0 ? tracker.create('split-K partial sums', scratchBytes, storage) : null;

        let weightBytes = 0;
        const constants = new Map<BufferRef, GPUBuffer>();
        const resolve = (ref: BufferRef, label: string): GPUBuffer => {
          switch (ref.kind) {
            case 'tensor':
              return slots[plan.slotOf.get(ref.id)!];
            case 'rawInput':
              return rawInputs[ref.index];
            case 'rawOutput':
              return rawOutputs[ref.index];
            case 'scratch':
              return scratch!;
            case 'constant': {
              let b = constants.get(ref);
              if (!b) {
                b = tracker.createFilled(label, ref.byteLength, storage, ref.writeInto);
                weightBytes += ref.byteLength;
                constants.set(ref, b);
              }
              return b;
            }
          }
        };

        // All uniforms live in one buffer, each step at an offset the device accepts for dynamic binding.
        const align = device.limits.minUniformBufferOffsetAlignment;
        const uniformOffsets: number[] = [];
        let uniformBytes = 0;
        for (const s of steps) {
          uniformOffsets.push(uniformBytes);
          uniformBytes += Math.ceil(uniformByteSize(s.program.uniforms) / align) * align;
        }
        const uniformData = new Uint8Array(uniformBytes);
        steps.forEach((s, i) => uniformData.set(new Uint8Array(packUniforms(s.program.uniforms, s.uniforms)), uniformOffsets[i]));
        const uniforms = tracker.createWithData('uniforms', uniformData, GPUBufferUsage.UNIFORM);
        buffersMs = clock.lap();

        // Weights are packed and uploaded here, while the pipelines compile.
        for (const step of steps) {
          for (const [name, ref] of Object.entries(step.buffers)) if (ref.kind === 'constant') resolve(ref, `${step.label} ${name}`);
        }
        // Every constant is made by now: binding only looks them up, so the weight count is final.
        return { rawInputs, rawOutputs, readback, outputOffsets, runTimer, scratchBytes, resolve, uniforms, uniformOffsets, weightBytes };
      });
      const weightsMs = clock.lap();
      const resolved = await Promise.all(pipelines);
      const pipelinesMs = clock.lap();
      const { resolve, uniforms, uniformOffsets } = made.value;
      const bound = withErrorScopes(device, () =>
        steps.map((step, i): PreparedDispatch => {
          const pipeline = resolved[i];
          const entries: GPUBindGroupEntry[] = step.program.bindings.map((b, binding) =>
            b.kind === 'uniform'
              ? { binding, resource: { buffer: uniforms, offset: uniformOffsets[i], size: uniformByteSize(step.program.uniforms) } }
              : { binding, resource: { buffer: resolve(step.buffers[b.name], `${step.label} ${b.name}`) } },
          );
          const bindGroup = device.createBindGroup({ label: step.label, layout: pipeline.getBindGroupLayout(0), entries });
          return { step, pipeline, bindGroup, grid: dispatchGrid(step.workgroups) };
        }),
      );
      const failure = await firstError(made.error, bound.error);
      if (compileState.lost) throw lostError(compileState.lost);
      if (failure) throw gpuFailure('compiling the model failed', failure);
      const bindGroupsMs = clock.lap();
      const compileTimings: CompileTimings = {
        optimizeMs, tuneMs, lowerMs, buffersMs, weightsMs, pipelinesMs, bindGroupsMs, totalMs: clock.total(),
      };
      const { rawInputs, rawOutputs, readback, outputOffsets, runTimer, scratchBytes, weightBytes } = made.value;
      return new CompiledModel(device, tracker, bound.value, {
        graph, steps, plan, rawInputs, rawOutputs, readback, outputOffsets, weightBytes, scratchBytes, runTimer,
        options, kernels, precision, compileTimings,
      });
    } catch (e) {
      // A limit check (ResourceLimitError), a failed pipeline, a GPU error or a lost device: free what was made.
      tracker.destroyAll();
      throw compileState.lost && !(e instanceof DeviceLostError) ? lostError(compileState.lost) : e;
    }
  }

  /**
   * The same model compiled again, e.g. on a new device after this one was lost: from the graph kept in
   * memory, without reloading the model file.
   */
  recompile(device: GPUDevice): Promise<CompiledModel> {
    return CompiledModel.compile(device, this.graph, { ...this.options, kernels: this.kernels, tune: false, optimize: false });
  }

  /** True once the device is lost or the model disposed: every further call rejects. */
  get usable(): boolean {
    return !this.disposed && this.lostReason === null;
  }

  get memory(): MemoryReport {
    return {
      buffers: this.tracker.count,
      bytes: this.tracker.bytes,
      activationPeakBytes: this.memoryPlan.peakBytes,
      activationUnplannedBytes: this.memoryPlan.unplannedBytes,
      weightBytes: this.disposed ? 0 : this.weightBytes,
      scratchBytes: this.disposed ? 0 : this.scratchBytes,
    };
  }

  /**
   * GPU time of the last run's model pass in milliseconds (timestamp queries; excludes input upload, a
   * `runWith` prelude and the readback); null before the first run completes, and always where the device has
   * no `timestamp-query`.
   */
  get lastGpuTimeMs(): number | null {
    return this.gpuMs;
  }

  /** Number of kernel launches per inference. */
  get dispatchCount(): number {
    return this.dispatches.length;
  }

  /**
   * Runs the model on NCHW float32 inputs (one per graph input, in order) and returns NCHW float32 outputs.
   * Calls queue behind each other. The inputs are checked and read when `run` is called, as a synchronous call
   * would read them: changing an array afterwards does not change that run.
   */
  run(inputs: readonly Float32Array[]): Promise<Float32Array[]> {
    let staged: readonly Float32Array[] | null = null;
    let written: Promise<GPUError | null> | null = null;
    try {
      this.checkUsable();
      this.checkInputs(inputs);
      if (this.pending === 0) {
        // Nothing queued ahead: write now; the GPU queue orders the write before this run's submit.
        written = withErrorScopes(this.device, () => this.uploadInputs(inputs)).error;
      } else {
        // Runs ahead still use the input buffers: keep copies until this run's turn (only overlapping calls pay).
        staged = inputs.map((x) => x.slice());
      }
    } catch (e) {
      return Promise.reject(e);
    }
    return this.enqueue(() => this.submitAndRead(() => undefined, staged, written));
  }

  /**
   * Runs with inputs that GPU work recorded by `prelude` writes into `rawInputBuffer(i)` (NCHW f32), e.g. image
   * preprocessing: the prelude's passes, the model and the readback go in one submit.
   */
  runWith(prelude: (encoder: GPUCommandEncoder) => void): Promise<Float32Array[]> {
    try {
      this.checkUsable();
    } catch (e) {
      return Promise.reject(e);
    }
    return this.enqueue(() => this.submitAndRead(prelude, null, null));
  }

  /** The NCHW f32 storage buffer input `index` is read from at the start of each run. */
  rawInputBuffer(index: number): GPUBuffer {
    const buffer = this.rawInputs[index];
    if (!buffer) throw new RangeError(`input ${index} does not exist (the model has ${this.rawInputs.length})`);
    return buffer;
  }

  private enqueue(work: () => Promise<Float32Array[]>): Promise<Float32Array[]> {
    this.pending++;
    const result = this.queue.then(work);
    // Settles before the caller's own continuation runs, so a run called from there finds the queue idle.
    const done = () => {
      this.pending--;
    };
    this.queue = result.then(done, done);
    return result;
  }

  /** Records the whole inference into `encoder` (for callers that batch their own GPU work). */
  encode(encoder: GPUCommandEncoder, timestampWrites?: (index: number) => GPUComputePassTimestampWrites | undefined): void {
    this.checkUsable();
    if (timestampWrites) {
      // One pass per launch so each gets its own timestamps.
      this.dispatches.forEach((d, i) => {
        const pass = encoder.beginComputePass({ label: d.step.label, timestampWrites: timestampWrites(i) });
        this.recordDispatch(pass, d);
        pass.end();
      });
    } else {
      this.encodeSinglePass(encoder);
    }
  }

  /** Every launch in one compute pass, optionally bracketed by timestamps. */
  private encodeSinglePass(encoder: GPUCommandEncoder, timestampWrites?: GPUComputePassTimestampWrites): void {
    const pass = encoder.beginComputePass({ label: 'webcnn inference', timestampWrites });
    for (const d of this.dispatches) this.recordDispatch(pass, d);
    pass.end();
  }

  /**
   * Records launch `index` of `steps` alone in its own compute pass (for profilers that submit one launch at a
   * time). Launches read what earlier ones wrote, so run them in order for meaningful data.
   */
  encodeStep(encoder: GPUCommandEncoder, index: number, timestampWrites?: GPUComputePassTimestampWrites): void {
    this.checkUsable();
    const d = this.dispatches[index];
    if (!d) throw new RangeError(`step ${index} does not exist (the model has ${this.dispatches.length})`);
    const pass = encoder.beginComputePass({ label: d.step.label, timestampWrites });
    this.recordDispatch(pass, d);
    pass.end();
  }

  /** Uploads inputs without running (for profilers that time `encode` themselves). */
  writeInputs(inputs: readonly Float32Array[]): void {
    this.checkUsable();
    this.checkInputs(inputs);
    this.uploadInputs(inputs);
  }

  private checkInputs(inputs: readonly Float32Array[]): void {
    if (!Array.isArray(inputs) || inputs.length !== this.inputs.length) {
      const got = Array.isArray(inputs) ? inputs.length : 'no array';
      throw new ShapeError(`model takes ${this.inputs.length} input(s), got ${got}`);
    }
    inputs.forEach((data, i) => {
      const { name, shape } = this.inputs[i];
      const expected = elementCount(shape);
      if (!(data instanceof Float32Array) || data.length !== expected) {
        throw new ShapeError(`input ${i} (${name}) needs ${expected} float32 values for shape ${shapeToString(shape)}, got ${describeInput(data)}`);
      }
    });
  }

  private uploadInputs(inputs: readonly Float32Array[]): void {
    inputs.forEach((data, i) => {
      // Dawn's Node binding refuses shared memory, which WebGPU allows: copy such inputs to plain memory.
      const plain = data.buffer instanceof ArrayBuffer ? data : new Float32Array(data);
      this.device.queue.writeBuffer(this.rawInputs[i], 0, plain.buffer, plain.byteOffset, plain.byteLength);
    });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.tracker.destroyAll();
  }

  private recordDispatch(pass: GPUComputePassEncoder, d: PreparedDispatch): void {
    pass.setPipeline(d.pipeline);
    pass.setBindGroup(0, d.bindGroup);
    pass.dispatchWorkgroups(d.grid[0], d.grid[1]);
  }

  private checkUsable(): void {
    if (this.disposed) throw new DisposedError('the model was disposed; compile it again to run it');
    if (this.lostReason !== null) throw new DeviceLostError(`the GPU device was lost (${this.lostReason}); recompile the model on a new device`);
  }

  /**
   * One inference: `staged` inputs (when `run` could not write them at once), the prelude, the model and the
   * readback copies in one submit, under error scopes, so that a failed submit rejects instead of handing back
   * the previous run's outputs. `written` is the verdict on inputs written when `run` was called.
   */
  private async submitAndRead(
    prelude: (encoder: GPUCommandEncoder) => void,
    staged: readonly Float32Array[] | null,
    written: Promise<GPUError | null> | null,
  ): Promise<Float32Array[]> {
    this.checkUsable();
    const { error } = withErrorScopes(this.device, () => {
      if (staged) this.uploadInputs(staged);
      const encoder = this.device.createCommandEncoder({ label: 'webcnn run' });
      prelude(encoder);
      const timer = this.runTimer;
      this.encodeSinglePass(encoder, timer?.writes);
      this.rawOutputs.forEach((buffer, i) => {
        encoder.copyBufferToBuffer(buffer, 0, this.readback, this.outputOffsets[i], elementCount(this.outputs[i].shape) * 4);
      });
      if (timer) {
        encoder.resolveQuerySet(timer.querySet, 0, 2, timer.resolve, 0);
        encoder.copyBufferToBuffer(timer.resolve, 0, this.readback, timer.readbackOffset, 16);
      }
      this.device.queue.submit([encoder.finish()]);
    });
    const verdict = firstError(error, written);
    try {
      await this.readback.mapAsync(GPUMapMode.READ);
    } catch (e) {
      // A lost device fails the map before (or after) `device.lost` settles: give it a moment to say so (the
      // watcher marks the model; racing `device.lost` itself would tie this run to the device until it goes).
      if (this.lostReason === null) await new Promise((r) => setTimeout(r, 50));
      this.checkUsable();
      const failure = await verdict.catch(() => null);
      if (failure) throw gpuFailure('the run failed on the GPU', failure);
      throw new GpuError(`reading the output back failed: ${(e as Error).message || (e as Error).name}`);
    }
    const failure = await verdict.catch(() => null);
    if (failure) {
      this.readback.unmap();
      throw gpuFailure('the run failed on the GPU', failure);
    }
    const timer = this.runTimer;
    const mapped = this.readback.getMappedRange();
    const results = this.outputs.map((o, i) => new Float32Array(mapped, this.outputOffsets[i], elementCount(o.shape)).slice());
    if (timer) {
      const [begin, end] = new BigUint64Array(mapped, timer.readbackOffset, 2);
      this.gpuMs = end > begin ? Number(end - begin) / 1e6 : 0;
    }
    this.readback.unmap();
    return results;
  }
}
