import type { StoragePrecision } from '../../shaders/common.ts';
import { packUniforms, uniformByteSize } from '../../shaders/common.ts';
import { DeviceLostError, ResourceLimitError, UnsupportedFeatureError } from '../errors.ts';
import { deviceAdapterInfo } from '../gpu/device.ts';
import { BufferTracker } from '../gpu/buffers.ts';
import type { LostWatcher } from '../gpu/device-lost.ts';
import { lostReasonText, watchDeviceLost } from '../gpu/device-lost.ts';
import { pipelineCacheFor } from '../gpu/pipeline-cache.ts';
import type { Graph } from '../graph/ir.ts';
import { elementCount } from '../graph/ir.ts';
import { planMemory } from '../graph/memory-plan.ts';
import { validateGraph } from '../graph/validate.ts';
import { tuneKernels } from './autotune.ts';
import type { CompileOptions, CompileTimings } from './compile-options.ts';
import type { PreparedDispatch, RunTimer } from './compiled-model.ts';
import { CompiledModel } from './compiled-model.ts';
import { firstError, gpuFailure, withErrorScopes } from './gpu-scopes.ts';
import type { BufferRef } from './step.ts';
import type { KernelChoice } from './kernel-choice.ts';
import { defaultKernelChoice, optimizeForKernels } from './kernel-choice.ts';
import { channelViewsOf, fusedBlocksIn, isAliasNode, lowerGraph, storageBytes } from './lowering.ts';
import { collapseBlocks } from './inverted-residual.ts';
import { profileStepsDetailed } from './profile-steps.ts';

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

/**
 * Runs `make` (a weight buffer); a `ResourceLimitError` it throws says why: each layer's weights are one buffer
 * (the model's weights as a whole are many), bound whole, so one layer's weights must fit a binding.
 */
function withWeightHint<T>(make: () => T): T {
  try {
    return make();
  } catch (e) {
    if (!(e instanceof ResourceLimitError)) throw e;
    throw new ResourceLimitError(
      `${e.message}: one layer's weights are bound as one buffer; acquireDevice() asks for the adapter's highest limits`,
      { cause: e },
    );
  }
}

/** Folds a 1D workgroup count into a 2D grid the kernels unfold with `num_workgroups`. */
export function dispatchGrid(workgroups: number): [number, number] {
  if (workgroups <= MAX_GROUPS_PER_DIM) return [Math.max(1, workgroups), 1];
  const y = Math.ceil(workgroups / MAX_GROUPS_PER_DIM);
  return [Math.ceil(workgroups / y), y];
}

/**
 * Validates, optimizes (BN folding, fusion), chooses kernels (tuning them when asked), lowers, plans memory and
 * builds every GPU object of a graph for `device`; the model it returns only runs.
 */
export async function compileModel(device: GPUDevice, source: Graph, options: CompileOptions = {}): Promise<CompiledModel> {
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
    const repeats = given.repeats ?? 3;
    // Each trial is a full compile of the optimized graph with the trial's tiles, timed launch by launch.
    const measure = async (choice: KernelChoice) => {
      const trial = await compileModel(device, graph, { optimize: false, kernels: choice, precision });
      try {
        return { steps: trial.steps, profile: await profileStepsDetailed(device, trial, repeats) };
      } finally {
        trial.dispose();
      }
    };
    const { perNode, invertedResidualBlocks } = await tuneKernels(device, graph, measure, { base: kernels, ...tuneOptions });
    kernels = { ...kernels, perNode, ...(invertedResidualBlocks.size ? { invertedResidualBlocks } : {}) };
  }
  const tuneMs = clock.lap();
  const steps = lowerGraph(graph, kernels, precision);
  const views = channelViewsOf(graph, kernels);
  // Fused inverted-residual blocks are one node to the plan: their hidden maps get no buffer.
  const plan = planMemory(collapseBlocks(graph, fusedBlocksIn(graph, kernels)), {
    bytesOf: (id) => storageBytes(graph.tensors[id].shape, precision),
    // A slice read in place is stored in its input's buffer, as an alias is.
    isAlias: (node) => isAliasNode(graph, node) || views.slice.has(node.output),
    viewRoot: (id) => views.concat.get(id)?.root,
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
      // Partial sums (split-K slices, fused squeeze-and-excitation sums): launches run in order, so one buffer
      // serves every step that has them.
      let scratchBytes = 0;
      for (const s of steps) for (const r of Object.values(s.buffers)) if (r.kind === 'scratch') scratchBytes = Math.max(scratchBytes, r.byteLength);
      const scratch = scratchBytes > 0 ? tracker.create('partial sums', scratchBytes, storage) : null;

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
              b = withWeightHint(() => tracker.createFilled(label, ref.byteLength, storage, ref.writeInto));
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
      kernels, precision, compileTimings,
      compileAgain: (target) => compileModel(target, graph, { ...options, kernels, tune: false, optimize: false }),
    });
  } catch (e) {
    // A limit check (ResourceLimitError), a failed pipeline, a GPU error or a lost device: free what was made.
    tracker.destroyAll();
    throw compileState.lost && !(e instanceof DeviceLostError) ? lostError(compileState.lost) : e;
  }
}
