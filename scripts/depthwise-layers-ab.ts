/**
 * `npx tsx scripts/depthwise-layers-ab.ts [--layers all|mv2|effb0|NAME,...] [--tiles 4r16,fit8r16] [--rounds 7] [--repeats 3]`
 *
 * Single depthwise layers of MobileNetV2 and EfficientNet-B0 at 224 (3x3 and 5x5, stride 1 and 2, ReLU6) on the
 * software default's depthwise tile against the tiles of `--tiles` (`PrR`: the rolling kernel, P columns walking R
 * output rows; `fitPrR`: at most P columns and R rows chosen per layer by `depthwiseRollingFit`), side by side in
 * one process on this machine's adapter (Dawn in Node). Per round every variant runs once, the order rotating,
 * after a warm-up round; each run is `--repeats` launches in one submission, a timestamp pair each, and keeps the
 * fastest (the machine is shared: the fastest of a few is the least disturbed). Prints per layer the upper median
 * and the minimum over rounds, bytes moved (`stepTraffic`) over the upper median, the same process's vec4 copy-kernel bandwidth,
 * and whether the outputs equal the default's bit for bit.
 */
import type { DepthwiseTile } from '../shaders/depthwise/index.ts';
import { stepTraffic, upperMedian } from '../src/bench/figures.ts';
import { GraphBuilder } from '../src/graph/builder.ts';
import type { Graph } from '../src/graph/ir.ts';
import { RELU6 } from '../src/graph/ir.ts';
import { compileModel } from '../src/runtime/compile.ts';
import type { CompiledModel } from '../src/runtime/compiled-model.ts';
import { DEFAULT_KERNEL_CHOICE } from '../src/runtime/kernel-choice.ts';
import type { KernelChoice } from '../src/runtime/kernel-choice.ts';
import { Rng } from '../src/util/random.ts';
import { GpuProfiler } from '../src/gpu/profiler.ts';
import { acquireProfilingDevice, maxAbsDiff, outputsOnSeededInput } from './profile-pass.ts';
import { copyKernelGbps } from './copy-kernel.ts';
import { countValue, parseAbArgs, roundsOption, usageError } from './ab-args.ts';

interface Layer { readonly name: string; readonly c: number; readonly size: number; readonly kernel: number; readonly stride: number }
const layer = (net: string, c: number, size: number, kernel: number, stride: number): Layer =>
  ({ name: `${net}-${c}x${size}-k${kernel}s${stride}`, c, size, kernel, stride });
/** Input maps at 224: MobileNetV2's distinct depthwise layers, then EfficientNet-B0's. */
const LAYERS: readonly Layer[] = [
  layer('mv2', 32, 112, 3, 1), layer('mv2', 96, 112, 3, 2), layer('mv2', 144, 56, 3, 1), layer('mv2', 144, 56, 3, 2),
  layer('mv2', 192, 28, 3, 1), layer('mv2', 192, 28, 3, 2), layer('mv2', 384, 14, 3, 1), layer('mv2', 576, 14, 3, 1),
  layer('mv2', 576, 14, 3, 2), layer('mv2', 960, 7, 3, 1),
  layer('effb0', 144, 56, 5, 2), layer('effb0', 240, 28, 5, 1), layer('effb0', 240, 28, 3, 2), layer('effb0', 480, 14, 3, 1),
  layer('effb0', 480, 14, 5, 1), layer('effb0', 672, 14, 5, 1), layer('effb0', 672, 14, 5, 2), layer('effb0', 1152, 7, 5, 1),
  layer('effb0', 1152, 7, 3, 1),
];

const USAGE = 'usage: npx tsx scripts/depthwise-layers-ab.ts [--layers all|mv2|effb0|NAME,...] [--tiles 4r16,fit8r16] [--rounds 7] [--repeats 3]';
const values = parseAbArgs(USAGE, {
  layers: { type: 'string', default: 'all' },
  tiles: { type: 'string', default: '4r16' },
  ...roundsOption(7),
  repeats: { type: 'string', default: '3' },
});
const rounds = countValue(values.rounds, 'rounds', USAGE);
const repeats = countValue(values.repeats, 'repeats', USAGE, 1);
const picked = values.layers === 'all' ? LAYERS : values.layers.split(',').flatMap((n) => {
  const hits = LAYERS.filter((l) => l.name === n || l.name.startsWith(`${n}-`));
  if (hits.length === 0) usageError(USAGE, `unknown layer ${n} (known: all, mv2, effb0, ${LAYERS.map((l) => l.name).join(', ')})`);
  return hits;
});
const variants: { label: string; kernels: KernelChoice }[] = [
  { label: 'default', kernels: DEFAULT_KERNEL_CHOICE },
  ...values.tiles.split(',').map((t) => {
    const m = /^(fit)?(\d+)r(\d+)$/.exec(t);
    if (!m) usageError(USAGE, `tile ${t} is not PrR or fitPrR`);
    const tile: DepthwiseTile = { family: 'depthwise', pixelsPerThread: Number(m[2]), rollingRows: Number(m[3]), ...(m[1] ? { fit: true } : {}) };
    return { label: t, kernels: { ...DEFAULT_KERNEL_CHOICE, depthwise: tile } };
  }),
];

