/**
 * `npx tsx scripts/precision-latency.ts [--networks mobilenet_v2,resnet50] [--rounds 21]`
 *
 * Whole-network latency of each storage precision on this machine's adapter (Dawn in Node): one model per
 * precision ('f32', 'f16-packed', and 'f16' where the adapter has `shader-f16`), random weights, run in turn
 * round by round (so drift and load hit every precision alike) after warm-ups. Prints median and min GPU time
 * (timestamp queries, else wall time) per precision, the ratio to f32, and the logits' max difference from f32.
 */
import { parseArgs } from 'node:util';
import type { StoragePrecision } from '../shaders/common.ts';
import { acquireNodeDevice } from '../src/gpu/node-device.ts';
import type { Graph } from '../src/graph/ir.ts';
import { mobilenetV2, randomParams, resnet50 } from '../src/models/index.ts';
import { compileModel } from '../src/runtime/compile.ts';
import { Rng } from '../src/util/random.ts';
import { upperMedian } from '../src/bench/figures.ts';
import { pickNetworks } from './args.ts';

const { values } = parseArgs({ options: { networks: { type: 'string', default: 'mobilenet_v2,resnet50' }, rounds: { type: 'string', default: '21' } } });
const builders: Record<string, () => Graph> = {
  mobilenet_v2: () => mobilenetV2({ params: randomParams(1), inputSize: 224 }),
  resnet50: () => resnet50({ params: randomParams(1), inputSize: 224 }),
};
const rounds = Number(values.rounds);
// Unquantized timestamps (Dawn rounds them to 65.5 us on an H200 otherwise).
const { device, adapterInfo } = await acquireNodeDevice({ timestamps: true, flags: ['disable-dawn-features=timestamp_quantization'] });
const precisions: StoragePrecision[] = ['f32', 'f16-packed', ...(device.features.has('shader-f16') ? (['f16'] as const) : [])];
console.log(`adapter: ${adapterInfo.vendor} ${adapterInfo.architecture} ${adapterInfo.description}; shader-f16: ${device.features.has('shader-f16') ? 'yes' : 'no'}`);
for (const name of pickNetworks(values.networks!, Object.keys(builders), 'usage: npx tsx scripts/precision-latency.ts [--networks mobilenet_v2,resnet50] [--rounds N]')) {
  const build = builders[name];
  const graph = build();
  const shape = graph.tensors[graph.inputs[0]].shape;
  const x = new Rng(2).fill(shape.reduce((a, b) => a * b, 1), -1, 1);
  const models = await Promise.all(precisions.map((precision) => compileModel(device, graph, { precision })));
  const times: number[][] = models.map(() => []);
  const logits: Float32Array[] = [];
  for (const [i, m] of models.entries()) for (let w = 0; w < 3; w++) logits[i] = (await m.run([x]))[0];
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 ? [...models.keys()].reverse() : [...models.keys()];
    for (const i of order) {
      const t = performance.now();
      await models[i].run([x]);
      times[i].push(models[i].lastGpuTimeMs ?? performance.now() - t);
    }
  }
  const base = upperMedian(times[0]);
  const maxRef = Math.max(...logits[0].map(Math.abs));
  for (const [i, m] of models.entries()) {
    let diff = 0;
    for (let k = 0; k < logits[0].length; k++) diff = Math.max(diff, Math.abs(logits[i][k] - logits[0][k]));
    console.log(
      `${name.padEnd(13)} ${m.precision.padEnd(10)} median ${upperMedian(times[i]).toFixed(3)} ms  min ${Math.min(...times[i]).toFixed(3)} ms  ` +
        `x f32 ${(upperMedian(times[i]) / base).toFixed(3)}  max|logit - f32| ${(diff / maxRef).toExponential(2)} x max|f32|  ` +
        `activations ${(m.memory.activationPeakBytes / 2 ** 20).toFixed(2)} MiB, weights ${(m.memory.weightBytes / 2 ** 20).toFixed(2)} MiB`,
    );
  }
  for (const m of models) m.dispose();
}
device.destroy();
process.exit(0);
