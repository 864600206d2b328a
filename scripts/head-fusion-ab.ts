/**
 * `npx tsx scripts/head-fusion-ab.ts [--networks mobilenet_v2,resnet50] [--rounds 11] [--head-rounds 61] [--batch 1]`
 *
 * The classifier head with and without pool + FC fusion (`fusePoolLinear`), side by side on this machine's
 * adapter (Dawn in Node). Each network is optimized twice (`optimizeGraph(g)` and `optimizeGraph(g, {
 * fusePoolLinear: false })`, random weights), compiled with the adapter's default kernels, and run in turn round
 * by round (so drift and other load hit both alike; the order alternates) after warm-ups. Per round and model:
 * one inference with a timestamp pair per dispatch (the head's steps: global pool + linear, or the fused linear)
 * and one whole inference in one pass. The head alone (its input map, 7x7 at 224, as the graph input) gets
 * `--head-rounds` more samples the same way, since a few-ms head inside a network of hundreds of ms is hard to
 * time on a shared machine. Prints medians, min and max, the dispatch counts, and the logits' max difference
 * between the two. Needs `timestamp-query` (Dawn's quantization is turned off).
 */
import { acquireProfilingDevice, outputsOnSeededInput, profilePass } from './profile-pass.ts';
import { GraphBuilder } from '../src/graph/builder.ts';
import type { Graph } from '../src/graph/ir.ts';
import { optimizeGraph } from '../src/graph/passes/index.ts';
import { compileModel } from '../src/runtime/compile.ts';
import { upperMedian } from '../src/bench/figures.ts';
import { batchOption, countValue, networkBuilders, networksOption, parseAbArgs, roundsOption } from './ab-args.ts';

const USAGE = 'usage: npx tsx scripts/head-fusion-ab.ts [--networks mobilenet_v2,resnet50] [--rounds 11] [--warmups 2] [--head-rounds 61] [--batch 1]';
const values = parseAbArgs(USAGE, {
  ...networksOption,
  ...roundsOption(11),
  warmups: { type: 'string', default: '2' },
  'head-rounds': { type: 'string', default: '61' },
  ...batchOption,
});
const batch = countValue(values.batch, 'batch', USAGE, 1);
const networks = networkBuilders(values.networks, USAGE);
const rounds = countValue(values.rounds, 'rounds', USAGE);
const headRounds = countValue(values['head-rounds'], 'head-rounds', USAGE);
const warmups = countValue(values.warmups, 'warmups', USAGE);
const { device, adapterInfo } = await acquireProfilingDevice();
console.log(`adapter: ${adapterInfo.vendor} ${adapterInfo.architecture} ${adapterInfo.description}; batch ${batch}; ${warmups} warm-up + ${rounds} rounds`);

const fmt = (a: readonly number[]) => `median ${upperMedian(a).toFixed(3)} ms (min ${Math.min(...a).toFixed(3)}, max ${Math.max(...a).toFixed(3)})`;

/** The network's head from its last map on: global average pool, flatten, linear (the builders' weights). */
function headOf(graph: Graph): Graph {
  const fc = graph.nodes[graph.nodes.length - 1];
  const pool = graph.nodes.find((n) => n.op === 'globalAvgPool');
  if (fc.op !== 'linear' || !pool) throw new Error('expected a network ending in global pool, flatten, linear');
  const b = new GraphBuilder();
  const x = b.input('map', graph.tensors[pool.inputs[0]].shape);
  b.output(b.linear(b.flatten(b.globalAvgPool(x, 'gap'), 'flatten'), fc.attrs, fc.name));
  return b.build();
}

/** Both variants of `source`, interleaved: head steps' time and whole-pass time per round, and the outputs. */
async function compare(name: string, source: Graph, n: number): Promise<void> {
  const variants = [
    { label: 'unfused', graph: optimizeGraph(source, { fusePoolLinear: false }) },
    { label: 'fused', graph: optimizeGraph(source) },
  ];
  const models = await Promise.all(variants.map((v) => compileModel(device, v.graph, { optimize: false })));
  const logits = await outputsOnSeededInput(source, models);
  // The head: the global pool and the linear (unfused), or the fused linear.
  const headSteps = models.map((m) => m.steps.flatMap((s, i) => (s.kind === 'linear' || s.program.key.startsWith('pool/global-avg') ? [i] : [])));
  const head = models.map(() => [] as number[]);
  const whole = models.map(() => [] as number[]);
  for (let r = 0; r < warmups + n; r++) {
    const order = r % 2 ? [1, 0] : [0, 1];
    for (const i of order) {
      const m = models[i];
      const { stepsMs, wholeMs } = await profilePass(device, m);
      if (r < warmups) continue;
      head[i].push(headSteps[i].reduce((s, k) => s + stepsMs[k], 0));
      whole[i].push(wholeMs);
    }
  }
  let diff = 0;
  let maxRef = 0;
  for (let k = 0; k < logits[0].length; k++) {
    diff = Math.max(diff, Math.abs(logits[1][k] - logits[0][k]));
    maxRef = Math.max(maxRef, Math.abs(logits[0][k]));
  }
  variants.forEach((v, i) => {
    const keys = headSteps[i].map((k) => models[i].steps[k].program.key).join(' + ');
    console.log(`${name.padEnd(18)} ${v.label.padEnd(8)} dispatches ${models[i].dispatchCount}  head [${keys}] ${fmt(head[i])}  whole pass ${fmt(whole[i])}`);
  });
  console.log(`${name.padEnd(18)} fused / unfused: head ${(upperMedian(head[1]) / upperMedian(head[0])).toFixed(3)}x, whole ${(upperMedian(whole[1]) / upperMedian(whole[0])).toFixed(3)}x; ` +
    `${n} rounds; max |output diff| ${diff.toExponential(2)} (${(diff / maxRef).toExponential(2)} x max|output|)`);
  for (const m of models) m.dispose();
}

for (const { name, build } of networks) {
  // Both networks' weights from seed 1, at 224.
  const source = build({ side: 224, batch, seed: 1 });
  if (headRounds > 0) await compare(`${name} head only`, headOf(source), headRounds);
  if (rounds > 0) await compare(name, source, rounds);
}
device.destroy();
process.exit(0);
