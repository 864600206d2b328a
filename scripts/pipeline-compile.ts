/**
 * `npx tsx scripts/pipeline-compile.ts [--networks mobilenetv2,resnet50] [--rounds 2] [--kernels adapter|gpu|software]`
 * `npx tsx scripts/pipeline-compile.ts --onnx a.onnx,b.onnx [--zoo-cache DIR] [--rounds 0]`
 *
 * `--onnx`: ONNX files instead of the builder networks (e.g. the zoo's exports,
 * `/work/zoo-cache/densenet121_op13_b1_s128_seed0/model.onnx`); `--zoo-cache DIR`: the zoo benchmark's default
 * networks at their sides from that export cache. Each network first prints its launches, distinct programs and
 * WGSL sources, and which key parts make the programs of each family differ (`src/bench/pipeline-variety.ts`);
 * `--rounds 0` stops there (no GPU needed).
 *
 * What a network's pipelines cost to compile on this device, and whether the device compiles them in parallel.
 * `compile` starts every pipeline at once (`createComputePipelineAsync`) and waits for them while it packs the
 * weights; a cold start then waits for the slowest pipeline if the implementation compiles them in parallel, and
 * for their sum if it compiles them one at a time. Per network and round, on fresh devices (no pipeline cache of
 * Dawn's can help): every distinct program one after the other, each awaited, which gives each one's time; then
 * all at once, as `compile` does, in launch order and again with the longest WGSL sources first. Rounds alternate
 * which comes first. NVIDIA's driver also caches compiled
 * shaders, on disk, unless `__GL_SHADER_DISK_CACHE=0` (the device run sets it).
 *
 * What it found so far: docs/performance.md (Cold start, phase by phase).
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parseScriptArgs } from './args.ts';
import { ZOO_BENCH_DEFAULTS } from '../bench/peers/zoo-network.ts';
import { formatVariety, programVariety } from '../src/bench/pipeline-variety.ts';
import type { KernelProgram } from '../shaders/common.ts';
import type { NetworkId } from '../bench/peers/protocol.ts';
import { NETWORK_IDS, buildPeerModel, primeGpu } from '../bench/peers/protocol.ts';
import { loadModel } from '../src/formats/index.ts';
import { acquireDevice } from '../src/gpu/device.ts';
import { nodeGpu } from '../src/gpu/node-device.ts';
import type { KernelChoice } from '../src/runtime/kernel-choice.ts';
import { DEFAULT_KERNEL_CHOICE, GPU_KERNEL_CHOICE, defaultKernelChoice, optimizeForKernels } from '../src/runtime/kernel-choice.ts';
import { lowerGraph } from '../src/runtime/lowering.ts';

const USAGE =
  `usage: npx tsx scripts/pipeline-compile.ts [--networks ${NETWORK_IDS.join(',')} | --onnx a.onnx,b.onnx | --zoo-cache DIR] ` +
  '[--rounds N (0: list programs only)] [--kernels adapter|gpu|software]';
const { networks, values } = parseScriptArgs(USAGE, { rounds: '2', kernels: 'adapter', onnx: '', 'zoo-cache': '' });
const rounds = Number(values.rounds);
if (!Number.isInteger(rounds) || rounds < 0) throw new Error(`--rounds must be 0 or more\n${USAGE}`);
if (!['adapter', 'gpu', 'software'].includes(values.kernels)) throw new Error(`--kernels must be adapter, gpu or software\n${USAGE}`);

const gpu = await nodeGpu();
const probe = await acquireDevice({ gpu });
const choice: KernelChoice =
  values.kernels === 'gpu' ? GPU_KERNEL_CHOICE : values.kernels === 'software' ? DEFAULT_KERNEL_CHOICE : defaultKernelChoice(probe.adapterInfo);
const adapter = [probe.adapterInfo.vendor, probe.adapterInfo.architecture, probe.adapterInfo.description].filter(Boolean).join(' / ');
probe.device.destroy();
const kernelsName = choice === GPU_KERNEL_CHOICE ? 'GPU default' : choice === DEFAULT_KERNEL_CHOICE ? 'software default' : 'custom';
console.log(`pipeline compiles, Dawn in Node, adapter ${adapter}, ${kernelsName} tiles, f32, ${rounds} round(s)`);
console.log(`driver shader disk cache: __GL_SHADER_DISK_CACHE=${process.env.__GL_SHADER_DISK_CACHE ?? '(unset: on)'}`);
console.log(`GPU primed (one trivial kernel on a throwaway device): ${(await primeGpu(gpu)).toFixed(0)} ms`);

/** A network to measure: a name and its ONNX bytes. */
interface Source {
  readonly name: string;
  readonly onnx: () => Uint8Array;
}

