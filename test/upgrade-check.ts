/**
 * The tiered compile of the shared MobileNetV2 in a page or in Node: the model compiled with the adapter's
 * defaults classifies cat.bmp, moves to its upgrade while it keeps running, and must then give the same bits.
 */
import { deviceAdapterInfo } from '../src/gpu/device.ts';
import { compileModel } from '../src/runtime/compile.ts';
import { defaultUpgrade } from '../src/runtime/kernel-choice.ts';
import { EGYPTIAN_CAT, sharedCatInput } from './f16-accuracy.ts';

export interface UpgradeCheck {
  /** `model.upgrade.state` at the end ('done' when the upgrade ran; 'none' on adapters without one). */
  readonly state: string;
  /** Whether the adapter has a default upgrade (software adapters do, GPUs do not). */
  readonly upgradeExpected: boolean;
  readonly top1: number;
  readonly catProbability: number;
  /** Whether both outputs were bit for bit those of the first kernels. */
  readonly sameBits: boolean;
  /** Launches whose program the upgrade changed, of all launches. */
  readonly changedLaunches: number;
  readonly launches: number;
  /** Runs that completed while the upgrade compiled, and the longest a 10 ms timer waited meanwhile. */
  readonly runsWhileCompiling: number;
  readonly longestTimerWaitMs: number;
  readonly upgradeMs: number;
}

export async function checkSharedUpgrade(device: GPUDevice, modelBytes: Uint8Array, catBmp: Uint8Array): Promise<UpgradeCheck> {
  const { graph, input } = sharedCatInput(modelBytes, catBmp);
  const model = await compileModel(device, graph);
  try {
    const [probs, logits] = await model.run([input]);
    const keys = model.steps.map((s) => s.program.key);
    const t0 = performance.now();
    const upgraded = model.whenUpgraded();
    let compiling = true;
    void upgraded.finally(() => (compiling = false));
    // A timer that should fire every 10 ms: how long the page (or Node's event loop) was held up meanwhile.
    let longestTimerWaitMs = 0;
    let last = performance.now();
    const tick = setInterval(() => {
      const now = performance.now();
      longestTimerWaitMs = Math.max(longestTimerWaitMs, now - last - 10);
      last = now;
    }, 10);
    let runsWhileCompiling = 0;
    try {
      while (compiling) {
        await model.run([input]);
        if (compiling) runsWhileCompiling++;
      }
      await upgraded;
    } finally {
      clearInterval(tick);
    }
    const upgradeMs = performance.now() - t0;
    const [probs2, logits2] = await model.run([input]);
    const same = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
    let top1 = 0;
    for (let i = 1; i < probs2.length; i++) if (probs2[i] > probs2[top1]) top1 = i;
    const changedLaunches = model.steps.filter((s, i) => s.program.key !== keys[i]).length;
    return {
      state: model.upgrade.state,
      upgradeExpected: defaultUpgrade(deviceAdapterInfo(device)) !== null,
      top1,
      catProbability: probs2[EGYPTIAN_CAT],
      sameBits: same(probs, probs2) && same(logits, logits2),
      changedLaunches,
      launches: model.steps.length,
      runsWhileCompiling,
      longestTimerWaitMs,
      upgradeMs,
    };
  } finally {
    model.dispose();
  }
}
