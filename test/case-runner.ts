import { runGraphReference } from '../src/reference/index.ts';
import { compileModel } from '../src/runtime/compile.ts';
import type { KernelChoice } from '../src/runtime/kernel-choice.ts';
import { buildCase, caseTolerance, compareOutputs, describeCase, type Comparison, type GpuCase } from './gpu-cases.ts';

export interface CaseResult extends Comparison {
  readonly description: string;
  readonly compileMs: number;
  readonly gpuMs: number;
  readonly referenceMs: number;
  readonly dispatches: number;
  readonly kernels: string[];
  /** Whether the kernel choice the model compiled with fuses a global pool into the FC layer it feeds. */
  readonly headFusion: boolean;
  /** Activation bytes after liveness-based reuse, and with one buffer per tensor. */
  readonly activationPeakBytes: number;
  readonly activationUnplannedBytes: number;
  /** Why the case did not run (native f16 on an adapter without `shader-f16`); `ok` is then false. */
  readonly skipped?: string;
}

export const NO_SHADER_F16 = 'adapter has no shader-f16';

function skippedResult(c: GpuCase, reason: string): CaseResult {
  return {
    maxAbsError: NaN, maxAbsRef: NaN, tolerance: NaN, ok: false, nonFinite: 0, description: describeCase(c), compileMs: 0, gpuMs: 0,
    referenceMs: 0, dispatches: 0, kernels: [], headFusion: false, activationPeakBytes: 0, activationUnplannedBytes: 0, skipped: reason,
  };
}

/**
 * Builds a case, runs it on the GPU (fused, at the case's storage precision) and on the CPU reference (unfused,
 * f32), and compares. `kernels` forces the tiles (to cover every variant the autotuner can pick). Native f16
 * cases on a device without `shader-f16` come back `skipped`.
 */
export async function runCase(device: GPUDevice, c: GpuCase, kernels?: KernelChoice): Promise<CaseResult> {
  if (c.precision === 'f16' && !device.features.has('shader-f16')) return skippedResult(c, NO_SHADER_F16);
  const { graph, inputs } = buildCase(c);
  let t = performance.now();
  const model = await compileModel(device, graph, { kernels, precision: c.precision });
  const compileMs = performance.now() - t;
  try {
    t = performance.now();
    const gpu = await model.run(inputs);
    const gpuMs = performance.now() - t;
    t = performance.now();
    const ref = runGraphReference(graph, inputs);
    const referenceMs = performance.now() - t;
    return {
      ...compareOutputs(gpu, ref, caseTolerance(c)),
      description: describeCase(c),
      compileMs,
      gpuMs,
      referenceMs,
      dispatches: model.dispatchCount,
      kernels: [...new Set(model.steps.map((s) => s.program.key))],
      headFusion: model.kernels.fusePoolLinear !== false,
      activationPeakBytes: model.memory.activationPeakBytes,
      activationUnplannedBytes: model.memory.activationUnplannedBytes,
    };
  } finally {
    model.dispose();
  }
}
