import { readFileSync } from 'node:fs';
import type { StoragePrecision } from '../shaders/common.ts';
import { NO_SHADER_F16 } from '../test/case-runner.ts';
import { F16_CASES, F16_TILE_CASES, describeCase, headAsChosen } from '../test/gpu-cases.ts';
import { EGYPTIAN_CAT, MAX_RELATIVE_LOGIT_DIFF, MIN_CAT_PROBABILITY, describeAccuracy } from '../test/f16-accuracy.ts';
import { SHARED_CAT, hasShared } from '../test/shared.ts';
import { expect, test } from './fixtures.ts';

test.describe('f16 storage vs CPU reference (f16 bars: 4e-3 x max|ref| for kernels and blocks, 1e-2 for networks; + 1e-4)', () => {
  for (const c of F16_CASES) {
    test(describeCase(c), async ({ harnessPage }) => {
      const r = await harnessPage.evaluate((spec) => window.webcnnHarness.run(spec), c);
      test.skip(r.skipped !== undefined, r.skipped);
      console.log(`${r.description}: worst error ${r.maxAbsError.toExponential(2)} (tolerance ${r.tolerance.toExponential(2)}, max|ref| ${r.maxAbsRef.toFixed(3)})`);
      expect(r.nonFinite).toBe(0);
      expect(r.maxAbsError).toBeLessThanOrEqual(r.tolerance);
      expect(headAsChosen(c, r), 'pool + FC head fused exactly when the kernel choice says so').toBe(true);
    });
  }
  for (const t of F16_TILE_CASES) {
    test(`tile ${t.name}`, async ({ harnessPage }) => {
      const r = await harnessPage.evaluate(([c, k]) => window.webcnnHarness.run(c, k), [t.case, t.kernels] as const);
      test.skip(r.skipped !== undefined, r.skipped);
      console.log(`${t.name}: worst error ${r.maxAbsError.toExponential(2)} (tolerance ${r.tolerance.toExponential(2)}) kernels ${r.kernels.join(', ')}`);
      expect(r.nonFinite).toBe(0);
      expect(r.maxAbsError).toBeLessThanOrEqual(r.tolerance);
      expect(headAsChosen(t.case, r), 'pool + FC head fused exactly when the kernel choice says so').toBe(true);
    });
  }
});

test.describe('f16 storage on the shared MobileNetV2 quant TFLite and cat.bmp (issue #6)', () => {
  test.skip(!hasShared(), 'needs ../shared (model, cat.bmp)');

  for (const precision of ['f16-packed', 'f16'] as const satisfies readonly StoragePrecision[]) {
    test(`${precision}: Egyptian cat top-1 with p >= ${MIN_CAT_PROBABILITY}, logits within ${MAX_RELATIVE_LOGIT_DIFF} x max|logit_f32|`, async ({ harnessPage }) => {
      if (precision === 'f16') {
        const features = await harnessPage.evaluate(() => window.webcnnHarness.features());
        test.skip(!features.includes('shader-f16'), NO_SHADER_F16);
      }
      const cat = readFileSync(SHARED_CAT).toString('base64');
      const { f32, results } = await harnessPage.evaluate(
        ([image, p]) => window.webcnnHarness.sharedF16Accuracy('/models/mobilenet_v2_1.0_224_quant.tflite', image, [p]),
        [cat, precision] as const,
      );
      const [a] = results;
      console.log(`${describeAccuracy(f32)}\n${describeAccuracy(a)}`);
      expect(f32.top1).toBe(EGYPTIAN_CAT);
      expect(a.skipped).toBeUndefined();
      expect(a.top1).toBe(EGYPTIAN_CAT);
      expect(a.catProbability).toBeGreaterThanOrEqual(MIN_CAT_PROBABILITY);
      expect(a.maxLogitDiff).toBeLessThanOrEqual(MAX_RELATIVE_LOGIT_DIFF * a.maxAbsLogit);
    });
  }
});