function sources(): Source[] {
  const files = values.onnx.split(',').map((f) => f.trim()).filter(Boolean);
  const cache = values['zoo-cache'];
  if (cache) {
    for (const { model, side } of ZOO_BENCH_DEFAULTS) {
      const file = join(cache, `${model}_op13_b1_s${side}_seed0`, 'model.onnx');
      if (existsSync(file)) files.push(file);
      else console.log(`${model} ${side}: not in ${cache} (npm run bench:peers -- --zoo --cache ${cache} exports it)`);
    }
  }
  if (files.length > 0) return files.map((f) => ({ name: basename(dirname(f)) || f, onnx: () => readFileSync(f) }));
  return networks.map((network: NetworkId) => ({
    name: network,
    onnx: () => buildPeerModel({ network, inputSize: 224, warmups: 0, rounds: 0 }).onnx,
  }));
}

/** The programs `compile` launches for this network and kernel choice, in launch order (repeats included). */
function launchedPrograms(source: Source): KernelProgram[] {
  const graph = optimizeForKernels(loadModel(source.onnx(), { fileName: `${source.name}.onnx` }).graph, choice);
  return lowerGraph(graph, choice, 'f32').map((s) => s.program);
}

/** As `PipelineCache` creates a pipeline: module, then the asynchronous pipeline; milliseconds for both. */
async function compileOne(device: GPUDevice, program: KernelProgram): Promise<number> {
  const t0 = performance.now();
  const module = device.createShaderModule({ label: program.key, code: program.code });
  await device.createComputePipelineAsync({ label: program.key, layout: 'auto', compute: { module, entryPoint: 'main' } });
  return performance.now() - t0;
}

async function oneByOne(programs: readonly KernelProgram[]): Promise<number[]> {
  const { device } = await acquireDevice({ gpu });
  const times: number[] = [];
  for (const p of programs) times.push(await compileOne(device, p));
  device.destroy();
  return times;
}

async function allAtOnce(programs: readonly KernelProgram[]): Promise<number> {
  const { device } = await acquireDevice({ gpu });
  const t0 = performance.now();
  await Promise.all(programs.map((p) => compileOne(device, p)));
  const ms = performance.now() - t0;
  device.destroy();
  return ms;
}

for (const source of sources()) {
  const launched = launchedPrograms(source);
  const programs = [...new Map(launched.map((p) => [p.key, p])).values()];
  console.log(`\n${source.name}: ${formatVariety(programVariety(launched)).join('\n')}`);
  if (rounds === 0) continue;
  const sequential: number[][] = [];
  const parallel: number[] = [];
  // All at once again, the longest sources first: where the device compiles a few at a time in request order,
  // the slowest then do not start last.
  const longestFirst = [...programs].sort((a, b) => b.code.length - a.code.length);
  const sorted: number[] = [];
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) {
      sequential.push(await oneByOne(programs));
      parallel.push(await allAtOnce(programs));
      sorted.push(await allAtOnce(longestFirst));
    } else {
      sorted.push(await allAtOnce(longestFirst));
      parallel.push(await allAtOnce(programs));
      sequential.push(await oneByOne(programs));
    }
  }
  const w = Math.max(...programs.map((p) => p.key.length));
  console.log(`  ${'program'.padEnd(w)}  WGSL chars  one by one, ms (round 1, 2, ...)`);
  programs.forEach((p, i) => {
    console.log(`  ${p.key.padEnd(w)}  ${String(p.code.length).padStart(10)}  ${sequential.map((s) => s[i].toFixed(1)).join(', ')}`);
  });
  sequential.forEach((s, r) => {
    const sum = s.reduce((a, b) => a + b, 0);
    const slowest = Math.max(...s);
    console.log(
      `  round ${r + 1}: one by one ${sum.toFixed(0)} ms (slowest ${slowest.toFixed(0)}), all at once ${parallel[r].toFixed(0)} ms ` +
        `= ${(parallel[r] / sum).toFixed(2)} x the sum (1 = serial; slowest / sum = ${(slowest / sum).toFixed(2)} would be fully parallel); ` +
        `longest first ${sorted[r].toFixed(0)} ms`,
    );
  });
}
process.exit(0);
