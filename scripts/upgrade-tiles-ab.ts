/**
 * `npx tsx scripts/upgrade-tiles-ab.ts [--models inception_v3@160,regnet_x_400mf] [--networks resnet50] [--side 224]
 *   [--rounds 4] [--cache /work/zoo-cache] [--variants conv2d:8x4,stem:8x2,grouped:16x2,groupedrows:8x4,pwrule:16.8x8.4.2,c2rule:8x4+8x2@16] [--compiles 1]
 *   [--upgrade-compile] [--layers]`
 *
 * Candidates for the tiered upgrade against the upgrade as it is (`SOFTWARE_UPGRADE_KERNELS`), side by side on
 * this machine's adapter (Dawn in Node), on the zoo's exports (`--models`, `name` or `name@side`) and the
 * repository's networks with random weights (`--networks`, at `--side`). A variant is the upgrade with one field
 * replaced: `conv2d:PxV` (dense KxK convs, wrapped where that saves work, `wrapRows`), `conv2drow:PxV` (the row
 * tile everywhere), `stem:PxV` (RGB stems whose window is too large to walk; 3x3 ones keep walking 28 columns),
 * `grouped:PxV`, `groupedrows:PxV` (the grouped row form), `pwrule:16.8x8.4.2` (the pointwise shape rule's pixels and vec4s), `c2rule:8x4+8x2@16` (the conv2d shape
 * rule's wrapped tiles, and the workgroups a launch keeps for a tile to be taken). Only the layers whose program the variant changes are timed: per round one inference with a
 * timestamp pair per dispatch, the variants in turn, the order rotating, after a warm-up; the changed layers'
 * steps summed for the variant and for the upgrade in the same round, their ratio round by round, and every
 * step summed. Outputs are compared with the software default's (the tier a model starts on): max |diff| must
 * be exactly 0. Then the compile time of the changed layers' distinct programs, the variant's against the
 * upgrade's, one after the other on a fresh device each (as the upgrade compiles them), over `--compiles`
 * interleaved rounds; `--upgrade-compile` adds each configuration's whole background compile: its distinct
 * programs that the default does not share, one at a time on a fresh device. `--layers`: each changed layer's
 * median time, the upgrade's and the variant's. `--rounds 0`: only which layers and programs each variant changes.
 */
import type { KernelProgram } from '../shaders/common.ts';
import type { Conv2dTile } from '../shaders/conv2d/index.ts';
import { upperMedian } from '../src/bench/figures.ts';
import { acquireNodeDevice } from '../src/gpu/node-device.ts';
import type { Graph } from '../src/graph/ir.ts';
import { compileModel } from '../src/runtime/compile.ts';
import type { CompiledModel } from '../src/runtime/compiled-model.ts';
import type { KernelChoice } from '../src/runtime/kernel-choice.ts';
import { DEFAULT_KERNEL_CHOICE, SOFTWARE_UPGRADE_KERNELS, optimizeForKernels } from '../src/runtime/kernel-choice.ts';
import { lowerGraph } from '../src/runtime/lowering.ts';
import type { Step } from '../src/runtime/step.ts';
import { countValue, networkBuilders, parseAbArgs, roundsOption, usageError, zooGraphs, zooOptions } from './ab-args.ts';
import { acquireProfilingDevice, maxAbsDiff, outputsOnSeededInput, profileSteps } from './profile-pass.ts';

const USAGE = 'usage: npx tsx scripts/upgrade-tiles-ab.ts [--models inception_v3@160,regnet_x_400mf] [--networks resnet50] [--side 224] [--rounds 4] [--cache /work/zoo-cache] [--variants conv2d:8x4,conv2drow:8x4,stem:8x2,grouped:16x2,groupedrows:8x4,pwrule:16.8x8.4.2,c2rule:8x4+8x2@16] [--compiles 1] [--upgrade-compile] [--layers]';
const values = parseAbArgs(USAGE, {
  ...zooOptions('', 224),
  networks: { type: 'string', default: '' },
  ...roundsOption(4),
  variants: { type: 'string', default: 'conv2d:8x4' },
  compiles: { type: 'string', default: '1' },
  'upgrade-compile': { type: 'boolean', default: false },
  layers: { type: 'boolean', default: false },
});
const rounds = countValue(values.rounds, 'rounds', USAGE);
const side = countValue(values.side, 'side', USAGE, 1);
const compileRounds = countValue(values.compiles, 'compiles', USAGE);

