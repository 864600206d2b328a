import { headAsChosen } from '../test/gpu-cases.ts';
import { TILE_CASES } from '../test/tile-cases.ts';
import { expect, test } from './fixtures.ts';

test.describe('every autotuner tile vs CPU reference (fp32: max |err| <= 1e-4 * max|ref| + 1e-5)', () => {
  for (const t of TILE_CASES) {
    test(t.name, async ({ harnessPage }) => {
      const r = await harnessPage.evaluate(([c, k]) => window.webcnnHarness.run(c, k), [t.case, t.kernels] as const);
      console.log(`${t.name}: worst error ${r.maxAbsError.toExponential(2)} (tolerance ${r.tolerance.toExponential(2)}) kernels ${r.kernels.join(', ')}`);
      expect(r.maxAbsError).toBeLessThanOrEqual(r.tolerance);
      expect(headAsChosen(t.case, r), 'pool + FC head fused exactly when the kernel choice says so').toBe(true);
    });
  }
});
