/**
 * `npx tsx scripts/stem-ab.ts [--networks mobilenet_v2,resnet50] [--side 224] [--batch 1] [--rounds 3]
 *   [--tiles 8x2,4x2,4x4,4x2w28] [--compiles 3]`
 *
 * RGB stems (dense convs on at most 4 input channels) on the software default's tile against the stem family's
 * tiles of `--tiles` (`PxV`: P output columns x V output vec4s per invocation; `PxVwL`: walking L columns where
 * the stem's window is small enough, `stemWalks`, else P x V), side by side on this machine's
 * adapter (Dawn in Node), on the repository's MobileNetV2 and ResNet-50 graphs with random weights. The variants
 * run in turn round by round, the order rotating, after a warm-up: per round one inference with a timestamp pair
 * per dispatch (the stem steps summed) and one whole inference in one pass. Prints upper medians, the stem's
 * GFLOP/s (2 x its MACs over its time), the same process's compute roof (a register-tiled vec4 FMA probe) and
 * their ratio, and the largest output difference against the default. Then the compile time of each variant's
 * stem pipeline (shader module + `createComputePipelineAsync`), each on a fresh device so that no pipeline cache
 * answers, interleaved over `--compiles` rounds.
 */
import type { KernelProgram } from '../shaders/common.ts';
import type { StemConvTile } from '../shaders/conv-stem/index.ts';
import { upperMedian } from '../src/bench/figures.ts';
import { acquireNodeDevice } from '../src/gpu/node-device.ts';
import { GpuProfiler } from '../src/gpu/profiler.ts';
import { compileModel } from '../src/runtime/compile.ts';
import type { CompiledModel } from '../src/runtime/compiled-model.ts';
import type { KernelChoice } from '../src/runtime/kernel-choice.ts';
import { DEFAULT_KERNEL_CHOICE } from '../src/runtime/kernel-choice.ts';
import { batchOption, countValue, networkBuilders, networksOption, parseAbArgs, roundsOption, sideOption, tileList } from './ab-args.ts';
import { acquireProfilingDevice, maxAbsDiff, outputsOnSeededInput, profilePass } from './profile-pass.ts';

const USAGE = 'usage: npx tsx scripts/stem-ab.ts [--networks mobilenet_v2,resnet50] [--side 224] [--batch 1] [--rounds 3] [--tiles 8x2,4x2,4x4,4x2w28] [--compiles 3]';
const values = parseAbArgs(USAGE, {
  ...networksOption,
  ...sideOption(224),
  ...batchOption,
  ...roundsOption(3),
  tiles: { type: 'string', default: '8x2,4x2,4x4' },
  compiles: { type: 'string', default: '3' },
});
const rounds = countValue(values.rounds, 'rounds', USAGE);
const side = countValue(values.side, 'side', USAGE, 1);
const batch = countValue(values.batch, 'batch', USAGE, 1);
const compileRounds = countValue(values.compiles, 'compiles', USAGE);
const networks = networkBuilders(values.networks, USAGE);
const tiles = tileList(values.tiles, USAGE, true).map(({ p, v, w: walk }): StemConvTile => ({ family: 'stem', pixelsPerThread: p, vec4sPerThread: v, ...(walk ? { walkColumns: walk } : {}) }));
const variants: { label: string; kernels: KernelChoice }[] = [
  { label: 'default', kernels: DEFAULT_KERNEL_CHOICE },
  ...tiles.map((t) => ({ label: `stem ${t.pixelsPerThread}x${t.vec4sPerThread}${t.walkColumns ? `w${t.walkColumns}` : ''}`, kernels: { ...DEFAULT_KERNEL_CHOICE, stem: t } })),
];
const { device, adapterInfo } = await acquireProfilingDevice();
console.log(`adapter: ${adapterInfo.vendor} ${adapterInfo.architecture} ${adapterInfo.description}; side ${side}, batch ${batch}; 1 warm-up + ${rounds} rounds`);
const fmt = (a: readonly number[]) => `${upperMedian(a).toFixed(2)} ms (min ${Math.min(...a).toFixed(2)})`;

/**
 * Compute roof of this process: a register-tiled kernel of 16 independent vec4 FMA chains per invocation (the
 * kind of work the conv kernels do), FLOPs over its median time.
 */
