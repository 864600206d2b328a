import { readFileSync } from 'node:fs';
import { EGYPTIAN_CAT } from '../test/f16-accuracy.ts';
import { SHARED_CAT, hasShared } from '../test/shared.ts';
import { expect, test } from './fixtures.ts';

test.describe('tiered compilation in the browser (shared MobileNetV2 quant TFLite)', () => {
  test.skip(!hasShared(), 'needs ../shared (model, cat.bmp)');

  test('the model keeps running while its upgrade compiles, then gives the same bits: Egyptian cat >= 0.78', async ({ harnessPage }) => {
    test.setTimeout(300_000);
    const cat = readFileSync(SHARED_CAT).toString('base64');
    const r = await harnessPage.evaluate(
      ([image]) => window.webcnnHarness.sharedUpgrade('/models/mobilenet_v2_1.0_224_quant.tflite', image),
      [cat] as const,
    );
    console.log(
      `upgrade ${r.state} in ${r.upgradeMs.toFixed(0)} ms: ${r.changedLaunches} of ${r.launches} launches on other programs, ` +
        `${r.runsWhileCompiling} runs meanwhile, longest timer wait ${r.longestTimerWaitMs.toFixed(0)} ms; ` +
        `top-1 ${r.top1} p ${r.catProbability.toFixed(4)}, same bits ${r.sameBits}`,
    );
    // GPUs have no default upgrade: the model keeps its kernels and the check is of the outputs alone.
    expect(r.state).toBe(r.upgradeExpected ? 'done' : 'none');
    if (r.upgradeExpected) expect(r.changedLaunches).toBeGreaterThan(0);
    expect(r.sameBits).toBe(true);
    expect(r.top1).toBe(EGYPTIAN_CAT);
    expect(r.catProbability).toBeGreaterThanOrEqual(0.78);
  });
});
