import { KERNEL_CASES, describeCase, headAsChosen } from '../test/gpu-cases.ts';
import { expect, test } from './fixtures.ts';

test.describe('kernels vs CPU reference (fp32: max |err| <= 1e-4 * max|ref| + 1e-5)', () => {
  test('adapter', async ({ harnessPage }) => {
    const adapter = await harnessPage.evaluate(() => window.webcnnHarness.adapter());
    console.log(`WebGPU adapter: ${adapter}`);
    expect(adapter.length).toBeGreaterThan(0);
  });

  for (const c of KERNEL_CASES) {
    test(describeCase(c), async ({ harnessPage }) => {
      const r = await harnessPage.evaluate((spec) => window.webcnnHarness.run(spec), c);
      console.log(`${r.description}: worst error ${r.maxAbsError.toExponential(2)} (tolerance ${r.tolerance.toExponential(2)}) kernels ${r.kernels.join(', ')}`);
      expect(r.nonFinite).toBe(0);
      expect(r.maxAbsError).toBeLessThanOrEqual(r.tolerance);
      expect(headAsChosen(c, r), 'pool + FC head fused exactly when the kernel choice says so').toBe(true);
    });
  }
});