/** `field:PxV` -> the upgrade with that field's tile replaced. */
function variantOf(spec: string): { label: string; kernels: KernelChoice } {
  const rule = /^pwrule:(\d+(?:\.\d+)*)x(\d+(?:\.\d+)*)$/.exec(spec.trim());
  if (rule) {
    const list = (text: string) => text.split('.').map(Number);
    return { label: spec.trim(), kernels: { ...SOFTWARE_UPGRADE_KERNELS, pointwiseByShape: { pixels: list(rule[1]), vec4s: list(rule[2]) } } };
  }
  const c2 = /^c2rule:(\d+x\d+(?:\+\d+x\d+)*)@(\d+)$/.exec(spec.trim());
  if (c2) {
    const tiles = c2[1].split('+').map((t): Conv2dTile => {
      const [p, v] = t.split('x').map(Number);
      return { family: 'conv2d', pixelsPerThread: p, vec4sPerThread: v, wrapRows: true };
    });
    return { label: spec.trim(), kernels: { ...SOFTWARE_UPGRADE_KERNELS, conv2dByShape: { tiles, minWorkgroups: Number(c2[2]) } } };
  }
  const m = /^(conv2d|conv2drow|stem|grouped|groupedrows):(\d+)x(\d+)$/.exec(spec.trim());
  if (!m) usageError(USAGE, `variant "${spec}" is not conv2d:PxV, conv2drow:PxV, stem:PxV, grouped:PxV, groupedrows:PxV, pwrule:P.PxV.V or c2rule:PxV+PxV@W`);
  const [, field, p, v] = m;
  const size = { pixelsPerThread: Number(p), vec4sPerThread: Number(v) };
  const kernels: KernelChoice =
    field === 'conv2d' ? { ...SOFTWARE_UPGRADE_KERNELS, conv2d: { family: 'conv2d', ...size, wrapRows: true } }
    : field === 'conv2drow' ? { ...SOFTWARE_UPGRADE_KERNELS, conv2d: { family: 'conv2d', ...size } }
    : field === 'stem' ? { ...SOFTWARE_UPGRADE_KERNELS, stem: { family: 'stem', ...size, walkColumns: 28 } }
    : field === 'groupedrows' ? { ...SOFTWARE_UPGRADE_KERNELS, grouped: { family: 'grouped', ...size, rows: true } }
    : { ...SOFTWARE_UPGRADE_KERNELS, grouped: { family: 'grouped', ...size } };
  return { label: spec.trim(), kernels };
}
const variants = [{ label: 'upgrade', kernels: SOFTWARE_UPGRADE_KERNELS }, ...(values.variants ? values.variants.split(',').map(variantOf) : [])];

const graphs: { name: string; graph: Graph }[] = [];
if (values.models) for (const { ask, graph } of zooGraphs(values, USAGE)) graphs.push({ name: ask, graph });
if (values.networks) for (const { name, build } of networkBuilders(values.networks, USAGE)) graphs.push({ name: `${name}@${side}`, graph: build({ side }) });
if (graphs.length === 0) usageError(USAGE, 'no --models and no --networks');

const { device, adapterInfo } = await acquireProfilingDevice();
if (rounds > 0) console.log(`adapter: ${adapterInfo.vendor} ${adapterInfo.architecture} ${adapterInfo.description}; 1 warm-up + ${rounds} rounds`);
const fmt = (a: readonly number[]) => `${upperMedian(a).toFixed(1)} ms (min ${Math.min(...a).toFixed(1)})`;
const programKey = (p: KernelProgram) => `${p.key}|${p.precision ?? 'f32'}`;

