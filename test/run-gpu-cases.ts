/**
 * Runs the GPU correctness cases under Node through Dawn (the `webgpu` package): a quick loop for kernel work
 * and the path for machines with a GPU and no browser. `npx tsx test/run-gpu-cases.ts [kernels|blocks|networks|tiles|f16|upsample|binary|channels|layernorm|grouped|fusion|activations|matmul|reduce|depthwise|inverted-residual|stem|conv2d-wrapped] [--grep TEXT]`
 *
 * `f16`: the f16-storage cases at 'f16-packed' and native 'f16' (skipped, not passed, where the adapter has no
 * `shader-f16`), then the shared real model's accuracy at f32 and at both f16 modes (`test/f16-accuracy.ts`),
 * each counted as a pass or a failure. An unknown group name is an error (exit 2). `--grep TEXT` runs only the
 * cases whose name contains TEXT.
 */
import { readFileSync } from 'node:fs';
import { acquireNodeDevice } from '../src/gpu/node-device.ts';
import { BLOCK_CASES, CHANNEL_CASES, F16_CASES, F16_TILE_CASES, KERNEL_CASES, NETWORK_CASES, UPSAMPLE_CASES, headAsChosen, type GpuCase } from './gpu-cases.ts';
import { checkSharedModelAccuracy, describeAccuracy } from './f16-accuracy.ts';
import { SHARED_CAT, SHARED_MODEL, hasShared } from './shared.ts';
import { runCase } from './case-runner.ts';
import { TILE_CASES } from './tile-cases.ts';
import { ATROUS_CASES } from './atrous-cases.ts';
import { BINARY_CASES } from './binary-cases.ts';
import { LAYER_NORM_CASES } from './gpu-cases.ts';
import { ACTIVATION_CASES } from './activation-cases.ts';
import { MATMUL_CASES } from './matmul-cases.ts';
import type { KernelChoice } from '../src/runtime/kernel-choice.ts';
import { defaultKernelChoice } from '../src/runtime/kernel-choice.ts';
import { GROUPED_CASES, GROUPED_F16_CASES } from './grouped-cases.ts';
import { INPUT_TRANSFORM_CASES, INPUT_TRANSFORM_TILE_CASES } from './input-transform-cases.ts';
import { DEPTHWISE_CASES, DEPTHWISE_F16_CASES, depthwiseKernelPrefix } from './depthwise-cases.ts';
import { FUSED_BLOCK_CASES, FUSED_BLOCK_F16_CASES } from './inverted-residual-cases.ts';
import { STEM_CASES, STEM_F16_CASES } from './stem-cases.ts';
import { CONV2D_WRAPPED_CASES } from './conv2d-wrapped-cases.ts';

