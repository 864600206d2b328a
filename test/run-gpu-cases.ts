/**
 * Runs the GPU correctness cases under Node through Dawn (the `webgpu` package): a quick loop for kernel work
 * and the path for machines with a GPU and no browser. `npx tsx test/run-gpu-cases.ts [kernels|blocks|networks]`
 */
import { acquireNodeDevice } from '../src/gpu/node-device.ts';
import { BLOCK_CASES, KERNEL_CASES, NETWORK_CASES, type GpuCase } from './gpu-cases.ts';
import { runCase } from './case-runner.ts';

const groups: Record<string, readonly GpuCase[]> = { kernels: KERNEL_CASES, blocks: BLOCK_CASES, networks: NETWORK_CASES };
const wanted = process.argv.slice(2);
const selected = wanted.length ? wanted : Object.keys(groups);
const { device, adapterInfo } = await acquireNodeDevice();
console.log(`adapter: ${adapterInfo.vendor} ${adapterInfo.architecture} ${adapterInfo.description}`);
let failed = 0;
let passed = 0;
for (const name of selected) {
  for (const c of groups[name] ?? []) {
    const r = await runCase(device, c);
    if (r.ok) passed++;
    else failed++;
    console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${r.description}  maxErr=${r.maxAbsError.toExponential(2)} tol=${r.tolerance.toExponential(2)} ` +
      `gpu=${r.gpuMs.toFixed(1)}ms ref=${r.referenceMs.toFixed(0)}ms compile=${r.compileMs.toFixed(0)}ms dispatches=${r.dispatches}`);
  }
}
console.log(`${passed} passed, ${failed} failed`);
device.destroy();
process.exit(failed ? 1 : 0);