/** Each node's program keys (a node may lower to several launches). */
function keysByNode(steps: readonly Step[]): Map<string, string> {
  const keys = new Map<string, string>();
  for (const s of steps) if (s.node !== undefined) keys.set(String(s.node), `${keys.get(String(s.node)) ?? ''}${s.program.key};`);
  return keys;
}

/** The distinct programs of `steps` whose node is in `nodes` (all where absent), minus those keyed in `skip`. */
function programsOf(steps: readonly Step[], nodes?: ReadonlySet<string>, skip: ReadonlySet<string> = new Set()): KernelProgram[] {
  const seen = new Map<string, KernelProgram>();
  for (const s of steps) {
    if (nodes && (s.node === undefined || !nodes.has(String(s.node)))) continue;
    const key = programKey(s.program);
    if (!skip.has(key) && !seen.has(key)) seen.set(key, s.program);
  }
  return [...seen.values()];
}

/** `programs` compiled one after the other, each awaited, on a fresh device (no pipeline cache answers): ms in all. */
async function compileInTurn(programs: readonly KernelProgram[]): Promise<number> {
  if (programs.length === 0) return 0;
  const fresh = await acquireNodeDevice();
  const t0 = performance.now();
  for (const program of programs) {
    const module = fresh.device.createShaderModule({ code: program.code });
    await fresh.device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  }
  const ms = performance.now() - t0;
  fresh.device.destroy();
  return ms;
}

const sumOver = (m: CompiledModel, ms: Float64Array, nodes: ReadonlySet<string>) =>
  m.steps.reduce((s, step, j) => s + (step.node !== undefined && nodes.has(String(step.node)) ? ms[j] : 0), 0);

/** Each node's summed step time in one pass, by node. */
function byNode(m: CompiledModel, ms: Float64Array): Map<string, number> {
  const out = new Map<string, number>();
  m.steps.forEach((step, j) => {
    if (step.node !== undefined) out.set(String(step.node), (out.get(String(step.node)) ?? 0) + ms[j]);
  });
  return out;
}

/** A conv's shape for the per-layer lines: in -> out channels, map, window, stride, groups. */
function shapeOf(m: CompiledModel, node: string): string {
  const n = m.graph.nodes.find((x) => String(x.output) === node);
  const out = m.graph.tensors[Number(node)]?.shape;
  if (!n || !out || n.op !== 'conv2d') return n?.op ?? '?';
  const a = n.attrs;
  const inC = m.graph.tensors[n.inputs[0]].shape[1];
  return `${inC}->${out[1]} ${out[2]}x${out[3]} k${a.kernel[0]}x${a.kernel[1]} s${a.stride[0]}${a.groups > 1 ? ` g${a.groups}` : ''}`;
}

