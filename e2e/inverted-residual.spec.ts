import { readFileSync } from 'node:fs';
import { DEFAULT_KERNEL_CHOICE } from '../src/runtime/kernel-choice.ts';
import { EGYPTIAN_CAT, MAX_RELATIVE_LOGIT_DIFF, MIN_CAT_PROBABILITY, describeAccuracy } from '../test/f16-accuracy.ts';
import { SHARED_CAT, hasShared } from '../test/shared.ts';
import { caseTests } from './case-tests.ts';
import { expect, test } from './fixtures.ts';

test.describe('inverted-residual blocks on the fused kernel vs CPU reference (fp32: max |err| <= 1e-4 * max|ref| + 1e-5; f16 bars)', () => {
  caseTests('inverted-residual');
});

test.describe('the shared MobileNetV2 quant TFLite with every block fused', () => {
  test.skip(!hasShared(), 'needs ../shared (model, cat.bmp)');
  test(`Egyptian cat top-1 with p >= ${MIN_CAT_PROBABILITY}, logits within ${MAX_RELATIVE_LOGIT_DIFF} x max|logit| of the unfused engine`, async ({ harnessPage }) => {
    const cat = readFileSync(SHARED_CAT).toString('base64');
    const kernels = { ...DEFAULT_KERNEL_CHOICE, invertedResidual: 'fused' } as const;
    const { f32, results } = await harnessPage.evaluate(
      ([image, k]) => window.webcnnHarness.sharedF16Accuracy('/models/mobilenet_v2_1.0_224_quant.tflite', image, ['f32'], k),
      [cat, kernels] as const,
    );
    const [a] = results;
    console.log(`unfused ${describeAccuracy(f32)}\nfused ${describeAccuracy(a)}`);
    expect(f32.top1).toBe(EGYPTIAN_CAT);
    expect(a.top1).toBe(EGYPTIAN_CAT);
    expect(a.catProbability).toBeGreaterThanOrEqual(MIN_CAT_PROBABILITY);
    expect(a.maxLogitDiff).toBeLessThanOrEqual(MAX_RELATIVE_LOGIT_DIFF * a.maxAbsLogit);
  });
});
