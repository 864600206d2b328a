/**
 * webcnn as a peer: ONNX bytes -> `loadModel` -> `compileModel` -> `run` (NCHW f32 in, output read
 * back in JS). The device comes from `acquire` (the browser's `navigator.gpu`, or Dawn under Node), so that
 * the same engine serves the page and `npm run bench:peers -- --runtime node`.
 */
import { loadModel } from '../../src/formats/index.ts';
import { formatCompileTimings } from '../../src/bench/report.ts';
import type { CompileOptions } from '../../src/runtime/compile-options.ts';
import { compileModel } from '../../src/runtime/compile.ts';
import { CompiledModel } from '../../src/runtime/compiled-model.ts';
import type { Graph } from '../../src/graph/ir.ts';
import type { PeerEngine, PeerModel } from './protocol.ts';
import { summarizeFusions } from './fusions.ts';

export interface WebcnnEngineOptions {
  /** Storage precision of activations and weights (`compile`'s option; default f32, what the report compares). */
  readonly precision?: CompileOptions['precision'];
}

export function webcnnEngine(acquire: () => Promise<GPUDevice>, options: WebcnnEngineOptions = {}): PeerEngine {
  const precision = options.precision ?? 'f32';
  let device: GPUDevice | null = null;
  let model: CompiledModel | null = null;
  // The last prepare's phases, for the cold-start breakdown in the report.
  let prepareMs: { device: number; load: number } | null = null;
  // The graph as loaded, for the fusion summary (what the passes removed).
  let loadedGraph: Graph | null = null;
  // The tiered compile's second tier: milliseconds until it ran, when `settle` waited for it.
  let upgradeMs: number | null = null;
  return {
    id: 'webcnn',
    label: precision === 'f32' ? 'webcnn' : `webcnn (${precision})`,
    webgpu: true,
    async prepare(m: PeerModel) {
      const t0 = performance.now();
      device = await acquire();
      const t1 = performance.now();
      const loaded = loadModel(m.onnx, { fileName: `${m.network}.onnx` });
      const t2 = performance.now();
      model = await compileModel(device, loaded.graph, { precision });
      prepareMs = { device: t1 - t0, load: t2 - t1 };
      loadedGraph = loaded.graph;
    },
    async settle() {
      if (!model || model.upgrade.state === 'none' || model.upgrade.state === 'done') return;
      const t0 = performance.now();
      if (await model.whenUpgraded()) upgradeMs = performance.now() - t0;
      else if (model.upgrade.error) throw model.upgrade.error;
    },
    async run(input) {
      if (!model) throw new Error('webcnn: run before prepare');
      const [out] = await model.run([input]);
      return out;
    },
    lastGpuMs: () => model?.lastGpuTimeMs ?? null,
    async dispose() {
      model?.dispose();
      device?.destroy();
      model = null;
      device = null;
      loadedGraph = null;
      upgradeMs = null;
    },
    describe: () => ({
      dispatches: String(model?.dispatchCount ?? ''),
      timer: model && device?.features.has('timestamp-query') ? 'timestamp-query' : 'none',
      precision: model?.precision ?? precision,
      ...(model && prepareMs
        ? { prepare: formatCompileTimings(model.compileTimings, [['device', prepareMs.device], ['load', prepareMs.load]]) }
        : {}),
      ...(model
        ? {
            activationPeakBytes: String(model.memory.activationPeakBytes),
            activationUnplannedBytes: String(model.memory.activationUnplannedBytes),
            weightBytes: String(model.memory.weightBytes),
          }
        : {}),
      ...(upgradeMs !== null ? { upgrade: `${upgradeMs.toFixed(0)} ms in the background after set-up` } : {}),
      ...(model && loadedGraph ? { fusions: JSON.stringify(summarizeFusions(loadedGraph, model.graph, model.steps)) } : {}),
    }),
  };
}