for (const { name, graph } of graphs) {
  const optimized = optimizeForKernels(graph, SOFTWARE_UPGRADE_KERNELS);
  const lowered = variants.map((v) => lowerGraph(optimized, v.kernels));
  const baseKeys = keysByNode(lowered[0]);
  // The variants that change at least one layer's program, with those layers.
  const active = variants.map((v, i) => {
    const keys = keysByNode(lowered[i]);
    return { ...v, steps: lowered[i], changed: new Set([...keys].filter(([node, k]) => baseKeys.get(node) !== k).map(([node]) => node)) };
  }).filter((v, i) => i === 0 || v.changed.size > 0);
  for (const v of variants.slice(1)) if (!active.some((a) => a.label === v.label)) console.log(`${name.padEnd(22)} ${v.label.padEnd(14)} changes no layer`);
  if (rounds === 0) {
    // Only what each variant changes: no device work.
    for (const v of active.slice(1)) console.log(`${name.padEnd(22)} ${v.label.padEnd(14)} changes ${v.changed.size} layers, ${programsOf(v.steps, v.changed).length} programs (the upgrade: ${programsOf(active[0].steps, v.changed).length})`);
    continue;
  }
  if (active.length === 1 && !values['upgrade-compile']) continue;

  const defaultModel = await compileModel(device, graph, { kernels: DEFAULT_KERNEL_CHOICE });
  const models: CompiledModel[] = [];
  for (const v of active) models.push(await compileModel(device, graph, { kernels: v.kernels }));
  const outputs = await outputsOnSeededInput(graph, [defaultModel, ...models]);
  defaultModel.dispose();
  const changedMs = models.map(() => [] as number[]);
  const baseChangedMs = models.map(() => [] as number[]);
  const allMs = models.map(() => [] as number[]);
  const nodeMs = models.map(() => new Map<string, number[]>());
  const started = new Date().toISOString().slice(11, 16);
  for (let r = 0; r < 1 + rounds; r++) {
    const perRound: Float64Array[] = [];
    for (let k = 0; k < models.length; k++) {
      const i = (k + r) % models.length;
      perRound[i] = await profileSteps(device, models[i]);
    }
    if (r === 0) continue;
    models.forEach((m, i) => {
      changedMs[i].push(sumOver(m, perRound[i], active[i].changed));
      baseChangedMs[i].push(sumOver(models[0], perRound[0], active[i].changed));
      allMs[i].push(perRound[i].reduce((a, b) => a + b, 0));
      for (const [node, ms] of byNode(m, perRound[i])) nodeMs[i].set(node, [...(nodeMs[i].get(node) ?? []), ms]);
    });
  }
  console.log(`${name}: started ${started} UTC`);
  active.forEach((v, i) => {
    const diff = maxAbsDiff(outputs[i + 1], outputs[0]);
    const ratios = changedMs[i].map((ms, r) => ms / baseChangedMs[i][r]);
    const changed = i === 0 ? '' : `${v.changed.size} layers: ${fmt(changedMs[i])} against ${fmt(baseChangedMs[i])}, per round ${ratios.map((x) => x.toFixed(2)).join(' ')} (median ${upperMedian(ratios).toFixed(2)})  `;
    console.log(`  ${v.label.padEnd(14)} ${changed}all steps ${fmt(allMs[i])}  max |diff| vs default ${diff === 0 ? '0' : diff.toExponential(1)}`);
    if (!values.layers || i === 0) return;
    for (const node of v.changed) {
      const cand = upperMedian(nodeMs[i].get(node) ?? [0]);
      const base = upperMedian(nodeMs[0].get(node) ?? [0]);
      console.log(`    ${shapeOf(models[i], node).padEnd(30)} ${base.toFixed(2)} -> ${cand.toFixed(2)} ms (${(cand / base).toFixed(2)})`);
    }
  });
  for (const m of models) m.dispose();

  // Compile times: each variant's changed programs against the upgrade's programs for the same layers.
  const jobs: { label: string; programs: KernelProgram[] }[] = [];
  for (const v of active.slice(1)) {
    jobs.push({ label: `${v.label} (${v.changed.size} layers)`, programs: programsOf(v.steps, v.changed) });
    jobs.push({ label: `  upgrade, same layers`, programs: programsOf(active[0].steps, v.changed) });
  }
  if (values['upgrade-compile']) {
    const defaultKeys = new Set(lowerGraph(optimized, DEFAULT_KERNEL_CHOICE).map((s) => programKey(s.program)));
    for (const v of active) jobs.push({ label: `whole upgrade, ${v.label}`, programs: programsOf(v.steps, undefined, defaultKeys) });
  }
  const compileMs = jobs.map(() => [] as number[]);
  for (let r = 0; r < compileRounds; r++) {
    for (let k = 0; k < jobs.length; k++) {
      const i = (k + r) % jobs.length;
      compileMs[i].push(await compileInTurn(jobs[i].programs));
    }
  }
  if (compileRounds > 0) {
    console.log(`  compiles, one program at a time on a fresh device, ${compileRounds} round(s), load ${(await import('node:os')).loadavg()[0].toFixed(1)}:`);
    jobs.forEach((j, i) => console.log(`    ${j.label.padEnd(34)} ${j.programs.length} programs ${fmt(compileMs[i])}`));
  }
}
device.destroy();
process.exit(0);