function build(l: Layer): Graph {
  const rng = new Rng(1);
  const b = new GraphBuilder();
  const x = b.input('x', [1, l.c, l.size, l.size]);
  const fanIn = l.kernel * l.kernel;
  b.output(b.conv2d(x, {
    outChannels: l.c, kernel: l.kernel, stride: l.stride, padding: (l.kernel - 1) / 2, groups: l.c,
    weight: rng.fill(l.c * fanIn, -Math.sqrt(3 / fanIn), Math.sqrt(3 / fanIn)), bias: rng.fill(l.c, -0.1, 0.1), activation: RELU6,
  }, 'dw'));
  return b.build();
}

const { device, adapterInfo } = await acquireProfilingDevice();
console.log(`adapter: ${adapterInfo.vendor} ${adapterInfo.description}; 1 warm-up + ${rounds} rounds; ms = upper median (min), GB/s at the upper median`);
console.log(['layer', ...variants.map((v) => v.label), 'copy GB/s', 'bit-identical'].join('\t'));
const totals = variants.map(() => ({ ms: 0, bytes: 0 }));
for (const l of picked) {
  const graph = build(l);
  const models: CompiledModel[] = [];
  for (const v of variants) models.push(await compileModel(device, graph, { optimize: false, kernels: v.kernels }));
  const outputs = await outputsOnSeededInput(graph, models);
  const stepOf = models.map((m) => m.steps.findIndex((s) => s.kind === 'depthwise'));
  const bytes = models.map((m, i) => stepTraffic(m.graph, m.steps[stepOf[i]], m.graph.nodes.find((n) => n.name === m.steps[stepOf[i]].label)).bytes);
  const ms = variants.map(() => [] as number[]);
  const copy: number[] = [];
  for (let r = 0; r < 1 + rounds; r++) {
    if (r > 0) copy.push(await copyKernelGbps(device, 16));
    for (let k = 0; k < models.length; k++) {
      const i = (k + r) % models.length;
      // `repeats` inferences in one submission, a timestamp pair per launch: the fastest one's depthwise time.
      const m = models[i];
      const profiler = new GpuProfiler(device, m.dispatchCount * repeats);
      const encoder = device.createCommandEncoder();
      for (let k = 0; k < repeats; k++) m.encode(encoder, (s) => profiler.timestampWrites(k * m.dispatchCount + s));
      profiler.resolve(encoder, m.dispatchCount * repeats);
      device.queue.submit([encoder.finish()]);
      const { durationsMs } = await profiler.read(m.dispatchCount * repeats);
      profiler.destroy();
      if (r > 0) ms[i].push(Math.min(...Array.from({ length: repeats }, (_, k) => durationsMs[k * m.dispatchCount + stepOf[i]])));
    }
  }
  const same = outputs.every((o) => maxAbsDiff(o, outputs[0]) === 0);
  const cells = variants.map((_, i) => {
    const med = upperMedian(ms[i]);
    totals[i].ms += med;
    totals[i].bytes += bytes[i];
    return `${med.toFixed(3)} (${Math.min(...ms[i]).toFixed(3)}) ${(bytes[i] / (med * 1e6)).toFixed(2)}`;
  });
  console.log([l.name, ...cells, upperMedian(copy).toFixed(2), same ? 'yes' : 'NO'].join('\t'));
  for (const m of models) m.dispose();
}
console.log(['sum', ...totals.map((t) => `${t.ms.toFixed(2)} ms ${(t.bytes / (t.ms * 1e6)).toFixed(2)} GB/s`)].join('\t'));
device.destroy();
process.exit(0);
