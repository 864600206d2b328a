import { caseTests } from './case-tests.ts';
import { expect, test } from './fixtures.ts';

test.describe('residual blocks vs CPU reference (fp32: max |err| <= 1e-4 * max|ref| + 1e-5)', () => {
  caseTests('blocks');

  test('bottleneck chains conv1 -> conv2 -> conv3 (the seed listing fed x to conv2 and conv3)', async ({ harnessPage }) => {
    const r = await harnessPage.evaluate(() => window.webcnnHarness.chaining());
    console.log(
      `chained: worst error ${r.engineVsChained.maxAbsError.toExponential(2)} (tolerance ${r.engineVsChained.tolerance.toExponential(2)}); ` +
        `unchained wiring differs by ${r.wiringDifference.toFixed(3)}; engine vs unchained ${r.engineVsUnchained.maxAbsError.toFixed(3)}`,
    );
    expect(r.engineVsChained.ok).toBe(true);
    // The two wirings must be far apart, or this test could not tell them apart.
    expect(r.wiringDifference).toBeGreaterThan(100 * r.engineVsChained.tolerance);
    expect(r.engineVsUnchained.ok).toBe(false);
  });
});
