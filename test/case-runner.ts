import { runGraphReference } from '../src/reference/index.ts';
import { CompiledModel } from '../src/runtime/compiled-model.ts';
import type { KernelChoice } from '../src/runtime/lowering.ts';
import { buildCase, compareOutputs, describeCase, type Comparison, type GpuCase } from './gpu-cases.ts';

export interface CaseResult extends Comparison {
  readonly description: string;
  readonly compileMs: number;
  readonly gpuMs: number;
  readonly referenceMs: number;
  readonly dispatches: number;
  readonly kernels: string[];
  /** Activation bytes after liveness-based reuse, and with one buffer per tensor. */
  readonly activationPeakBytes: number;
  readonly activationUnplannedBytes: number;
}

/**
 * Builds a case, runs it on the GPU (fused) and on the CPU reference (unfused), and compares. `kernels`
 * forces the tiles (to cover every variant the autotuner can pick).
 */
export async function runCase(device: GPUDevice, c: GpuCase, kernels?: KernelChoice): Promise<CaseResult> {
  const { graph, inputs } = buildCase(c);
  let t = performance.now();
  const model = await CompiledModel.compile(device, graph, { kernels });
  const compileMs = performance.now() - t;
  try {
    t = performance.now();
    const gpu = await model.run(inputs);
    const gpuMs = performance.now() - t;
    t = performance.now();
    const ref = runGraphReference(graph, inputs);
    const referenceMs = performance.now() - t;
    return {
      ...compareOutputs(gpu, ref),
      description: describeCase(c),
      compileMs,
      gpuMs,
      referenceMs,
      dispatches: model.dispatchCount,
      kernels: [...new Set(model.steps.map((s) => s.program.key))],
      activationPeakBytes: model.memory.activationPeakBytes,
      activationUnplannedBytes: model.memory.activationUnplannedBytes,
    };
  } finally {
    model.dispose();
  }
}
