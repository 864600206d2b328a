import { DEPTHWISE_CASES, DEPTHWISE_F16_CASES, depthwiseKernelPrefix } from '../test/depthwise-cases.ts';
import { expect, test } from './fixtures.ts';

test.describe('depthwise convs on the block and rolling kernels vs CPU reference (fp32: max |err| <= 1e-4 * max|ref| + 1e-5; f16 bars)', () => {
  for (const t of [...DEPTHWISE_CASES, ...DEPTHWISE_F16_CASES]) {
    test(t.name, async ({ harnessPage }) => {
      const r = await harnessPage.evaluate(([c, k]) => window.webcnnHarness.run(c, k), [t.case, t.kernels] as const);
      // Native f16 cases run only where the adapter has shader-f16.
      test.skip(r.skipped !== undefined, r.skipped);
      console.log(`${t.name}: worst error ${r.maxAbsError.toExponential(2)} (tolerance ${r.tolerance.toExponential(2)}) kernels ${r.kernels.join(', ')}`);
      expect(r.maxAbsError).toBeLessThanOrEqual(r.tolerance);
      expect(r.kernels.some((k) => k.startsWith(depthwiseKernelPrefix(t))), `ran on ${depthwiseKernelPrefix(t)}`).toBe(true);
    });
  }
});
