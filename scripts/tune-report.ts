/**
 * `npm run tune-report [-- --networks mobilenet_v2,resnet50] [--input-size N] [--runs N] [--out FILE]`
 *
 * Which kernel tiles win on this adapter, and by how much: for MobileNetV2 1.0 and ResNet-50 (random weights,
 * batch 1) under Node through Dawn, it times whole inferences and every launch for several whole-network tile
 * choices (both deterministic defaults, small register tiles, workgroup-memory tiles, the GPU default with
 * split-K on layers of few output tiles) and for the autotuner's per-layer choice (split-K candidates
 * included), and prints per-layer tables (a split-K layer's two launches summed, so choices line up). The data
 * behind the per-adapter defaults in `src/runtime/lowering.ts`; meant for machines with a real GPU (SwiftShader
 * only for a smoke run).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { describeStepShape, median, nodesByName } from '../src/bench/figures.ts';
import { acquireNodeDevice } from '../src/gpu/node-device.ts';
import { optimizeGraph } from '../src/graph/passes/index.ts';
import type { Graph } from '../src/graph/ir.ts';
import { mobilenetV2 } from '../src/models/mobilenet-v2.ts';
import { randomParams } from '../src/models/params.ts';
import { resnet50 } from '../src/models/resnet.ts';
import { MemoryTuningCache } from '../src/runtime/tuning-cache.ts';
import { SPLIT_K_MAX_TILES } from '../shaders/conv-shared/geometry.ts';
import { profileSteps } from '../src/runtime/profile-steps.ts';
import { compileModel } from '../src/runtime/compile.ts';
import { CompiledModel } from '../src/runtime/compiled-model.ts';
import type { KernelChoice } from '../src/runtime/kernel-choice.ts';
import type { Step } from '../src/runtime/step.ts';
import { DEFAULT_KERNEL_CHOICE, GPU_KERNEL_CHOICE } from '../src/runtime/kernel-choice.ts';
import { pickNetworks } from './args.ts';

const { values } = parseArgs({
  options: {
    networks: { type: 'string', default: 'mobilenet_v2,resnet50' },
    'input-size': { type: 'string', default: '224' },
    runs: { type: 'string', default: '30' },
    out: { type: 'string' },
  },
});
const size = Number(values['input-size']);
const runs = Number(values.runs);

/** Every dense conv on one register tile, or on one workgroup-memory tile. */
const register = (pixelsPerThread: number, vec4sPerThread: number): KernelChoice => ({
  ...DEFAULT_KERNEL_CHOICE,
  pointwise: { family: 'pointwise', pixelsPerThread, vec4sPerThread },
  conv2d: { family: 'conv2d', pixelsPerThread, vec4sPerThread },
  stem: { family: 'conv2d', pixelsPerThread, vec4sPerThread },
});
const shared = (pixelsPerThread: number, vec4sPerThread: number): KernelChoice => {
  const t = { family: 'conv-shared', pixelsPerThread, vec4sPerThread } as const;
  return { ...DEFAULT_KERNEL_CHOICE, pointwise: t, conv2d: t, stem: t };
};

