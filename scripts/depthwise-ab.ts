/**
 * `npx tsx scripts/depthwise-ab.ts [--models mobilenet_v2,efficientnet_b0] [--side 224] [--rounds 3]
 *   [--cache /work/zoo-cache] [--tiles 4,4x2,4x4,8x2,4r16,fit8r16] [--compile-rounds 2]`
 *
 * Depthwise convolutions on the software default's depthwise tile against the tiles of `--tiles` (`P` pixels per
 * invocation, `PxR` the block kernel with R output rows, `PrR` the rolling kernel walking R output rows, `fitPrR`
 * the rolling kernel with columns and rows per layer from `depthwiseRollingFit`, at most P and R), side by
 * side on this machine's adapter (Dawn in Node),
 * on the zoo's exported ONNX files. The variants run in turn round by round, the order rotating, after a
 * warm-up: per round one inference with a timestamp pair per dispatch (the depthwise steps summed) and one whole
 * inference in one pass. Prints upper medians, the depthwise steps' bytes (`stepTraffic`) over their time, the
 * same process's vec4 copy-kernel bandwidth (the timing page's bandwidth probe) and their ratio, and the largest
 * output difference against the default tile. Then, per variant, what its distinct depthwise pipelines cost to
 * compile: each one created and awaited in turn on a fresh device (no pipeline cache helps), variants
 * interleaved over `--compile-rounds` rounds; the sum's upper median.
 */
import type { DepthwiseTile } from '../shaders/depthwise/index.ts';
import { nodesByName, stepTraffic, upperMedian } from '../src/bench/figures.ts';
import { acquireNodeDevice } from '../src/gpu/node-device.ts';
import { copyKernelGbps } from './copy-kernel.ts';
import { acquireProfilingDevice, maxAbsDiff, outputsOnSeededInput, profilePass } from './profile-pass.ts';
import { compileModel } from '../src/runtime/compile.ts';
import type { CompiledModel } from '../src/runtime/compiled-model.ts';
import { lowerGraph } from '../src/runtime/lowering.ts';
import type { KernelProgram } from '../shaders/common.ts';
import type { KernelChoice } from '../src/runtime/kernel-choice.ts';
import { DEFAULT_KERNEL_CHOICE, optimizeForKernels } from '../src/runtime/kernel-choice.ts';
import { countValue, parseAbArgs, roundsOption, usageError, zooGraphs, zooOptions } from './ab-args.ts';

const USAGE = 'usage: npx tsx scripts/depthwise-ab.ts [--models mobilenet_v2,efficientnet_b0] [--side 224] [--rounds 3] [--cache /work/zoo-cache] [--tiles 4,4x2,4x4,8x2,4r16,fit8r16] [--compile-rounds 2] [--layers]';
const values = parseAbArgs(USAGE, {
  ...zooOptions('mobilenet_v2,efficientnet_b0', 224),
  ...roundsOption(3),
  tiles: { type: 'string', default: '4,4x2,4x4,8x2,4r16' },
  'compile-rounds': { type: 'string', default: '2' },
  layers: { type: 'boolean', default: false },
});
const rounds = countValue(values.rounds, 'rounds', USAGE);
const compileRounds = countValue(values['compile-rounds'], 'compile-rounds', USAGE);
const tiles = values.tiles.split(',').map((t): DepthwiseTile => {
  const rolling = /^(fit)?(\d+)r(\d+)$/.exec(t);
  if (rolling) return { family: 'depthwise', pixelsPerThread: Number(rolling[2]), rollingRows: Number(rolling[3]), ...(rolling[1] ? { fit: true } : {}) };
  const block = /^(\d+)(?:x(\d+))?$/.exec(t);
  if (!block) usageError(USAGE, `tile "${t}" is not P, PxR, PrR or fitPrR`);
  return block[2] === undefined ? { family: 'depthwise', pixelsPerThread: Number(block[1]) } : { family: 'depthwise', pixelsPerThread: Number(block[1]), rowsPerThread: Number(block[2]) };
});
const variants: { label: string; kernels: KernelChoice }[] = [
  { label: 'default', kernels: DEFAULT_KERNEL_CHOICE },
  ...tiles.map((t) => ({ label: t.rollingRows ? `${t.fit ? 'fit' : ''}p${t.pixelsPerThread}roll${t.rollingRows}` : `p${t.pixelsPerThread}r${t.rowsPerThread ?? 1}`, kernels: { ...DEFAULT_KERNEL_CHOICE, depthwise: t } })),
];
const { device, adapterInfo } = await acquireProfilingDevice();
console.log(`adapter: ${adapterInfo.vendor} ${adapterInfo.architecture} ${adapterInfo.description}; side ${values.side}; 1 warm-up + ${rounds} rounds`);
const fmt = (a: readonly number[]) => `${upperMedian(a).toFixed(1)} ms (min ${Math.min(...a).toFixed(1)})`;

const copyGbps = () => copyKernelGbps(device);

