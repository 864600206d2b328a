import { readFileSync } from 'node:fs';
import type { StoragePrecision } from '../shaders/common.ts';
import { NO_SHADER_F16 } from '../test/case-runner.ts';
import { EGYPTIAN_CAT, MAX_RELATIVE_LOGIT_DIFF, MIN_CAT_PROBABILITY, describeAccuracy } from '../test/f16-accuracy.ts';
import { SHARED_CAT, hasShared } from '../test/shared.ts';
import { caseTests, caseTitle } from './case-tests.ts';
import { expect, test } from './fixtures.ts';

test.describe('f16 storage vs CPU reference (f16 bars: 4e-3 x max|ref| for kernels and blocks, 1e-2 for networks; + 1e-4)', () => {
  caseTests('f16', (e) => (e.name === undefined ? caseTitle(e) : `tile ${e.name}`));
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
