/**
 * Runs the GPU correctness cases under Node through Dawn (the `webgpu` package): a quick loop for kernel work
 * and the path for machines with a GPU and no browser. `npx tsx test/run-gpu-cases.ts [kernels|blocks|networks|tiles|f16|upsample|binary|channels|layernorm|grouped|fusion|activations|matmul|reduce|depthwise|inverted-residual|stem|fused-networks|pointwise|conv2d-wrapped|upgrade|conv-fuzz|block-fuzz] [--grep TEXT]`
 *
 * `f16`: the f16-storage cases at 'f16-packed' and native 'f16' (skipped, not passed, where the adapter has no
 * `shader-f16`), then the shared real model's accuracy at f32 and at both f16 modes (`test/f16-accuracy.ts`),
 * each counted as a pass or a failure. `fused-networks` (test/fused-networks.ts) runs only when named. An unknown
 * group name is an error (exit 2). `--grep TEXT` runs only the
 * cases whose name contains TEXT.
 *
 * With no group named (CI's `npm run test:gpu-node`), the cases of the groups that Playwright also runs are split
 * with Chromium (`test/case-share.ts`): Node runs its share and leaves Chromium's; `WEBCNN_GPU_CASES=all` runs
 * them all here too. Named groups run whole. A case that several groups hold runs once per process.
 * `--list` prints what would run (one JSON line per entry: group, name, key, `run`, `chromium` or `repeat`) and
 * exits without a device.
 */
import { readFileSync } from 'node:fs';
import { acquireNodeDevice } from '../src/gpu/node-device.ts';
import { CHANNEL_CASES, KERNEL_CASES, UPSAMPLE_CASES, describeCase, headAsChosen, type GpuCase } from './gpu-cases.ts';
import { checkSharedModelAccuracy, describeAccuracy } from './f16-accuracy.ts';
import { SHARED_CAT, SHARED_MODEL, hasShared } from './shared.ts';
import { runCase } from './case-runner.ts';
import { ATROUS_CASES } from './atrous-cases.ts';
import { BINARY_CASES } from './binary-cases.ts';
import { LAYER_NORM_CASES } from './gpu-cases.ts';
import { ACTIVATION_CASES } from './activation-cases.ts';
import { MATMUL_CASES } from './matmul-cases.ts';
import { defaultKernelChoice } from '../src/runtime/kernel-choice.ts';
import { INPUT_TRANSFORM_CASES, INPUT_TRANSFORM_TILE_CASES } from './input-transform-cases.ts';
import { FUSED_SE_CASES } from './inverted-residual-cases.ts';
import { STEM_WALK_CASES } from './stem-cases.ts';
import { FUSED_NETWORKS, checkFusedNetwork } from './fused-networks.ts';
import { FULL_TABLE_ENV, SPLIT_GROUPS, caseKey, leftToChromium, tileEntries, type CaseEntry } from './case-share.ts';
import { POINTWISE_RULE_CASES } from './pointwise-cases.ts';
import { CONV2D_WRAPPED_CASES } from './conv2d-wrapped-cases.ts';
import { UPGRADE_CASES } from './upgrade-cases.ts';
import { CI_FUZZ_BLOCKS, CI_FUZZ_SEED, CI_FUZZ_SHAPES, blockFuzzEntries, convFuzzEntries } from './conv-fuzz-cases.ts';

type Entry = CaseEntry;

/** Most shapes or blocks one fuzz run draws (each is a few GPU cases). */
const MAX_FUZZ_COUNT = 10_000;

/**
 * An integer from the environment (a seed: 0 up; a count: 1 to `MAX_FUZZ_COUNT`), else `fallback`; anything else
 * is an error (exit 2), not a silent default.
 */
