/**
 * `npx tsx scripts/compile-ab.ts --base DIR [--onnx a.onnx,b.onnx] [--rounds 3] [--runs 3]`
 *
 * This checkout's compiler against another checkout's (`--base`: e.g. `git archive main | tar -x -C DIR`, with a
 * `node_modules` link) in one process on this machine's adapter (Dawn in Node), so that both share the machine's
 * load. Per round and checkout, in turn with the order rotating: a cold compile on a fresh device (so no
 * pipeline of the other's is reused; `compileModel`'s pipeline wait is its phase `pipelines`), then `--runs`
 * inferences, each timed as one `run` (upload, pass, readback). Prints upper medians and the largest output
 * difference between the two (0 when the change keeps the outputs bit-identical).
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { upperMedian } from '../src/bench/figures.ts';
import { loadModel } from '../src/formats/index.ts';
import { acquireNodeDevice } from '../src/gpu/node-device.ts';
import * as here from '../src/runtime/compile.ts';
import { Rng } from '../src/util/random.ts';
import { countValue, parseAbArgs, roundsOption, usageError } from './ab-args.ts';

const USAGE = 'usage: npx tsx scripts/compile-ab.ts --base DIR [--onnx a.onnx,b.onnx] [--rounds 3] [--runs 3]';
const values = parseAbArgs(USAGE, {
  base: { type: 'string' },
  onnx: { type: 'string', default: '/work/zoo-cache/densenet121_op13_b1_s128_seed0/model.onnx' },
  ...roundsOption(3),
  runs: { type: 'string', default: '3' },
});
if (!values.base) usageError(USAGE, '--base DIR is required');
const base = (await import(resolve(values.base, 'src/runtime/compile.ts'))) as typeof here;
const rounds = countValue(values.rounds, 'rounds', USAGE);
const runs = countValue(values.runs, 'runs', USAGE);
const checkouts = [
  { label: 'base', compileModel: base.compileModel },
  { label: 'this', compileModel: here.compileModel },
];

for (const file of values.onnx.split(',')) {
  const graph = loadModel(readFileSync(file), { fileName: basename(file) }).graph;
  const input = new Rng(1).fill(graph.tensors[graph.inputs[0]].shape.reduce((a, b) => a * b, 1), -1, 1);
  const figures = checkouts.map(() => ({ compileMs: [] as number[], pipelinesMs: [] as number[], runMs: [] as number[], pipelines: 0, out: new Float32Array() as Float32Array<ArrayBufferLike> }));
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < checkouts.length; k++) {
      const i = (k + r) % checkouts.length;
      const { device } = await acquireNodeDevice();
      const t0 = performance.now();
      const model = await checkouts[i].compileModel(device, graph);
      figures[i].compileMs.push(performance.now() - t0);
      figures[i].pipelinesMs.push(model.compileTimings.pipelinesMs);
      figures[i].pipelines = new Set(model.steps.map((s) => s.program.key)).size;
      for (let j = 0; j < runs; j++) {
        const t1 = performance.now();
        const [out] = await model.run([input]);
        figures[i].runMs.push(performance.now() - t1);
        figures[i].out = out;
      }
      model.dispose();
      device.destroy();
    }
  }
  let maxDiff = 0;
  figures[0].out.forEach((v, i) => (maxDiff = Math.max(maxDiff, Math.abs(v - figures[1].out[i]))));
  console.log(`\n${basename(dirname(file))}: ${rounds} rounds, ${runs} runs each; max |output base - this| = ${maxDiff}`);
  checkouts.forEach((c, i) => {
    const f = figures[i];
    console.log(
      `  ${c.label}: ${f.pipelines} pipelines; compile ${upperMedian(f.compileMs).toFixed(0)} ms (pipeline wait ${upperMedian(f.pipelinesMs).toFixed(0)}; ` +
        `all ${f.compileMs.map((x) => x.toFixed(0)).join(', ')}); run ${upperMedian(f.runMs).toFixed(1)} ms (min ${Math.min(...f.runMs).toFixed(1)})`,
    );
  });
}
process.exit(0);
