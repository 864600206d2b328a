/**
 * Browser side of the Playwright GPU tests: exposes `window.webcnnHarness`, which acquires one WebGPU device
 * per page and runs the cases of `test/gpu-cases.ts` against the CPU reference.
 */
import { acquireDevice } from '../src/gpu/device.ts';
import { runCase, type CaseResult } from '../test/case-runner.ts';
import type { GpuCase } from '../test/gpu-cases.ts';
import { bottleneckCheck, type ChainingResult } from '../test/chaining-check.ts';
import { checkPreprocess, type PreprocessCheck } from '../test/preprocess-check.ts';
import type { Preprocessing } from '../src/formats/model.ts';
import type { KernelChoice } from '../src/runtime/lowering.ts';

export interface Harness {
  adapter(): Promise<string>;
  run(c: GpuCase, kernels?: KernelChoice): Promise<CaseResult>;
  chaining(): Promise<ChainingResult>;
  preprocess(width: number, height: number, p: Preprocessing): Promise<PreprocessCheck>;
}

let devicePromise: Promise<GPUDevice> | undefined;
const device = (): Promise<GPUDevice> => (devicePromise ??= acquireDevice().then((d) => d.device));

const harness: Harness = {
  async adapter() {
    const d = await acquireDevice();
    const info = d.adapterInfo;
    d.device.destroy();
    return `${info.vendor} / ${info.architecture} ${info.description}`.trim();
  },
  async run(c, kernels) {
    return runCase(await device(), c, kernels);
  },
  async chaining() {
    return bottleneckCheck(await device());
  },
  async preprocess(width, height, p) {
    return checkPreprocess(await device(), width, height, p);
  },
};

declare global {
  interface Window {
    webcnnHarness: Harness;
  }
}
window.webcnnHarness = harness;
document.getElementById('status')!.textContent = 'ready';