function fuzzSetting(name: string, fallback: number, min: number, max: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    console.error(`run-gpu-cases: ${name} must be an integer from ${min} to ${max}, got '${text}'`);
    process.exit(2);
  }
  return value;
}
const fuzzSeedSetting = fuzzSetting('WEBCNN_FUZZ_SEED', CI_FUZZ_SEED, 0, 2 ** 32 - 1);
const plain = (cases: readonly GpuCase[]): Entry[] => cases.map((c) => ({ case: c }));
const groups: Record<string, readonly Entry[]> = {
  // The groups Playwright also runs: their tables, and the checks of each, are in test/case-share.ts.
  kernels: SPLIT_GROUPS.kernels,
  blocks: SPLIT_GROUPS.blocks,
  networks: SPLIT_GROUPS.networks,
  tiles: SPLIT_GROUPS.tiles,
  f16: SPLIT_GROUPS.f16,
  // The upsampling ops alone (also part of 'kernels'), for a quick loop.
  upsample: [...plain(UPSAMPLE_CASES), ...ATROUS_CASES.map((t) => ({ case: t.case, kernels: t.kernels, name: t.name }))],
  binary: plain(BINARY_CASES),
  channels: plain([...CHANNEL_CASES, ...CHANNEL_CASES.map((c): GpuCase => ({ ...c, precision: 'f16-packed' }))]),
  layernorm: plain([...LAYER_NORM_CASES, ...LAYER_NORM_CASES.map((c): GpuCase => ({ ...c, precision: 'f16-packed' }))]),
  // Grouped convs on the grouped family (each group's work only), f32 and f16-packed.
  grouped: SPLIT_GROUPS.grouped,
  // Squeeze-and-excitation and pre-activation batch norms fused into the 1x1 conv's input load.
  fusion: [
    ...plain([...INPUT_TRANSFORM_CASES, ...INPUT_TRANSFORM_CASES.map((c): GpuCase => ({ ...c, precision: 'f16-packed' }))]),
    ...INPUT_TRANSFORM_TILE_CASES.map((t) => ({ case: t.case, kernels: t.kernels, name: t.name })),
  ],
  // The activation table alone (also part of 'kernels'), for a quick loop.
  activations: plain(ACTIVATION_CASES),
  matmul: plain([...MATMUL_CASES, ...MATMUL_CASES.map((c): GpuCase => ({ ...c, precision: 'f16-packed' }))]),
  // ReduceMean / ReduceMax cases (also part of 'kernels').
  reduce: plain(KERNEL_CASES.filter((c) => c.kind === 'reduce')),
  // Depthwise convs on the block and rolling kernels (several output rows per invocation), f32 and the f16 modes.
  depthwise: SPLIT_GROUPS.depthwise,
  // Inverted-residual blocks on the fused kernel (one launch per block), f32 and f16-packed.
  // Then, in Node alone, the squeeze-and-excitation blocks (three launches each: squeeze, gate, excite).
  'inverted-residual': [...SPLIT_GROUPS['inverted-residual'], ...tileEntries(FUSED_SE_CASES, { kernel: 'inverted-residual/gate/', dispatches: 5 })],
  // RGB stems on the stem family, f32, f16-packed and native f16; then, in Node alone, the walking kernel's cases.
  stem: [...SPLIT_GROUPS.stem, ...STEM_WALK_CASES],
  // Whole zoo networks with every inverted-residual block fused, SE blocks included (test/fused-networks.ts).
  'fused-networks': [],
  // 1x1 convs on the pointwise shape rule's tiles and workgroup sizes (opt-in), f32 and f16-packed.
  pointwise: POINTWISE_RULE_CASES.map((t) => ({ case: t.case, kernels: t.kernels, name: t.name, kernel: t.expectKernel })),
  // Dense KxK convs on the conv2d family's wrapped tile (pixels along the flattened map), f32 and f16-packed.
  'conv2d-wrapped': CONV2D_WRAPPED_CASES.map((t) => ({ case: t.case, kernels: t.kernels, name: t.name, kernel: 'conv2d/wrap/' })),
  // The tiered upgrade's tiles (SOFTWARE_UPGRADE_KERNELS): conv2d shape rule, grouped 8 x 4, 7x7 stem 8 x 2, pointwise 16 x 8.
  upgrade: UPGRADE_CASES,
  // Seeded random convs on the software default, its upgrade, the GPU default and a tuner tile (test/conv-fuzz-cases.ts).
  'conv-fuzz': convFuzzEntries(fuzzSeedSetting, fuzzSetting('WEBCNN_FUZZ_SHAPES', CI_FUZZ_SHAPES, 1, MAX_FUZZ_COUNT)),
  // The same for inverted-residual blocks: the fused kernel on both defaults, and the upgrade's separate launches.
  'block-fuzz': blockFuzzEntries(fuzzSeedSetting, fuzzSetting('WEBCNN_FUZZ_BLOCKS', CI_FUZZ_BLOCKS, 1, MAX_FUZZ_COUNT)),
};
// `--grep TEXT`: only the cases whose name contains TEXT (a quick loop over one kernel's cases).
const grepAt = process.argv.indexOf('--grep');
const grep = grepAt >= 0 ? process.argv[grepAt + 1] : undefined;
const listOnly = process.argv.includes('--list');
const wanted = process.argv.slice(2).filter((a, i) => a !== '--list' && (grepAt < 0 || (i + 2 !== grepAt && i + 2 !== grepAt + 1)));
// A misspelt group must not pass as an empty, green run.
const unknown = wanted.filter((g) => !Object.hasOwn(groups, g));
if (unknown.length) {
  console.error(`run-gpu-cases: unknown group${unknown.length > 1 ? 's' : ''} ${unknown.map((g) => `'${g}'`).join(', ')}; the groups are ${Object.keys(groups).join(', ')}`);
  process.exit(2);
}
// fused-networks (whole zoo networks, minutes) runs only when named: never part of the default run (CI's).
const selected = wanted.length ? wanted : Object.keys(groups).filter((g) => g !== 'fused-networks');
// The default run leaves Chromium's share of the split groups to Playwright; named groups run whole.
const chromiumOnly = wanted.length ? new Set<string>() : leftToChromium();
const plan: { group: string; entry: Entry; action: 'run' | 'chromium' | 'repeat' }[] = [];
const planned = new Set<string>();
for (const group of selected) {
  for (const entry of groups[group]) {
    if (grep !== undefined && !(entry.name ?? '').includes(grep)) continue;
    const key = caseKey(entry);
    plan.push({ group, entry, action: chromiumOnly.has(key) ? 'chromium' : planned.has(key) ? 'repeat' : 'run' });
    planned.add(key);
  }
}
// A --grep that matches nothing must not pass as an empty, green run either.
if (grep !== undefined && plan.length === 0) {
  console.error(`run-gpu-cases: no case of ${selected.join(', ')} has '${grep}' in its name`);
  process.exit(2);
}
const leftCount = plan.filter((p) => p.action === 'chromium').length;
const repeatCount = plan.filter((p) => p.action === 'repeat').length;
if (listOnly) {
  const lines = plan.map((p) => `${JSON.stringify({ group: p.group, name: p.entry.name ?? describeCase(p.entry.case), key: caseKey(p.entry), action: p.action })}\n`);
  // Exit only once a pipe has taken it all.
  await new Promise<void>((done) => process.stdout.write(lines.join(''), () => done()));
  process.exit(0);
}
const { device, adapterInfo } = await acquireNodeDevice();
console.log(`adapter: ${adapterInfo.vendor} ${adapterInfo.architecture} ${adapterInfo.description}; shader-f16: ${device.features.has('shader-f16') ? 'yes' : 'no'}`);
let failed = 0;
let passed = 0;
let skipped = 0;
for (const { entry: e, action } of plan) {
  if (action !== 'run') continue;
  const r = await runCase(device, e.case, e.kernels);
  if (r.skipped) {
    skipped++;
    console.log(`skip ${e.name ? `[${e.name}] ` : ''}${r.description}  (skipped: ${r.skipped})`);
    continue;
  }
  // A pool + FC head must also have run fused exactly when the kernel choice asked for it; a case about one kernel
  // must have run on it (the grouped family, not the dense fallback; the depthwise tile; the fused block), and
  // with the launches it must make.
  const ok = r.ok && headAsChosen(e.case, r) && (e.kernel === undefined || r.kernels.some((k) => k.startsWith(e.kernel ?? '')))
    && (e.dispatches === undefined || r.dispatches === e.dispatches);
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${e.name ? `[${e.name}] ` : ''}${r.description}  maxErr=${r.maxAbsError.toExponential(2)} tol=${r.tolerance.toExponential(2)} ` +
    `gpu=${r.gpuMs.toFixed(1)}ms ref=${r.referenceMs.toFixed(0)}ms compile=${r.compileMs.toFixed(0)}ms dispatches=${r.dispatches}`);
}
if (selected.includes('f16')) {
  if (!hasShared()) {
    skipped++;
    console.log(`skip shared model accuracy  (skipped: needs ${SHARED_MODEL} and ${SHARED_CAT}; set WEBCNN_SHARED)`);
  } else {
    const { f32, results } = await checkSharedModelAccuracy(device, readFileSync(SHARED_MODEL), readFileSync(SHARED_CAT));
    // The f32 model is judged by the same bar (top-1 Egyptian cat, p >= 0.7) and counted like the others.
    for (const a of [f32, ...results]) {
      if (a.skipped) skipped++;
      else if (a.ok) passed++;
      else failed++;
      console.log(`${a.skipped ? 'skip' : a.ok ? 'ok  ' : 'FAIL'} shared model, cat.bmp, ${describeAccuracy(a)}`);
    }
  }
}
if (selected.includes('inverted-residual')) {
  if (!hasShared()) {
    skipped++;
    console.log(`skip shared model with fused blocks  (skipped: needs ${SHARED_MODEL} and ${SHARED_CAT}; set WEBCNN_SHARED)`);
  } else {
    // Every MobileNetV2 block on the fused kernel against the default engine's f32 logits, at f32 and f16-packed;
    // the default run leaves f32 to Chromium's e2e/inverted-residual.spec.ts, which checks just that.
    const fused = { ...defaultKernelChoice(adapterInfo), invertedResidual: 'fused' } as const;
    const precisions = chromiumOnly.size ? (['f16-packed'] as const) : (['f32', 'f16-packed'] as const);
    const { results } = await checkSharedModelAccuracy(device, readFileSync(SHARED_MODEL), readFileSync(SHARED_CAT), precisions, fused);
    for (const a of results) {
      if (a.ok) passed++;
      else failed++;
      console.log(`${a.ok ? 'ok  ' : 'FAIL'} shared model, cat.bmp, fused inverted-residual blocks, ${describeAccuracy(a)}`);
    }
  }
}
if (selected.includes('fused-networks')) {
  for (const network of FUSED_NETWORKS) {
    const r = await checkFusedNetwork(device, network, defaultKernelChoice(adapterInfo));
    if (r.skipped) skipped++;
    else if (r.ok) passed++;
    else failed++;
    console.log(r.skipped ? `skip ${network} with fused blocks  (skipped: ${r.skipped})` : `${r.ok ? 'ok  ' : 'FAIL'} ${r.description}`);
  }
}
if (leftCount || repeatCount) {
  console.log(`not run here: ${leftCount} cases in Chromium's share (Playwright; ${FULL_TABLE_ENV}=all runs them here too), ${repeatCount} repeats of cases run above`);
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
device.destroy();
process.exit(failed ? 1 : 0);
