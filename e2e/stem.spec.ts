import { STEM_CASES, STEM_F16_CASES } from '../test/stem-cases.ts';
import { expect, test } from './fixtures.ts';

test.describe('RGB stems on the stem family vs CPU reference (fp32: max |err| <= 1e-4 * max|ref| + 1e-5; f16 bars)', () => {
  for (const t of [...STEM_CASES, ...STEM_F16_CASES]) {
    test(t.name, async ({ harnessPage }) => {
      const r = await harnessPage.evaluate(([c, k]) => window.webcnnHarness.run(c, k), [t.case, t.kernels] as const);
      test.skip(r.skipped !== undefined, r.skipped);
      console.log(`${t.name}: worst error ${r.maxAbsError.toExponential(2)} (tolerance ${r.tolerance.toExponential(2)}) kernels ${r.kernels.join(', ')}`);
      expect(r.maxAbsError).toBeLessThanOrEqual(r.tolerance);
      expect(r.kernels.some((k) => k.startsWith('conv-stem/')), 'ran on the stem kernel').toBe(true);
    });
  }
});
