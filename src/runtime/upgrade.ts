import type { KernelProgram, StoragePrecision } from '../../shaders/common.ts';
import { pipelineCacheFor } from '../gpu/pipeline-cache.ts';
import type { BufferTracker } from '../gpu/buffers.ts';
import type { Graph } from '../graph/ir.ts';
import type { KernelChoice } from './kernel-choice.ts';
import type { ModelBody, ModelEdges } from './model-body.ts';
import { buildBody, lowerBody } from './model-body.ts';

/**
 * Tiered compilation: a model compiles on a kernel choice that is quick to compile, and once it runs in a loop
 * moves to a faster one compiled in the background (`CompileOptions.upgrade`). On software adapters the fastest
 * tiles compile several times slower than the default's, which a page's first frame should not wait for.
 */

/**
 * Where a model's upgrade stands: 'none' (none asked for), 'waiting' (for `afterRuns` runs), 'compiling',
 * 'done' (the model runs the upgrade's kernels), 'failed' (`error` says why; the model keeps its first kernels),
 * 'abandoned' (the model was disposed or its device lost first).
 */
export interface UpgradeStatus {
  readonly state: 'none' | 'waiting' | 'compiling' | 'done' | 'failed' | 'abandoned';
  readonly error?: Error;
}

/** The distinct programs of `steps`, in launch order. */
function distinctPrograms(steps: readonly { readonly program: KernelProgram }[], precision: StoragePrecision): KernelProgram[] {
  const seen = new Map<string, KernelProgram>();
  for (const { program } of steps) {
    const key = `${program.key}|${program.precision ?? precision}`;
    if (!seen.has(key)) seen.set(key, program);
  }
  return [...seen.values()];
}

/**
 * The body of `graph` on `kernels`, against the model's `edges`, its buffers made in `tracker`. Its pipelines
 * compile one at a time (each awaited before the next starts), so that on a CPU adapter the runs meanwhile keep
 * the machine's other cores; `stop` is asked between them, and a true answer ends the compile with null
 * (nothing of the body made yet).
 */
export async function compileUpgrade(
  device: GPUDevice, graph: Graph, kernels: KernelChoice, precision: StoragePrecision, edges: ModelEdges, stop: () => boolean,
  tracker: BufferTracker,
): Promise<ModelBody | null> {
  // A macrotask later: the run that started the upgrade is recorded and submitted before the lowering runs.
  await new Promise((resolve) => setTimeout(resolve, 0));
  const lowered = lowerBody(graph, kernels, precision);
  const cache = pipelineCacheFor(device);
  for (const program of distinctPrograms(lowered.steps, precision)) {
    if (stop()) return null;
    await cache.get(program);
  }
  if (stop()) return null;
  const { body } = await buildBody(device, lowered, edges, precision, undefined, tracker);
  return body;
}
