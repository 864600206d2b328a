/**
 * `npx tsx scripts/cold-start.ts [--networks mobilenetv2,resnet50] [--repeats 5] [--precision f32]`
 *
 * webcnn's cold start in Node through Dawn, repeated on fresh devices and split into phases: device, load
 * (ONNX bytes -> graph), compile's phases (`CompiledModel.compileTimings`), first run (input in JS to output
 * read back). The model is the peers benchmark's (`buildPeerModel`: seeded random weights exported to ONNX),
 * built once per network before any timing. Before the first cold start, `primeGpu` uses the GPU once (the
 * process's first use of the driver and its shader compiler is no model's cold start). Cold starts alternate
 * between the networks, round by round, so that drift hits both alike. Prints each phase's median with its min
 * and max, and the first cold start's own figure (the one no cache in the process can have helped).
 *
 * `bench:peers` takes one cold start per engine; this takes several of webcnn's alone, for deciding what to
 * cut. With `WEBCNN_DAWN_OPTIONS=backend=null`, Tint compiles and nothing runs, which leaves the CPU side alone
 * (the first run is then not an inference).
 */
import { parseScriptArgs, positiveInteger } from './args.ts';
import type { StoragePrecision } from '../shaders/common.ts';
import type { NetworkId, PeerModel } from '../bench/peers/protocol.ts';
import { NETWORK_IDS, buildPeerModel, primeGpu } from '../bench/peers/protocol.ts';
import { summarize } from '../src/bench/figures.ts';
import { loadModel } from '../src/formats/index.ts';
import { acquireNodeDevice, nodeGpu } from '../src/gpu/node-device.ts';
import { compileModel } from '../src/runtime/compile.ts';
import { CompiledModel } from '../src/runtime/compiled-model.ts';

const USAGE = `usage: npx tsx scripts/cold-start.ts [--networks ${NETWORK_IDS.join(',')}] [--repeats N] [--precision f32|f16|f16-packed]`;
const { networks, values } = parseScriptArgs(USAGE, { repeats: '5', precision: 'f32' });
const repeats = positiveInteger(values.repeats, 'repeats', USAGE);
const precision = values.precision as StoragePrecision;
if (!['f32', 'f16', 'f16-packed'].includes(precision)) throw new Error(`--precision must be f32, f16 or f16-packed\n${USAGE}`);

type Phases = Record<string, number>;

async function coldStart(m: PeerModel): Promise<Phases> {
  const t0 = performance.now();
  const { device } = await acquireNodeDevice({});
  const t1 = performance.now();
  const loaded = loadModel(m.onnx, { fileName: `${m.network}.onnx` });
  const t2 = performance.now();
  const model = await compileModel(device, loaded.graph, { precision });
  const t3 = performance.now();
  await model.run([m.input]);
  const t4 = performance.now();
  const c = model.compileTimings;
  model.dispose();
  device.destroy();
  return {
    device: t1 - t0,
    load: t2 - t1,
    optimize: c.optimizeMs,
    lower: c.lowerMs,
    buffers: c.buffersMs,
    weights: c.weightsMs,
    'pipelines (wait)': c.pipelinesMs,
    'bind groups': c.bindGroupsMs,
    compile: t3 - t2,
    'first run': t4 - t3,
    total: t4 - t0,
  };
}

const models = networks.map((n) => buildPeerModel({ network: n, inputSize: 224, warmups: 0, rounds: 0 }));
const samples = new Map<NetworkId, Phases[]>(networks.map((n) => [n, []]));
const dawn = process.env.WEBCNN_DAWN_OPTIONS ? ` (WEBCNN_DAWN_OPTIONS=${process.env.WEBCNN_DAWN_OPTIONS})` : '';
console.log(`webcnn cold start, Dawn in Node${dawn}, ${precision}, ${repeats} per network, networks alternating`);
console.log(`GPU primed (one trivial kernel on a throwaway device): ${(await primeGpu(await nodeGpu())).toFixed(0)} ms`);
for (let r = 0; r < repeats; r++) {
  for (const m of r % 2 ? [...models].reverse() : models) samples.get(m.network)!.push(await coldStart(m));
}
for (const m of models) {
  const runs = samples.get(m.network)!;
  console.log(`\n${m.title}: ${runs.length} cold starts, median (min-max) ms, first`);
  for (const phase of Object.keys(runs[0])) {
    const s = summarize(runs.map((p) => p[phase]));
    console.log(`  ${phase.padEnd(17)} ${s.medianMs.toFixed(1).padStart(8)}  ${`(${s.minMs.toFixed(1)}-${s.maxMs.toFixed(1)})`.padEnd(16)} ${runs[0][phase].toFixed(1).padStart(8)}`);
  }
}
process.exit(0);