/** Each program's module and pipeline created and awaited in turn on a fresh device: the sum, in ms. */
async function compileSum(programs: readonly KernelProgram[]): Promise<number> {
  const fresh = await acquireNodeDevice();
  let ms = 0;
  for (const p of programs) {
    const t0 = performance.now();
    const module = fresh.device.createShaderModule({ label: p.key, code: p.code });
    await fresh.device.createComputePipelineAsync({ label: p.key, layout: 'auto', compute: { module, entryPoint: 'main' } });
    ms += performance.now() - t0;
  }
  fresh.device.destroy();
  return ms;
}

for (const { ask: name, graph } of zooGraphs(values, USAGE)) {
  const models: CompiledModel[] = [];
  for (const v of variants) models.push(await compileModel(device, graph, { kernels: v.kernels }));
  const outputs = await outputsOnSeededInput(graph, models);
  const depthwiseSteps = models.map((m) => m.steps.map((s, j) => (s.kind === 'depthwise' ? j : -1)).filter((j) => j >= 0));
  const depthwiseBytes = models.map((m, i) => {
    const nodes = nodesByName(m.graph);
    return depthwiseSteps[i].reduce((sum, j) => sum + stepTraffic(m.graph, m.steps[j], nodes.get(m.steps[j].label)).bytes, 0);
  });
  const depthwiseMs = models.map(() => [] as number[]);
  // Per depthwise step (the k-th of each model: the same layer), per variant, its rounds' times.
  const layerMs = models.map((_, i) => depthwiseSteps[i].map(() => [] as number[]));
  const whole = models.map(() => [] as number[]);
  const gbpsRoof: number[] = [];
  for (let r = 0; r < 1 + rounds; r++) {
    gbpsRoof.push(await copyGbps());
    for (let k = 0; k < models.length; k++) {
      const i = (k + r) % models.length;
      const m = models[i];
      const { stepsMs, wholeMs } = await profilePass(device, m);
      if (r === 0) continue;
      depthwiseMs[i].push(depthwiseSteps[i].reduce((s, j) => s + stepsMs[j], 0));
      depthwiseSteps[i].forEach((j, k) => layerMs[i][k].push(stepsMs[j]));
      whole[i].push(wholeMs);
    }
  }
  const roof = upperMedian(gbpsRoof.slice(1));
  console.log(`${name}: ${depthwiseSteps[0].length} depthwise steps, ${(depthwiseBytes[0] / 2 ** 20).toFixed(1)} MiB; copy-kernel bandwidth ${roof.toFixed(2)} GB/s`);
  variants.forEach((v, i) => {
    const diff = maxAbsDiff(outputs[i], outputs[0]);
    const gbps = depthwiseBytes[i] / (upperMedian(depthwiseMs[i]) * 1e6);
    console.log(`${name.padEnd(16)} ${v.label.padEnd(8)} depthwise ${fmt(depthwiseMs[i])} = ${gbps.toFixed(2)} GB/s (${(gbps / roof).toFixed(2)} of the copy roof)  whole pass ${fmt(whole[i])}  max |diff| vs default ${diff.toExponential(1)}`);
  });
  if (values.layers) {
    const nodes = nodesByName(models[0].graph);
    console.log(`${'layer (C x outH x outW, kernel/stride)'.padEnd(40)} ${variants.map((v) => v.label.padStart(17)).join(' ')}  (ms, GB/s)`);
    depthwiseSteps[0].forEach((j, k) => {
      const step = models[0].steps[j];
      const node = nodes.get(step.label);
      const out = models[0].graph.tensors[node!.output].shape;
      const a = node!.op === 'conv2d' ? `${node!.attrs.kernel[0]}x${node!.attrs.kernel[1]}/s${node!.attrs.stride[0]}` : '';
      const bytes = stepTraffic(models[0].graph, step, node).bytes;
      const cells = variants.map((_, i) => {
        const ms = upperMedian(layerMs[i][k]);
        return `${ms.toFixed(3)} ${(bytes / (ms * 1e6)).toFixed(2)}`.padStart(17);
      });
      console.log(`${`${out[1]}x${out[2]}x${out[3]} ${a}`.padEnd(40)} ${cells.join(' ')}`);
    });
  }
  const programs = variants.map((v) => {
    const steps = lowerGraph(optimizeForKernels(graph, v.kernels), v.kernels, 'f32');
    return [...new Map(steps.filter((s) => s.kind === 'depthwise').map((s) => [s.program.key, s.program])).values()];
  });
  const compileMs = variants.map(() => [] as number[]);
  for (let r = 0; r < compileRounds; r++) {
    for (let k = 0; k < variants.length; k++) {
      const i = (k + r) % variants.length;
      compileMs[i].push(await compileSum(programs[i]));
    }
  }
  if (compileRounds > 0) variants.forEach((v, i) => {
    console.log(`${name.padEnd(16)} ${v.label.padEnd(8)} ${programs[i].length} depthwise pipelines compile in ${fmt(compileMs[i])}, ${(upperMedian(compileMs[i]) / upperMedian(compileMs[0])).toFixed(2)}x the default's`);
  });
  for (const m of models) m.dispose();
}
device.destroy();
process.exit(0);