interface Entry {
  readonly case: GpuCase;
  readonly kernels?: KernelChoice;
  readonly name?: string;
  /** A program-key prefix that one of the case's launches must have (the kernel the case is about ran). */
  readonly kernel?: string;
}
const plain = (cases: readonly GpuCase[]): Entry[] => cases.map((c) => ({ case: c }));
const groups: Record<string, readonly Entry[]> = {
  kernels: plain(KERNEL_CASES),
  blocks: plain(BLOCK_CASES),
  networks: plain(NETWORK_CASES),
  // Every kernel variant the autotuner can pick (workgroup-memory tiles included).
  tiles: TILE_CASES.map((t) => ({ case: t.case, kernels: t.kernels, name: t.name })),
  f16: [...plain(F16_CASES), ...F16_TILE_CASES.map((t) => ({ case: t.case, kernels: t.kernels, name: t.name }))],
  // The upsampling ops alone (also part of 'kernels'), for a quick loop.
  upsample: [...plain(UPSAMPLE_CASES), ...ATROUS_CASES.map((t) => ({ case: t.case, kernels: t.kernels, name: t.name }))],
  binary: plain(BINARY_CASES),
  channels: plain([...CHANNEL_CASES, ...CHANNEL_CASES.map((c): GpuCase => ({ ...c, precision: 'f16-packed' }))]),
  layernorm: plain([...LAYER_NORM_CASES, ...LAYER_NORM_CASES.map((c): GpuCase => ({ ...c, precision: 'f16-packed' }))]),
  // Grouped convs on the grouped family (each group's work only), f32 and f16-packed.
  grouped: [...GROUPED_CASES, ...GROUPED_F16_CASES].map((t) => ({ case: t.case, kernels: t.kernels, name: t.name })),
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
  depthwise: [...DEPTHWISE_CASES, ...DEPTHWISE_F16_CASES].map((t) => ({ case: t.case, kernels: t.kernels, name: t.name, kernel: depthwiseKernelPrefix(t) })),
  // Inverted-residual blocks on the fused kernel (one launch per block), f32 and f16-packed.
  'inverted-residual': [...FUSED_BLOCK_CASES, ...FUSED_BLOCK_F16_CASES].map((t) => ({ case: t.case, kernels: t.kernels, name: t.name, kernel: 'inverted-residual/' })),
  // RGB stems on the stem family, f32, f16-packed and native f16.
  stem: [...STEM_CASES, ...STEM_F16_CASES].map((t) => ({ case: t.case, kernels: t.kernels, name: t.name, kernel: 'conv-stem/' })),
  // Dense KxK convs on the conv2d family's wrapped tile (pixels along the flattened map), f32 and f16-packed.
  'conv2d-wrapped': CONV2D_WRAPPED_CASES.map((t) => ({ case: t.case, kernels: t.kernels, name: t.name, kernel: 'conv2d/' })),
};
// `--grep TEXT`: only the cases whose name contains TEXT (a quick loop over one kernel's cases).
const grepAt = process.argv.indexOf('--grep');
const grep = grepAt >= 0 ? process.argv[grepAt + 1] : undefined;
const wanted = process.argv.slice(2).filter((_, i) => grepAt < 0 || (i + 2 !== grepAt && i + 2 !== grepAt + 1));
// A misspelt group must not pass as an empty, green run.
const unknown = wanted.filter((g) => !Object.hasOwn(groups, g));
if (unknown.length) {
  console.error(`run-gpu-cases: unknown group${unknown.length > 1 ? 's' : ''} ${unknown.map((g) => `'${g}'`).join(', ')}; the groups are ${Object.keys(groups).join(', ')}`);
  process.exit(2);
}
const selected = wanted.length ? wanted : Object.keys(groups);
const { device, adapterInfo } = await acquireNodeDevice();
console.log(`adapter: ${adapterInfo.vendor} ${adapterInfo.architecture} ${adapterInfo.description}; shader-f16: ${device.features.has('shader-f16') ? 'yes' : 'no'}`);
let failed = 0;
let passed = 0;
let skipped = 0;
for (const name of selected) {
  for (const e of groups[name]) {
    if (grep !== undefined && !(e.name ?? '').includes(grep)) continue;
    const r = await runCase(device, e.case, e.kernels);
    if (r.skipped) {
      skipped++;
      console.log(`skip ${e.name ? `[${e.name}] ` : ''}${r.description}  (skipped: ${r.skipped})`);
      continue;
    }
    // A pool + FC head must also have run fused exactly when the kernel choice asked for it.
    // The grouped cases must also have run on the grouped family, not on the dense fallback.
    const ok = r.ok && headAsChosen(e.case, r) && (name !== 'grouped' || r.kernels.some((k) => k.startsWith('grouped/')))
      && (e.kernel === undefined || r.kernels.some((k) => k.startsWith(e.kernel ?? '')));
    if (ok) passed++;
    else failed++;
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${e.name ? `[${e.name}] ` : ''}${r.description}  maxErr=${r.maxAbsError.toExponential(2)} tol=${r.tolerance.toExponential(2)} ` +
      `gpu=${r.gpuMs.toFixed(1)}ms ref=${r.referenceMs.toFixed(0)}ms compile=${r.compileMs.toFixed(0)}ms dispatches=${r.dispatches}`);
  }
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
    // Every MobileNetV2 block on the fused kernel against the default engine's f32 logits, at f32 and f16-packed.
    const fused = { ...defaultKernelChoice(adapterInfo), invertedResidual: 'fused' } as const;
    const { results } = await checkSharedModelAccuracy(device, readFileSync(SHARED_MODEL), readFileSync(SHARED_CAT), ['f32', 'f16-packed'], fused);
    for (const a of results) {
      if (a.ok) passed++;
      else failed++;
      console.log(`${a.ok ? 'ok  ' : 'FAIL'} shared model, cat.bmp, fused inverted-residual blocks, ${describeAccuracy(a)}`);
    }
  }
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
device.destroy();
process.exit(failed ? 1 : 0);
