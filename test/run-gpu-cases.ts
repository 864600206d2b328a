/**
 * Runs the GPU correctness cases under Node through Dawn (the `webgpu` package): a quick loop for kernel work
 * and the path for machines with a GPU and no browser. `npx tsx test/run-gpu-cases.ts [kernels|blocks|networks|tiles]`
 */
import { acquireNodeDevice } from '../src/gpu/node-device.ts';
import { BLOCK_CASES, KERNEL_CASES, NETWORK_CASES, type GpuCase } from './gpu-cases.ts';
import { runCase } from './case-runner.ts';
import { TILE_CASES } from './tile-cases.ts';
import type { KernelChoice } from '../src/runtime/lowering.ts';

interface Entry {
  readonly case: GpuCase;
  readonly kernels?: KernelChoice;
  readonly name?: string;
}
const plain = (cases: readonly GpuCase[]): Entry[] => cases.map((c) => ({ case: c }));
const groups: Record<string, readonly Entry[]> = {
  kernels: plain(KERNEL_CASES),
  blocks: plain(BLOCK_CASES),
  networks: plain(NETWORK_CASES),
  // Every kernel variant the autotuner can pick (workgroup-memory tiles included).
  tiles: TILE_CASES.map((t) => ({ case: t.case, kernels: t.kernels, name: t.name })),
};
const wanted = process.argv.slice(2);
const selected = wanted.length ? wanted : Object.keys(groups);
const { device, adapterInfo } = await acquireNodeDevice();
console.log(`adapter: ${adapterInfo.vendor} ${adapterInfo.architecture} ${adapterInfo.description}`);
let failed = 0;
let passed = 0;
for (const name of selected) {
  for (const e of groups[name] ?? []) {
    const r = await runCase(device, e.case, e.kernels);
    if (r.ok) passed++;
    else failed++;
    console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${e.name ? `[${e.name}] ` : ''}${r.description}  maxErr=${r.maxAbsError.toExponential(2)} tol=${r.tolerance.toExponential(2)} ` +
      `gpu=${r.gpuMs.toFixed(1)}ms ref=${r.referenceMs.toFixed(0)}ms compile=${r.compileMs.toFixed(0)}ms dispatches=${r.dispatches}`);
  }
}
console.log(`${passed} passed, ${failed} failed`);
device.destroy();
process.exit(failed ? 1 : 0);
