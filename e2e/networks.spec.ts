import { NETWORK_CASES, describeCase } from '../test/gpu-cases.ts';
import { expect, test } from './fixtures.ts';

test.describe('whole networks vs CPU reference (fp32: max |err| <= 1e-4 * max|ref| + 1e-5)', () => {
  for (const c of NETWORK_CASES) {
    test(describeCase(c), async ({ harnessPage }) => {
      const r = await harnessPage.evaluate((spec) => window.webcnnHarness.run(spec), c);
      console.log(
        `${r.description}: worst error ${r.maxAbsError.toExponential(2)} (tolerance ${r.tolerance.toExponential(2)}, max|ref| ${r.maxAbsRef.toFixed(3)}), ` +
          `${r.dispatches} dispatches, activation memory ${(r.activationPeakBytes / 2 ** 20).toFixed(2)} MiB planned ` +
          `(${(r.activationUnplannedBytes / 2 ** 20).toFixed(2)} MiB unplanned), compile ${r.compileMs.toFixed(0)} ms, first run ${r.gpuMs.toFixed(0)} ms, CPU reference ${r.referenceMs.toFixed(0)} ms`,
      );
      expect(r.nonFinite).toBe(0);
      expect(r.maxAbsError).toBeLessThanOrEqual(r.tolerance);
    });
  }
});
