/**
 * Whole networks with every inverted-residual block on the fused kernel (squeeze-and-excitation blocks included:
 * shaders/inverted-residual/) against the same network's separate launches and against the CPU reference, f32,
 * on the zoo's ONNX exports (`npm run zoo`, docs/zoo.md): MobileNetV3-Large and EfficientNet-B0 at 64 x 64.
 * Needs the export cache (`WEBCNN_ZOO_CACHE`, default `zoo-cache/` in the project); skipped without it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadModel } from '../src/formats/index.ts';
import { runGraphReference } from '../src/reference/run-graph.ts';
import { compileModel } from '../src/runtime/compile.ts';
import { findInvertedResidualBlocks } from '../src/runtime/inverted-residual.ts';
import type { KernelChoice } from '../src/runtime/kernel-choice.ts';
import { optimizeForKernels } from '../src/runtime/kernel-choice.ts';
import { fusedBlocksIn } from '../src/runtime/lowering.ts';
import { Rng } from '../src/util/random.ts';
import { PROJECT_ROOT } from './shared.ts';

export const ZOO_CACHE = resolve(process.env.WEBCNN_ZOO_CACHE ?? resolve(PROJECT_ROOT, 'zoo-cache'));
export const FUSED_NETWORKS = ['mobilenet_v3_large', 'efficientnet_b0'] as const;

export interface FusedNetworkResult {
  readonly network: string;
  readonly skipped?: string;
  readonly ok: boolean;
  readonly description: string;
}

const maxAbs = (a: Float32Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

/** One network: every block fused (SE blocks too), outputs within `1e-4 * max|ref| + 1e-5` of both references. */
export async function checkFusedNetwork(device: GPUDevice, network: string, base: KernelChoice): Promise<FusedNetworkResult> {
  const file = resolve(ZOO_CACHE, `${network}_op13_b1_s64_seed0`, 'model.onnx');
  if (!existsSync(file)) return { network, skipped: `needs ${file} (npm run zoo; WEBCNN_ZOO_CACHE)`, ok: false, description: '' };
  const { graph } = loadModel(new Uint8Array(readFileSync(file)));
  const fusedChoice: KernelChoice = { ...base, invertedResidual: 'fused' };
  const optimized = optimizeForKernels(graph, fusedChoice);
  const blocks = findInvertedResidualBlocks(optimized);
  const fusedBlocks = fusedBlocksIn(optimized, fusedChoice);
  const x = new Rng(2).fill(graph.tensors[graph.inputs[0]].shape.reduce((a, b) => a * b, 1), -1, 1);
  const outputs: Float32Array[] = [];
  const dispatches: number[] = [];
  for (const kernels of [base, fusedChoice]) {
    const model = await compileModel(device, graph, { kernels });
    try {
      outputs.push((await model.run([x]))[0]);
      dispatches.push(model.dispatchCount);
    } finally {
      model.dispose();
    }
  }
  const [reference] = runGraphReference(graph, [x]);
  const tolerance = 1e-4 * maxAbs(reference) + 1e-5;
  const vsReference = maxDiff(outputs[1], reference);
  const vsSeparate = maxDiff(outputs[1], outputs[0]);
  const se = [...fusedBlocks.values()].filter((b) => b.se).length;
  const ok = blocks.length > 0 && fusedBlocks.size === blocks.length && vsReference <= tolerance && vsSeparate <= tolerance;
  return {
    network,
    ok,
    description: `${network} 64: ${fusedBlocks.size} of ${blocks.length} blocks fused (${se} with SE), dispatches ${dispatches[0]} -> ${dispatches[1]}, `
      + `max|fused - reference| ${vsReference.toExponential(2)}, max|fused - separate| ${vsSeparate.toExponential(2)}, tol ${tolerance.toExponential(2)}`,
  };
}
