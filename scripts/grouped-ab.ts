/**
 * `npx tsx scripts/grouped-ab.ts [--models regnet_x_400mf,resnext50_32x4d,regnet_y_400mf] [--side 64] [--rounds 5]
 *   [--cache /work/zoo-cache] [--tiles 8x2,4x1]`
 *
 * Grouped convolutions on the dense families (block-diagonal weights, the software default without `grouped`)
 * against the grouped family with each tile of `--tiles`, side by side on this machine's adapter (Dawn in Node),
 * on the zoo's exported ONNX files (`npm run zoo -- --cache DIR` writes them). The variants run in turn round by
 * round, the order rotating, after a warm-up: per round one inference with a timestamp pair per dispatch (the
 * grouped convs' steps summed) and one whole inference in one pass. Prints upper medians and the largest output
 * difference against the dense variant.
 */
import type { GroupedConvTile } from '../shaders/conv-grouped/index.ts';
import { upperMedian } from '../src/bench/figures.ts';
import { acquireProfilingDevice, maxAbsDiff, outputsOnSeededInput, profilePass } from './profile-pass.ts';
import { compileModel } from '../src/runtime/compile.ts';
import type { KernelChoice } from '../src/runtime/kernel-choice.ts';
import { DEFAULT_KERNEL_CHOICE } from '../src/runtime/kernel-choice.ts';
import { countValue, parseAbArgs, roundsOption, tileList, zooGraphs, zooOptions } from './ab-args.ts';

const USAGE = 'usage: npx tsx scripts/grouped-ab.ts [--models regnet_x_400mf,resnext50_32x4d,regnet_y_400mf] [--side 64] [--rounds 5] [--cache /work/zoo-cache] [--tiles 8x2,4x1]';
const values = parseAbArgs(USAGE, {
  ...zooOptions('regnet_x_400mf,resnext50_32x4d,regnet_y_400mf', 64),
  ...roundsOption(5),
  tiles: { type: 'string', default: '8x2,4x1' },
});
const rounds = countValue(values.rounds, 'rounds', USAGE);
const tiles = tileList(values.tiles, USAGE).map(({ p, v }): GroupedConvTile => ({ family: 'grouped', pixelsPerThread: p, vec4sPerThread: v }));
const { grouped: _omit, ...dense } = DEFAULT_KERNEL_CHOICE;
const variants: { label: string; kernels: KernelChoice }[] = [
  { label: 'dense', kernels: dense },
  ...tiles.map((t) => ({ label: `grouped p${t.pixelsPerThread}v${t.vec4sPerThread}`, kernels: { ...dense, grouped: t } })),
];
const { device, adapterInfo } = await acquireProfilingDevice();
console.log(`adapter: ${adapterInfo.vendor} ${adapterInfo.architecture} ${adapterInfo.description}; side ${values.side}; 1 warm-up + ${rounds} rounds`);
const fmt = (a: readonly number[]) => `${upperMedian(a).toFixed(1)} ms (min ${Math.min(...a).toFixed(1)})`;

for (const { ask: name, graph } of zooGraphs(values, USAGE)) {
  const models = [];
  for (const v of variants) models.push(await compileModel(device, graph, { kernels: v.kernels }));
  const outputs = await outputsOnSeededInput(graph, models);
  const groupedNodes = models.map((m) => new Set(m.graph.nodes.filter((n) => n.op === 'conv2d' && n.attrs.groups > 1 && n.attrs.groups !== m.graph.tensors[n.inputs[0]].shape[1]).map((n) => n.output)));
  const groupedMs = models.map(() => [] as number[]);
  const whole = models.map(() => [] as number[]);
  for (let r = 0; r < 1 + rounds; r++) {
    for (let k = 0; k < models.length; k++) {
      const i = (k + r) % models.length;
      const m = models[i];
      const { stepsMs, wholeMs } = await profilePass(device, m);
      if (r === 0) continue;
      groupedMs[i].push(m.steps.reduce((s, step, j) => s + (step.node !== undefined && groupedNodes[i].has(step.node) ? stepsMs[j] : 0), 0));
      whole[i].push(wholeMs);
    }
  }
  variants.forEach((v, i) => {
    const diff = maxAbsDiff(outputs[i], outputs[0]);
    console.log(`${name.padEnd(16)} ${v.label.padEnd(16)} grouped convs ${fmt(groupedMs[i])}  whole pass ${fmt(whole[i])}  max |diff| vs dense ${diff.toExponential(1)}`);
  });
  for (const m of models) m.dispose();
}
device.destroy();
process.exit(0);
