import type { StoragePrecision } from '../../shaders/common.ts';
import { DeviceLostError, DisposedError, GpuError, ShapeError } from '../errors.ts';
import { BufferTracker } from '../gpu/buffers.ts';
import type { LostWatcher } from '../gpu/device-lost.ts';
import { lostReasonText, watchDeviceLost } from '../gpu/device-lost.ts';
import type { Graph, Shape4, TensorId } from '../graph/ir.ts';
import { elementCount, shapeToString } from '../graph/ir.ts';
import type { MemoryPlan } from '../graph/memory-plan.ts';
import type { CompileTimings, UpgradePlan } from './compile-options.ts';
import { firstError, gpuFailure, withErrorScopes } from './gpu-scopes.ts';
import type { KernelChoice } from './kernel-choice.ts';
import type { ModelBody, ModelEdges, PreparedDispatch } from './model-body.ts';
import type { Step } from './step.ts';
import type { UpgradeStatus } from './upgrade.ts';
import { compileUpgrade } from './upgrade.ts';
import { classOf, withArticle } from '../util/describe.ts';

export interface TensorDescription {
  readonly name: string;
  readonly shape: Shape4;
}

/**
 * A model's GPU memory. `buffers`, `bytes`, `weightBytes` and `scratchBytes` are what it holds now (all 0 after
 * `dispose()`; `buffers` and `bytes` count both kernel choices' buffers while an upgrade is built and swapped
 * in); the two activation figures describe the memory plan of the kernels that run now, which `dispose()` does
 * not change.
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

  /** Buffers that keep their identity for the model's life (inputs, outputs, readback, run timer). */
  private readonly edges: ModelEdges;
  /** What runs: the first kernel choice's body, and the upgrade's once it has replaced it. */
  private body: ModelBody;
  /**
   * The body an upgrade replaced, kept until the first run after the swap completes: commands `encode` recorded
   * before the swap may still be submitted meanwhile.
   */
  private retired: ModelBody | null = null;
  /** Owns what the upgrade's body is made of while it is built (counted by `memory`, freed by `dispose`). */
  private upgradeTracker: BufferTracker | null = null;
  private gpuMs: number | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  /** Runs called and not yet settled. */
  private pending = 0;
  /** Runs called since compile, counted for `UpgradePlan.afterRuns`. */
  private runsCalled = 0;
  private disposed = false;
  private lostReason: string | null = null;
  /** Compiles this model's graph and options again (given by `compileModel`, which owns compiling). */
  private readonly compileAgain: (device: GPUDevice) => Promise<CompiledModel>;
  private readonly upgradePlan: UpgradePlan | null;
  private upgradeState: UpgradeStatus;
  /** Settles once the upgrade is in place (true) or will not be (false); null until it starts. */
  private upgrading: Promise<boolean> | null = null;
  /** How this model stores activations and weights (the `precision` option, 'auto' resolved). */
  readonly precision: StoragePrecision;
  /** Where `compile` spent its time (for cold-start breakdowns). */
  readonly compileTimings: CompileTimings;

  /** Made by `compileModel` (compile.ts), which builds every part. */
  constructor(
    readonly device: GPUDevice,
    edges: ModelEdges,
    body: ModelBody,
    parts: {
      graph: Graph;
      precision: StoragePrecision;
      compileTimings: CompileTimings;
      upgrade: UpgradePlan | null;
      compileAgain: (device: GPUDevice) => Promise<CompiledModel>;
    },
  ) {
    this.edges = edges;
    this.body = body;
    this.compileAgain = parts.compileAgain;
    this.precision = parts.precision;
    this.compileTimings = parts.compileTimings;
    this.graph = parts.graph;
    this.upgradePlan = parts.upgrade;
    this.upgradeState = { state: parts.upgrade ? 'waiting' : 'none' };
    if (parts.upgrade?.afterRuns === 0) this.startUpgrade();
    const describe = (id: TensorId): TensorDescription => ({ name: this.graph.tensors[id].name, shape: this.graph.tensors[id].shape });
    this.inputs = this.graph.inputs.map(describe);
    this.outputs = this.graph.outputs.map(describe);
    // Weakly: the device outlives its models, and must not keep a disposed one in memory (device-lost.ts).
    watchDeviceLost(device, this.lostWatcher);
  }

  /** The launches that run now (they change once, when an upgrade takes over). */
  get steps(): readonly Step[] {
    return this.body.steps;
  }

  get memoryPlan(): MemoryPlan {
    return this.body.plan;
  }

  /** The tiles that run now: the compile's (tuned per layer when `tune` was on), or the upgrade's once it is in place. */
  get kernels(): KernelChoice {
    return this.body.kernels;
  }

  /** Where the tiered compile stands (`CompileOptions.upgrade`). */
  get upgrade(): UpgradeStatus {
    return this.upgradeState;
  }

  /**
   * Starts the upgrade now if it waits for runs, and settles once it is in place (true) or will not be: no
   * upgrade, it failed (`upgrade.error`), or the model was disposed or its device lost first (false). Benchmarks
   * await it to time the kernels a model runs in a loop.
   */
  whenUpgraded(): Promise<boolean> {
    if (this.upgradeState.state === 'waiting' && !this.usable) return Promise.resolve(this.endUpgrade('abandoned'));
    if (this.upgradeState.state === 'waiting') this.startUpgrade();
    return this.upgrading ?? Promise.resolve(this.upgradeState.state === 'done');
  }

  private startUpgrade(): void {
    const plan = this.upgradePlan!;
    this.upgradeState = { state: 'compiling' };
    const stop = () => !this.usable;
    const tracker = new BufferTracker(this.device);
    this.upgradeTracker = tracker;
    this.upgrading = compileUpgrade(this.device, this.graph, plan.kernels, this.precision, this.edges, stop, tracker).then(
      (body) => (body ? this.swapBody(body) : this.endUpgrade('abandoned')),
      (e: unknown) => this.endUpgrade(this.usable ? 'failed' : 'abandoned', e instanceof Error ? e : new Error(String(e))),
    );
  }

  private endUpgrade(state: 'failed' | 'abandoned', error?: Error): false {
    this.upgradeTracker?.destroyAll();
    this.upgradeTracker = null;
    this.upgradeState = error ? { state, error } : { state };
    return false;
  }

  /**
   * Puts `body` in place behind the runs already called (they finish on the old one); the old one is freed once
   * the next run completes.
   */
  private swapBody(body: ModelBody): Promise<boolean> {
    const swapped = this.queue.then(() => {
      if (!this.usable) return this.endUpgrade('abandoned');
      this.retired = this.body;
      this.body = body;
      this.upgradeTracker = null;
      this.upgradeState = { state: 'done' };
      return true;
    });
    this.queue = swapped.then(() => undefined, () => undefined);
    return swapped;
  }

  /** Held by the model alone; `watchDeviceLost` keeps only a weak reference to it. */
  private readonly lostWatcher: LostWatcher = { onLost: (info) => this.markLost(info) };

  private markLost(info: GPUDeviceLostInfo): void {
    if (this.lostReason === null) this.lostReason = lostReasonText(info);
  }

  /**
   * The same model compiled again, e.g. on a new device after this one was lost: from the graph kept in
   * memory, without reloading the model file.
   */
  recompile(device: GPUDevice): Promise<CompiledModel> {
    return this.compileAgain(device);
  }

  /** True once the device is lost or the model disposed: every further call rejects. */
  get usable(): boolean {
    return !this.disposed && this.lostReason === null;
  }

  get memory(): MemoryReport {
    return {
      buffers: this.trackers().reduce((n, t) => n + t.count, 0),
      bytes: this.trackers().reduce((n, t) => n + t.bytes, 0),
      activationPeakBytes: this.memoryPlan.peakBytes,
      activationUnplannedBytes: this.memoryPlan.unplannedBytes,
      weightBytes: this.disposed ? 0 : this.body.weightBytes,
      scratchBytes: this.disposed ? 0 : this.body.scratchBytes,
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

  /** Everything that holds this model's GPU buffers now: an upgrade's old and new bodies too, while they live. */
  private trackers(): BufferTracker[] {
    return [this.edges.tracker, this.body.tracker, ...(this.retired ? [this.retired.tracker] : []), ...(this.upgradeTracker ? [this.upgradeTracker] : [])];
  }

  /** Number of kernel launches per inference. */
  get dispatchCount(): number {
    return this.body.dispatches.length;
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

  /**
   * Runs with GPU work around the model and no output readback: `prelude` writes the inputs (as for `runWith`),
   * `epilogue` reads the outputs from `rawOutputBuffer(i)` (e.g. post-processing into the caller's buffers), all in
   * one submit. Resolves once the submit is known to be valid (and, where the device has `timestamp-query`, the
   * GPU has done it and `lastGpuTimeMs` is updated); map a buffer the epilogue wrote to wait for the GPU. Rejects
   * as `run` does.
   */
  runOnGpu(prelude: (encoder: GPUCommandEncoder) => void, epilogue: (encoder: GPUCommandEncoder) => void): Promise<void> {
    try {
      this.checkUsable();
    } catch (e) {
      return Promise.reject(e);
    }
    return this.enqueue(() => this.submitAndRead(prelude, null, null, epilogue)).then(() => undefined);
  }

  /** The NCHW f32 storage buffer output `index` holds after each run (read it in a `runOnGpu` epilogue). */
  rawOutputBuffer(index: number): GPUBuffer {
    const buffer = this.edges.rawOutputs[index];
    if (!buffer) throw new RangeError(`output ${index} does not exist (the model has ${this.edges.rawOutputs.length})`);
    return buffer;
  }

  /** The NCHW f32 storage buffer input `index` is read from at the start of each run. */
  rawInputBuffer(index: number): GPUBuffer {
    const buffer = this.edges.rawInputs[index];
    if (!buffer) throw new RangeError(`input ${index} does not exist (the model has ${this.edges.rawInputs.length})`);
    return buffer;
  }

  private enqueue(work: () => Promise<Float32Array[]>): Promise<Float32Array[]> {
    this.pending++;
    this.runsCalled++;
    if (this.upgradeState.state === 'waiting' && this.runsCalled >= this.upgradePlan!.afterRuns) this.startUpgrade();
    const result = this.queue.then(() => {
      // The first run on an upgrade's body frees the body it replaced once it completes.
      const retired = this.retired;
      if (retired === null) return work();
      return work().finally(() => {
        if (this.retired !== retired) return;
        retired.tracker.destroyAll();
        this.retired = null;
      });
    });
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
      this.body.dispatches.forEach((d, i) => {
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
    for (const d of this.body.dispatches) this.recordDispatch(pass, d);
    pass.end();
  }

  /**
   * Records launch `index` of `steps` alone in its own compute pass (for profilers that submit one launch at a
   * time). Launches read what earlier ones wrote, so run them in order for meaningful data.
   */
  encodeStep(encoder: GPUCommandEncoder, index: number, timestampWrites?: GPUComputePassTimestampWrites): void {
    this.checkUsable();
    const d = this.body.dispatches[index];
    if (!d) throw new RangeError(`step ${index} does not exist (the model has ${this.body.dispatches.length})`);
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
      this.device.queue.writeBuffer(this.edges.rawInputs[i], 0, plain.buffer, plain.byteOffset, plain.byteLength);
    });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const t of this.trackers()) t.destroyAll();
    this.retired = null;
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
    /** Present: GPU work after the model, and no output readback (`runOnGpu`). */
    epilogue?: (encoder: GPUCommandEncoder) => void,
  ): Promise<Float32Array[]> {
    this.checkUsable();
    const timer = this.edges.runTimer;
    const { error } = withErrorScopes(this.device, () => {
      if (staged) this.uploadInputs(staged);
      const encoder = this.device.createCommandEncoder({ label: 'webcnn run' });
      prelude(encoder);
      this.encodeSinglePass(encoder, timer?.writes);
      if (epilogue) {
        epilogue(encoder);
      } else {
        this.edges.rawOutputs.forEach((buffer, i) => {
          encoder.copyBufferToBuffer(buffer, 0, this.edges.readback, this.edges.outputOffsets[i], elementCount(this.outputs[i].shape) * 4);
        });
      }
      if (timer) {
        encoder.resolveQuerySet(timer.querySet, 0, 2, timer.resolve, 0);
        encoder.copyBufferToBuffer(timer.resolve, 0, this.edges.readback, timer.readbackOffset, 16);
      }
      this.device.queue.submit([encoder.finish()]);
    });
    const verdict = firstError(error, written);
    try {
      if (!epilogue) {
        await this.edges.readback.mapAsync(GPUMapMode.READ);
      } else if (timer) {
        // Only the timestamps.
        await this.edges.readback.mapAsync(GPUMapMode.READ, timer.readbackOffset, 16);
      }
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
    const mappedAny = !epilogue || timer !== null;
    if (failure) {
      if (mappedAny) this.edges.readback.unmap();
      throw gpuFailure('the run failed on the GPU', failure);
    }
    if (epilogue) {
      if (timer) {
        this.readTimer(this.edges.readback.getMappedRange(timer.readbackOffset, 16), 0);
        this.edges.readback.unmap();
      }
      return [];
    }
    const mapped = this.edges.readback.getMappedRange();
    const results = this.outputs.map((o, i) => new Float32Array(mapped, this.edges.outputOffsets[i], elementCount(o.shape)).slice());
    if (timer) this.readTimer(mapped, timer.readbackOffset);
    this.edges.readback.unmap();
    return results;
  }

  private readTimer(mapped: ArrayBuffer, offset: number): void {
    const [begin, end] = new BigUint64Array(mapped, offset, 2);
    this.gpuMs = end > begin ? Number(end - begin) / 1e6 : 0;
  }
}