/** Whole-network choices to compare with the default and the tuned model. */
const GLOBAL_CHOICES: Record<string, KernelChoice> = {
  'gpu default': GPU_KERNEL_CHOICE,
  'software default': DEFAULT_KERNEL_CHOICE,
  'register 2x1': register(2, 1),
  'register 4x2': register(4, 2),
  'shared 4x2': shared(4, 2),
  'shared 4x4': shared(4, 4),
  'shared 2x2': shared(2, 2),
  // The GPU default with K split on layers of few 16 x 64 output tiles: every layer the tuner would try split-K
  // on, and (at most 32 tiles) ResNet-50's 7x7 3x3s and 1x1 reductions alone.
  [`gpu default + split-K 4 (<= ${SPLIT_K_MAX_TILES} tiles)`]: { ...GPU_KERNEL_CHOICE, smallMapSplitK: { splits: 4, maxTiles: SPLIT_K_MAX_TILES } },
  [`gpu default + split-K 8 (<= ${SPLIT_K_MAX_TILES} tiles)`]: { ...GPU_KERNEL_CHOICE, smallMapSplitK: { splits: 8, maxTiles: SPLIT_K_MAX_TILES } },
  [`gpu default + split-K 16 (<= ${SPLIT_K_MAX_TILES} tiles)`]: { ...GPU_KERNEL_CHOICE, smallMapSplitK: { splits: 16, maxTiles: SPLIT_K_MAX_TILES } },
  'gpu default + split-K 8 (<= 32 tiles)': { ...GPU_KERNEL_CHOICE, smallMapSplitK: { splits: 8, maxTiles: 32 } },
};

/** A launch's tile: `S2x2` (workgroup memory) or `R8x2` (register), `/K8` for 8 split-K slices; '' for others. */
function tileOf(s: Step): string {
  const key = s.program.key;
  const m = /p(\d+)v(\d+)/.exec(key);
  if (!m) return '';
  const split = key.includes('/split-k') ? `/K${s.uniforms.slices}` : '';
  return `${key.startsWith('conv-shared') ? 'S' : 'R'}${m[1]}x${m[2]}${split}`;
}

// Dawn quantizes timestamps (to 65.5 us on an H200) unless told not to: per-launch times need the real ones.
const { device, adapterInfo } = await acquireNodeDevice({ timestamps: true, flags: ['disable-dawn-features=timestamp_quantization'] });
const adapter = `${adapterInfo.vendor} ${adapterInfo.architecture} ${adapterInfo.description}`.trim();
console.log(`adapter: ${adapter}; features: ${[...device.features].sort().join(', ')}`);

/** The GPU's SM clock where nvidia-smi exists (clock changes explain otherwise puzzling slowdowns). */
function smClock(): string {
  try {
    return execFileSync('nvidia-smi', ['--query-gpu=clocks.sm', '--format=csv,noheader'], { encoding: 'utf8', timeout: 5000 }).trim();
  } catch {
    return '';
  }
}

async function wallMedian(model: CompiledModel, input: Float32Array): Promise<{ wallMs: number; gpuMs: number | null }> {
  for (let i = 0; i < 5; i++) await model.run([input]);
  const wall: number[] = [];
  const gpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await model.run([input]);
    wall.push(performance.now() - t);
    if (model.lastGpuTimeMs !== null) gpu.push(model.lastGpuTimeMs);
  }
  return { wallMs: median(wall), gpuMs: gpu.length ? median(gpu) : null };
}