async function fmaGflops(): Promise<number> {
  const invocations = 64 * 1024;
  const iterations = 64;
  const dst = device.createBuffer({ size: invocations * 16, usage: GPUBufferUsage.STORAGE });
  const module = device.createShaderModule({ code: `
@group(0) @binding(0) var<storage, read_write> dst: array<vec4<f32>>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let i = g.x;
  let s = vec4<f32>(f32(i) * 1e-7);
${Array.from({ length: 16 }, (_, k) => `  var a${k} = s + vec4<f32>(${k}.0);`).join('\n')}
  let m = vec4<f32>(0.999);
  for (var k = 0u; k < ${iterations}u; k++) {
    let w = vec4<f32>(f32(k) * 1e-3);
${Array.from({ length: 16 }, (_, k) => `    a${k} = fma(a${k}, m, w);`).join('\n')}
  }
  dst[i] = ${Array.from({ length: 16 }, (_, k) => `a${k}`).join(' + ')};
}` });
  const pipeline = await device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  const bindGroup = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: dst } }] });
  const profiler = new GpuProfiler(device, 1);
  const ms: number[] = [];
  for (let i = 0; i < 4; i++) {
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass({ timestampWrites: profiler.timestampWrites(0) });
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(invocations / 64);
    pass.end();
    profiler.resolve(encoder, 1);
    device.queue.submit([encoder.finish()]);
    ms.push((await profiler.read(1)).durationsMs[0]);
  }
  profiler.destroy();
  dst.destroy();
  return (invocations * iterations * 16 * 4 * 2) / (upperMedian(ms.slice(1)) * 1e6);
}

/** One stem pipeline compiled on a fresh device (no cache of Dawn's or SwiftShader's shared with other runs), ms. */
async function compileFresh(program: KernelProgram): Promise<number> {
  const fresh = await acquireNodeDevice();
  const t0 = performance.now();
  const module = fresh.device.createShaderModule({ code: program.code });
  await fresh.device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  const ms = performance.now() - t0;
  fresh.device.destroy();
  return ms;
}

const stemPrograms = new Map<string, KernelProgram>();
for (const { name, build } of networks) {
  const graph = build({ side, batch });
  const models: CompiledModel[] = [];
  for (const v of variants) models.push(await compileModel(device, graph, { kernels: v.kernels }));
  const outputs = await outputsOnSeededInput(graph, models);
  // The stem steps: convs whose input has at most 4 channels.
  const stemSteps = models.map((m) => m.steps.flatMap((s, j) => {
    const node = m.graph.nodes.find((n) => n.output === s.node);
    return node?.op === 'conv2d' && m.graph.tensors[node.inputs[0]].shape[1] <= 4 ? [j] : [];
  }));
  const stemMacs = stemSteps[0].reduce((sum, j) => sum + models[0].steps[j].macs, 0);
  variants.forEach((v, i) => {
    for (const j of stemSteps[i]) stemPrograms.set(`${name} ${v.label}`, models[i].steps[j].program);
  });
  const stemMs = models.map(() => [] as number[]);
  const whole = models.map(() => [] as number[]);
  const roofs: number[] = [];
  for (let r = 0; r < 1 + rounds; r++) {
    roofs.push(await fmaGflops());
    for (let k = 0; k < models.length; k++) {
      const i = (k + r) % models.length;
      const { stepsMs, wholeMs } = await profilePass(device, models[i]);
      if (r === 0) continue;
      stemMs[i].push(stemSteps[i].reduce((s, j) => s + stepsMs[j], 0));
      whole[i].push(wholeMs);
    }
  }
  const roof = upperMedian(roofs.slice(1));
  console.log(`${name}: ${stemSteps[0].length} stem step(s), ${(2 * stemMacs / 1e9).toFixed(3)} GFLOP; FMA-probe compute roof ${roof.toFixed(2)} GFLOP/s`);
  variants.forEach((v, i) => {
    const diff = maxAbsDiff(outputs[i], outputs[0]);
    const gflops = (2 * stemMacs) / (upperMedian(stemMs[i]) * 1e6);
    console.log(`${name.padEnd(13)} ${v.label.padEnd(10)} stem ${fmt(stemMs[i])} = ${gflops.toFixed(2)} GFLOP/s (${(gflops / roof).toFixed(2)} of the roof)  whole pass ${fmt(whole[i])}  max |diff| vs default ${diff.toExponential(1)}  [${models[i].steps[stemSteps[i][0]].program.key}]`);
  });
  for (const m of models) m.dispose();
}
device.destroy();

const entries = [...stemPrograms.entries()];
const compileMs = entries.map(() => [] as number[]);
for (let r = 0; r < compileRounds; r++) {
  for (let k = 0; k < entries.length; k++) {
    const i = (k + r) % entries.length;
    compileMs[i].push(await compileFresh(entries[i][1]));
  }
}
console.log(`stem pipeline compiles (fresh device each, ${compileRounds} interleaved rounds):`);
entries.forEach(([label, p], i) => console.log(`  ${label.padEnd(24)} ${fmt(compileMs[i])}  WGSL ${p.code.length} chars  [${p.key}]`));
process.exit(0);
