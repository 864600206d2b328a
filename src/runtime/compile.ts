import type { StoragePrecision } from '../../shaders/common.ts';
import { DeviceLostError, UnsupportedFeatureError } from '../errors.ts';
import { deviceAdapterInfo } from '../gpu/device.ts';
import { BufferTracker } from '../gpu/buffers.ts';
import type { LostWatcher } from '../gpu/device-lost.ts';
import { lostReasonText, watchDeviceLost } from '../gpu/device-lost.ts';
import type { Graph } from '../graph/ir.ts';
import { validateGraph } from '../graph/validate.ts';
import { tuneKernels } from './autotune.ts';
import type { CompileOptions, CompileTimings, UpgradePlan } from './compile-options.ts';
import { CompiledModel } from './compiled-model.ts';
import type { KernelChoice } from './kernel-choice.ts';
import { defaultKernelChoice, defaultUpgrade, optimizeForKernels } from './kernel-choice.ts';
import { checkKernelChoice } from './kernel-table.ts';
import { buildBody, dispatchGrid, lowerBody, makeEdges } from './model-body.ts';
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

/** Re-exported from model-body.ts, where the launches are made. */
export { dispatchGrid };

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
  const adapterInfo = deviceAdapterInfo(device);
  let kernels = options.kernels ?? defaultKernelChoice(adapterInfo);
  const upgrade = upgradeOf(options, kernels, adapterInfo);
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
  const lowered = lowerBody(graph, kernels, precision);
  const lowerMs = clock.lap();
  const edgeTracker = new BufferTracker(device);
  try {
    const { body, edges, timings } = await buildBody(device, lowered, () => makeEdges(device, graph, edgeTracker), precision, clock.lap);
    if (compileState.lost) {
      body.tracker.destroyAll();
      throw lostError(compileState.lost);
    }
    const { startMs, ...phases } = timings;
    const compileTimings: CompileTimings = { optimizeMs, tuneMs, lowerMs: lowerMs + startMs, ...phases, totalMs: clock.total() };
    return new CompiledModel(device, edges, body, {
      graph, precision, compileTimings, upgrade,
      // The same tiers again: the first choice compiles fast, the upgrade follows in the background.
      compileAgain: (target) => compileModel(target, graph, { ...options, kernels, tune: false, optimize: false, upgrade: upgrade ?? false }),
    });
  } catch (e) {
    // A limit check (ResourceLimitError), a failed pipeline, a GPU error or a lost device: free what was made.
    edgeTracker.destroyAll();
    throw compileState.lost && !(e instanceof DeviceLostError) ? lostError(compileState.lost) : e;
  }
}

/**
 * The tiered compile `options` ask for: their `upgrade`, or, when they name no kernels and no tuning, the
 * adapter's default upgrade (`defaultUpgrade`). `first`: the kernels the model starts on.
 */
function upgradeOf(options: CompileOptions, first: KernelChoice, adapterInfo: GPUAdapterInfo | undefined): UpgradePlan | null {
  const plan = options.upgrade;
  if (plan === false) return null;
  if (plan) {
    if (typeof plan !== 'object' || typeof plan.kernels !== 'object' || plan.kernels === null) {
      throw new UnsupportedFeatureError('upgrade: needs { kernels, afterRuns } (or false for none)');
    }
    try {
      checkKernelChoice(plan.kernels);
    } catch (e) {
      throw new UnsupportedFeatureError(`upgrade.${(e as Error).message}`);
    }
    if (!Number.isInteger(plan.afterRuns) || plan.afterRuns < 0) {
      throw new UnsupportedFeatureError(`upgrade.afterRuns: ${String(plan.afterRuns)} is not an integer >= 0`);
    }
    // The upgrade lowers the graph the first tier's passes made: a choice asking for other passes cannot have them.
    for (const pass of ['fusePoolLinear', 'fuseInputTransforms'] as const) {
      if ((plan.kernels[pass] !== false) !== (first[pass] !== false)) {
        throw new UnsupportedFeatureError(`upgrade.kernels.${pass}: must match the first kernels' (${String(first[pass] !== false)}), the graph is optimized once`);
      }
    }
    return plan;
  }
  if (options.kernels || options.tune) return null;
  return defaultUpgrade(adapterInfo);
}