const report: Record<string, unknown> = { adapter, date: new Date().toISOString(), size, runs, networks: {} };
const builders: Record<string, () => Graph> = {
  mobilenet_v2: () => mobilenetV2({ params: randomParams(1), inputSize: size }),
  resnet50: () => resnet50({ params: randomParams(1), inputSize: size }),
};
for (const id of pickNetworks(values.networks!, Object.keys(builders), 'usage: npm run tune-report -- [--networks mobilenet_v2,resnet50] [--input-size N] [--runs N] [--out FILE]')) {
  const graph = optimizeGraph(builders[id]());
  const input = new Float32Array(3 * size * size).map((_, i) => Math.sin(i * 12.9898) * 0.5);
  const byName = nodesByName(graph);
  const totals: Record<string, { wallMs: number; gpuMs: number | null; kernelMs: number; dispatches: number }> = {};
  // Per layer (graph node, or layout step), in the order of the first model: a split-K layer's two launches
  // are summed, so every choice has the same rows.
  const perLayer: Record<string, number[]> = {};
  let labels: string[] = [];
  let shapes: string[] = [];
  let kinds: string[] = [];
  const tiles: Record<string, string[]> = {};
  const measure = async (name: string, model: CompiledModel) => {
    const whole = await wallMedian(model, input);
    const steps = await profileSteps(device, model, Math.max(5, Math.floor(runs / 3)));
    if (labels.length === 0) {
      const first = model.steps.filter((s, i) => model.steps.findIndex((t) => t.label === s.label) === i);
      labels = first.map((s) => s.label);
      kinds = first.map((s) => s.kind);
      shapes = first.map((s) => describeStepShape(graph, s, byName.get(s.label)).replace(/ split-K \d+( reduce)?$/, ''));
    }
    const byLabel = new Map<string, { ms: number; tile: string }>();
    model.steps.forEach((s, i) => {
      const row = byLabel.get(s.label) ?? { ms: 0, tile: '' };
      byLabel.set(s.label, { ms: row.ms + steps[i], tile: row.tile || tileOf(s) });
    });
    perLayer[name] = labels.map((l) => byLabel.get(l)?.ms ?? NaN);
    tiles[name] = labels.map((l) => byLabel.get(l)?.tile ?? '');
    totals[name] = { ...whole, kernelMs: steps.reduce((a, b) => a + b, 0), dispatches: model.dispatchCount };
    const clock = smClock();
    console.log(
      `${id} ${name}: wall ${whole.wallMs.toFixed(3)} ms, gpu ${whole.gpuMs?.toFixed(3) ?? '-'} ms, sum of ${model.dispatchCount} launches ` +
        `${totals[name].kernelMs.toFixed(3)} ms${clock ? `, SM clock ${clock}` : ''}`,
    );
  };
  for (const [name, kernels] of Object.entries(GLOBAL_CHOICES)) {
    const model = await compileModel(device, graph, { optimize: false, kernels });
    await measure(name, model);
    model.dispose();
  }
  const cache = new MemoryTuningCache();
  const t0 = performance.now();
  const tuned = await compileModel(device, graph, { optimize: false, tune: { cache, repeats: 5 } });
  const tuneMs = performance.now() - t0;
  console.log(`${id}: tuning took ${tuneMs.toFixed(0)} ms (${cache.size} layer signatures)`);
  await measure('tuned', tuned);
  const tunedTiles = tuned.kernels.perNode;
  tuned.dispose();
  // Whether a difference comes from the tiles or from the device's state after tuning: the same tiles compiled
  // afresh, and the GPU default again.
  const again = await compileModel(device, graph, { optimize: false, kernels: { ...GPU_KERNEL_CHOICE, perNode: tunedTiles } });
  await measure('tuned tiles, recompiled', again);
  again.dispose();
  const defaultAgain = await compileModel(device, graph, { optimize: false, kernels: GPU_KERNEL_CHOICE });
  await measure('gpu default again', defaultAgain);
  defaultAgain.dispose();

  const names = Object.keys(perLayer);
  console.log(`\n${id} per layer (us, a split-K layer's two launches summed; * = fastest):`);
  console.log(['#', 'kind', 'layer', 'shape', ...names, 'tuned tile'].join('\t'));
  labels.forEach((label, i) => {
    const row = names.map((n) => perLayer[n][i]);
    const best = Math.min(...row);
    console.log([i, kinds[i], label, shapes[i], ...row.map((ms) => `${(ms * 1000).toFixed(1)}${ms === best ? '*' : ''}`), tiles.tuned[i]].join('\t'));
  });
  console.log(`${id} totals: ${names.map((n) => `${n} ${totals[n].gpuMs?.toFixed(3) ?? totals[n].wallMs.toFixed(3)} ms`).join(', ')}\n`);
  (report.networks as Record<string, unknown>)[id] = { totals, tuneMs, labels, kinds, shapes, tiles, perLayerMs: perLayer, cache: cache.toJSON() };
}
if (values.out) {
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(values.out, JSON.stringify(report, null, 1));
  console.log(`wrote ${values.out}`);
}
device.destroy();
