/**
 * `npx tsx scripts/upgrade-ab.ts [--networks mobilenet_v2,resnet50] [--side 224] [--models ''] [--cache /work/zoo-cache]
 *   [--rounds 9] [--warmups 1]`
 *
 * Tiered compilation on this machine's adapter (Dawn in Node): each network (the repository's, random weights,
 * and the zoo exports `--models` names, `name` or `name@side`) compiled twice with the adapter's defaults, one
 * with `upgrade: false` (the first tier alone) and one upgraded (`whenUpgraded()`, timed: the background compile
 * with nothing else running). The two then run in turn round by round, the order alternating, after warm-ups: per
 * round one `run` each (wall clock, upload to output in JS) and one whole pass each under timestamps. Prints
 * medians, the upgraded / first-tier ratio, and the largest output difference (0 when the upgrade is
 * bit-identical, as the software upgrade is).
 */
import { upperMedian } from '../src/bench/figures.ts';
import type { Graph } from '../src/graph/ir.ts';
import { compileModel } from '../src/runtime/compile.ts';
import { Rng } from '../src/util/random.ts';
import { countValue, networkBuilders, networksOption, parseAbArgs, roundsOption, sideOption, zooGraphs } from './ab-args.ts';
import { acquireProfilingDevice, maxAbsDiff, outputsOnSeededInput, profilePass } from './profile-pass.ts';

const USAGE =
  'usage: npx tsx scripts/upgrade-ab.ts [--networks mobilenet_v2,resnet50] [--side 224] [--models a,b@side] [--cache DIR] [--rounds 9] [--warmups 1]';
const values = parseAbArgs(USAGE, {
  ...networksOption,
  ...sideOption(224),
  models: { type: 'string', default: '' },
  cache: { type: 'string', default: '/work/zoo-cache' },
  ...roundsOption(9),
  warmups: { type: 'string', default: '1' },
});
const side = countValue(values.side, 'side', USAGE, 1);
const rounds = countValue(values.rounds, 'rounds', USAGE, 1);
const warmups = countValue(values.warmups, 'warmups', USAGE);
const graphs: { name: string; graph: () => Graph }[] = [
  ...(values.networks ? networkBuilders(values.networks, USAGE).map((n) => ({ name: `${n.name} ${side}`, graph: () => n.build({ side }) })) : []),
  ...(values.models ? [...zooGraphs(values, USAGE)].map((z) => ({ name: z.ask, graph: () => z.graph })) : []),
];
const { adapterInfo } = await acquireProfilingDevice();
console.log(`adapter: ${adapterInfo.vendor} ${adapterInfo.architecture} ${adapterInfo.description}; ${warmups} warm-up + ${rounds} rounds`);
const fmt = (a: readonly number[]) => `${upperMedian(a).toFixed(1)} ms (min ${Math.min(...a).toFixed(1)}, max ${Math.max(...a).toFixed(1)})`;

for (const { name, graph: build } of graphs) {
  // A fresh device per network: no pipeline another network compiled shortens this one's upgrade.
  const { device } = await acquireProfilingDevice();
  const graph = build();
  const first = await compileModel(device, graph, { upgrade: false });
  const tiered = await compileModel(device, graph);
  const t0 = performance.now();
  const upgraded = await tiered.whenUpgraded();
  const upgradeMs = performance.now() - t0;
  if (!upgraded) {
    console.log(`${name}: no upgrade on this adapter (${tiered.upgrade.state}${tiered.upgrade.error ? `: ${tiered.upgrade.error.message}` : ''})`);
    first.dispose();
    tiered.dispose();
    continue;
  }
  const changed = tiered.steps.filter((s, i) => s.program.key !== first.steps[i]?.program.key).length;
  const outputs = await outputsOnSeededInput(graph, [first, tiered]);
  const input = new Rng(3).fill(first.inputs[0].shape.reduce((a, b) => a * b, 1), -1, 1);
  const models = [first, tiered];
  const wall: number[][] = [[], []];
  const gpu: number[][] = [[], []];
  for (let r = -warmups; r < rounds; r++) {
    const order = r % 2 === 0 ? [0, 1] : [1, 0];
    for (const i of order) {
      const t = performance.now();
      await models[i].run([input]);
      const ms = performance.now() - t;
      const { wholeMs } = await profilePass(device, models[i]);
      if (r >= 0) {
        wall[i].push(ms);
        gpu[i].push(wholeMs);
      }
    }
  }
  const ratio = (a: number[][]) => (upperMedian(a[1]) / upperMedian(a[0])).toFixed(2);
  console.log(
    `${name}: upgrade compiled in ${upgradeMs.toFixed(0)} ms, ${changed} of ${tiered.steps.length} launches on other programs; ` +
      `max output difference ${maxAbsDiff(outputs[0], outputs[1])}\n` +
      `  run (wall):  first tier ${fmt(wall[0])}, upgraded ${fmt(wall[1])}: ${ratio(wall)}x\n` +
      `  pass (GPU):  first tier ${fmt(gpu[0])}, upgraded ${fmt(gpu[1])}: ${ratio(gpu)}x`,
  );
  first.dispose();
  tiered.dispose();
  device.destroy();
}
