import type { StoragePrecision } from '../../shaders/common.ts';
import { packUniforms, uniformByteSize } from '../../shaders/common.ts';
import { ResourceLimitError } from '../errors.ts';
import { BufferTracker } from '../gpu/buffers.ts';
import { pipelineCacheFor } from '../gpu/pipeline-cache.ts';
import type { Graph } from '../graph/ir.ts';
import { elementCount } from '../graph/ir.ts';
import type { MemoryPlan } from '../graph/memory-plan.ts';
import { planMemory } from '../graph/memory-plan.ts';
import { firstError, gpuFailure, withErrorScopes } from './gpu-scopes.ts';
import { collapseBlocks } from './inverted-residual.ts';
import type { KernelChoice } from './kernel-choice.ts';
import { checkKernelChoice } from './kernel-table.ts';
import { channelViewsOf, fusedBlocksIn, isAliasNode, lowerGraph, storageBytes } from './lowering.ts';
import type { BufferRef, Step } from './step.ts';

/** The per-run timestamp pair: query set, resolve buffer, where it lands in the readback, the pass's writes. */
export interface RunTimer {
  readonly querySet: GPUQuerySet;
  readonly resolve: GPUBuffer;
  readonly readbackOffset: number;
  readonly writes: GPUComputePassTimestampWrites;
}

/** One launch ready to record: everything was created at compile time. */
export interface PreparedDispatch {
  readonly step: Step;
  readonly pipeline: GPUComputePipeline;
  readonly bindGroup: GPUBindGroup;
  readonly grid: readonly [number, number];
}

/**
 * A compiled model in two parts. The edges (NCHW input and output buffers, the readback, the run timer) are made
 * once and keep their identity for the model's life, since callers bind them (`rawInputBuffer`). The body (steps,
 * memory plan, activation, weight, uniform and scratch buffers, pipelines and bind groups) belongs to one kernel
 * choice, and a tiered compile replaces it with a faster one's (upgrade.ts).
 */
export interface ModelEdges {
  readonly tracker: BufferTracker;
  readonly rawInputs: GPUBuffer[];
  readonly rawOutputs: GPUBuffer[];
  readonly readback: GPUBuffer;
  readonly outputOffsets: number[];
  readonly runTimer: RunTimer | null;
}

export interface ModelBody {
  readonly tracker: BufferTracker;
  readonly kernels: KernelChoice;
  readonly steps: Step[];
  readonly plan: MemoryPlan;
  readonly dispatches: PreparedDispatch[];
  readonly weightBytes: number;
  readonly scratchBytes: number;
}

/** A graph lowered for one kernel choice: its steps and memory plan, before any GPU object exists. */
export interface LoweredBody {
  readonly kernels: KernelChoice;
  readonly steps: Step[];
  readonly plan: MemoryPlan;
}

/** Milliseconds of each phase of `buildBody` (see `CompileTimings`); `startMs`: starting the pipeline compiles. */
export interface BodyTimings {
  readonly startMs: number;
  readonly buffersMs: number;
  readonly weightsMs: number;
  readonly pipelinesMs: number;
  readonly bindGroupsMs: number;
}

const MAX_GROUPS_PER_DIM = 65535;

/** Folds a 1D workgroup count into a 2D grid the kernels unfold with `num_workgroups`. */
export function dispatchGrid(workgroups: number): [number, number] {
  if (workgroups <= MAX_GROUPS_PER_DIM) return [Math.max(1, workgroups), 1];
  const y = Math.ceil(workgroups / MAX_GROUPS_PER_DIM);
  return [Math.ceil(workgroups / y), y];
}

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

/** Lowers `graph` for `kernels` and plans its activation memory; fused inverted-residual blocks are one node to the plan. */
export function lowerBody(graph: Graph, kernels: KernelChoice, precision: StoragePrecision): LoweredBody {
  checkKernelChoice(kernels);
  const blocks = fusedBlocksIn(graph, kernels);
  const steps = lowerGraph(graph, kernels, precision, blocks);
  const views = channelViewsOf(graph, kernels);
  const plan = planMemory(collapseBlocks(graph, blocks), {
    bytesOf: (id) => storageBytes(graph.tensors[id].shape, precision),
    // A slice read in place is stored in its input's buffer, as an alias is.
    isAlias: (node) => isAliasNode(graph, node) || views.slice.has(node.output),
    viewRoot: (id) => views.concat.get(id)?.root,
  });
  return { kernels, steps, plan };
}

/** The edges of `graph` on `device`; the caller owns `tracker` and frees it on failure. */
export function makeEdges(device: GPUDevice, graph: Graph, tracker: BufferTracker): ModelEdges {
  const storage = GPUBufferUsage.STORAGE;
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
  return { tracker, rawInputs, rawOutputs, readback, outputOffsets, runTimer };
}

/**
 * Builds every GPU object of `lowered`'s body against `edges` (or the edges `makeEdges` makes, right after the
 * activation buffers, whose limit errors say more): pipeline compiles start first and finish in parallel while
 * the buffers are made and the weights packed; a GPU error or a failed pipeline rejects, with everything the body
 * made freed (the edges' tracker is the caller's). `lap` times the phases.
 */
export async function buildBody(
  device: GPUDevice, lowered: LoweredBody, edgesOrMaker: ModelEdges | (() => ModelEdges), precision: StoragePrecision, lap: () => number = () => 0,
  tracker: BufferTracker = new BufferTracker(device),
): Promise<{ body: ModelBody; edges: ModelEdges; timings: BodyTimings }> {
  const { steps, plan } = lowered;
  const cache = pipelineCacheFor(device);
  const pipelines = steps.map((s) => cache.get(s.program));
  pipelines.forEach((p) => p.catch(() => undefined));
  // Creating the shader modules and starting their compiles counts as lowering, as it did before the split.
  const startMs = lap();
  try {
    // Everything up to the pipeline wait is synchronous GPU work, checked by one pair of error scopes.
    let buffersMs = 0;
    const made = withErrorScopes(device, () => {
      const storage = GPUBufferUsage.STORAGE;
      const slots = plan.slotBytes.map((bytes, i) => withActivationHint(precision, () => tracker.create(`activation buffer ${i}`, bytes, storage)));
      const edges = typeof edgesOrMaker === 'function' ? edgesOrMaker() : edgesOrMaker;
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
            return edges.rawInputs[ref.index];
          case 'rawOutput':
            return edges.rawOutputs[ref.index];
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
      buffersMs = lap();

      // Weights are packed and uploaded here, while the pipelines compile.
      for (const step of steps) {
        for (const [name, ref] of Object.entries(step.buffers)) if (ref.kind === 'constant') resolve(ref, `${step.label} ${name}`);
      }
      // Every constant is made by now: binding only looks them up, so the weight count is final.
      return { edges, scratchBytes, resolve, uniforms, uniformOffsets, weightBytes: () => weightBytes };
    });
    const weightsMs = lap();
    const resolved = await Promise.all(pipelines);
    const pipelinesMs = lap();
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
    if (failure) throw gpuFailure('compiling the model failed', failure);
    const bindGroupsMs = lap();
    const body: ModelBody = {
      tracker, kernels: lowered.kernels, steps, plan, dispatches: bound.value, weightBytes: made.value.weightBytes(), scratchBytes: made.value.scratchBytes,
    };
    return { body, edges: made.value.edges, timings: { startMs, buffersMs, weightsMs, pipelinesMs, bindGroupsMs } };
  } catch (e) {
    tracker.destroyAll();
    throw e;
  }
}
