import { CHANNEL_CASES, describeCase } from '../test/gpu-cases.ts';
import { expect, test } from './fixtures.ts';

test.describe('channel concat and slice vs CPU reference (fp32: max |err| <= 1e-4 * max|ref| + 1e-5)', () => {
  for (const c of CHANNEL_CASES) {
    test(describeCase(c), async ({ harnessPage }) => {
      const r = await harnessPage.evaluate((spec) => window.webcnnHarness.run(spec), c);
      console.log(`${r.description}: worst error ${r.maxAbsError.toExponential(2)} (tolerance ${r.tolerance.toExponential(2)}), ${r.dispatches} dispatches`);
      expect(r.nonFinite).toBe(0);
      expect(r.maxAbsError).toBeLessThanOrEqual(r.tolerance);
    });
  }
});
