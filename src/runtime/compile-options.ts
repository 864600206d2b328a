import type { StoragePrecision } from '../../shaders/common.ts';
import type { TuneOptions } from './autotune.ts';
import type { KernelChoice } from './kernel-choice.ts';

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
  /**
   * Tiered compilation: a second, faster kernel choice whose pipelines compile in the background, one at a time,
   * once the model has run `afterRuns` times (or when `whenUpgraded()` is called); the model then moves to it
   * between two runs. Default: `defaultUpgrade(adapter)` when neither `kernels` nor `tune` is given (on
   * software adapters the tiles that run faster but compile slower, none on GPUs); false: none. The upgrade
   * lowers the graph the first kernels' passes made, so its `fusePoolLinear` and `fuseInputTransforms` must match.
   */
  readonly upgrade?: UpgradePlan | false;
}

/** A kernel choice to move a compiled model to once it is compiled (`CompileOptions.upgrade`). */
export interface UpgradePlan {
  readonly kernels: KernelChoice;
  /**
   * Runs on the first choice before the upgrade starts compiling: a model run this often is in a loop. 0: it
   * starts as soon as the model is compiled.
   */
  readonly afterRuns: number;
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
