/**
 * `npx tsx scripts/conv2d-ab.ts [--models inception_v3,googlenet@160,densenet121,squeezenet1_1] [--side 224] [--rounds 3]
 *   [--cache /work/zoo-cache] [--tiles 8x2]`
 *
 * Dense KxK convs (the conv2d family) on the row tile, the software default's, against the wrapped tile (pixels
 * along the flattened map, `shaders/conv2d/wrapped.ts`) with each tile of `--tiles`, side by side on this
 * machine's adapter (Dawn in Node), on the zoo's exported ONNX files. The variants run in turn round by round,
 * the order rotating, after a warm-up: per round one inference with a timestamp pair per dispatch (the conv2d
 * steps summed) and one whole inference in one pass. Prints upper medians, the conv2d steps' ratio to the row
 * tile's round by round, and the largest output difference against the row tile. A model is `name` or `name@side` (the export at that side).
 */
import type { Conv2dTile } from '../shaders/conv2d/index.ts';
import { upperMedian } from '../src/bench/figures.ts';
import { compileModel } from '../src/runtime/compile.ts';
import type { KernelChoice } from '../src/runtime/kernel-choice.ts';
import { DEFAULT_KERNEL_CHOICE } from '../src/runtime/kernel-choice.ts';
import { countValue, parseAbArgs, roundsOption, tileList, zooGraphs, zooOptions } from './ab-args.ts';
import { acquireProfilingDevice, maxAbsDiff, outputsOnSeededInput, profilePass } from './profile-pass.ts';

const USAGE = 'usage: npx tsx scripts/conv2d-ab.ts [--models inception_v3,googlenet@160,densenet121,squeezenet1_1] [--side 224] [--rounds 3] [--cache /work/zoo-cache] [--tiles 8x2]';
const values = parseAbArgs(USAGE, {
  ...zooOptions('inception_v3,googlenet,densenet121,squeezenet1_1', 224),
  ...roundsOption(3),
  tiles: { type: 'string', default: '8x2' },
});
const rounds = countValue(values.rounds, 'rounds', USAGE);
const tiles = tileList(values.tiles, USAGE).map(({ p, v }): Conv2dTile => ({ family: 'conv2d', pixelsPerThread: p, vec4sPerThread: v, wrapRows: true }));
const rowTile: Conv2dTile = { family: 'conv2d', pixelsPerThread: 8, vec4sPerThread: 2 };
const variants: { label: string; kernels: KernelChoice }[] = [
  { label: 'row p8v2', kernels: { ...DEFAULT_KERNEL_CHOICE, conv2d: rowTile } },
  ...tiles.map((t) => ({ label: `wrapped p${t.pixelsPerThread}v${t.vec4sPerThread}`, kernels: { ...DEFAULT_KERNEL_CHOICE, conv2d: t } })),
];
const { device, adapterInfo } = await acquireProfilingDevice();
console.log(`adapter: ${adapterInfo.vendor} ${adapterInfo.architecture} ${adapterInfo.description}; side ${values.side}; 1 warm-up + ${rounds} rounds`);
const fmt = (a: readonly number[]) => `${upperMedian(a).toFixed(1)} ms (min ${Math.min(...a).toFixed(1)})`;

for (const { ask, graph } of zooGraphs(values, USAGE)) {
  const models = [];
  for (const v of variants) models.push(await compileModel(device, graph, { kernels: v.kernels }));
  const outputs = await outputsOnSeededInput(graph, models);
  const convMs = models.map(() => [] as number[]);
  const whole = models.map(() => [] as number[]);
  for (let r = 0; r < 1 + rounds; r++) {
    for (let k = 0; k < models.length; k++) {
      const i = (k + r) % models.length;
      const m = models[i];
      const { stepsMs, wholeMs } = await profilePass(device, m);
      if (r === 0) continue;
      convMs[i].push(m.steps.reduce((s, step, j) => s + (step.program.key.startsWith('conv2d/') ? stepsMs[j] : 0), 0));
      whole[i].push(wholeMs);
    }
  }
  variants.forEach((v, i) => {
    const diff = maxAbsDiff(outputs[i], outputs[0]);
    // Round by round against the row tile: the two ran seconds apart, so the ratio is steadier than either median
    // on a loaded machine.
    const ratios = convMs[i].map((ms, r) => ms / convMs[0][r]);
    console.log(`${ask.padEnd(16)} ${v.label.padEnd(16)} conv2d steps ${fmt(convMs[i])}  whole pass ${fmt(whole[i])}  conv2d / row per round ${ratios.map((x) => x.toFixed(2)).join(' ')} (median ${upperMedian(ratios).toFixed(2)})  max |diff| vs row ${diff.toExponential(1)}`);
  });
  for (const m of models) m.dispose();
}
device.destroy();
process.exit(0);
