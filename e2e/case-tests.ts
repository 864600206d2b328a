/**
 * The Playwright side of a split group (`test/case-share.ts`): Chromium's share of its cases (every case with
 * `WEBCNN_GPU_CASES=all`), one test each, held to every check the Node runner makes.
 */
import { casesFor, type CaseEntry, type SplitGroup } from '../test/case-share.ts';
import { describeCase, headAsChosen } from '../test/gpu-cases.ts';
import { expect, test } from './fixtures.ts';

export const caseTitle = (e: CaseEntry): string => e.name ?? describeCase(e.case);

export function caseTests(group: SplitGroup, title: (e: CaseEntry) => string = caseTitle): void {
  for (const e of casesFor('chromium', group)) {
    test(title(e), async ({ harnessPage }) => {
      const r = await harnessPage.evaluate(([c, k]) => window.webcnnHarness.run(c, k), [e.case, e.kernels] as const);
      // Native f16 cases run only where the adapter has shader-f16.
      test.skip(r.skipped !== undefined, r.skipped);
      const kernels = r.kernels.length > 8 ? `${r.kernels.length} kernels` : `kernels ${r.kernels.join(', ')}`;
      console.log(
        `${title(e)}: worst error ${r.maxAbsError.toExponential(2)} (tolerance ${r.tolerance.toExponential(2)}, max|ref| ${r.maxAbsRef.toFixed(3)}), ` +
          `${r.dispatches} dispatches, ${kernels}, activation memory ${(r.activationPeakBytes / 2 ** 20).toFixed(2)} MiB planned ` +
          `(${(r.activationUnplannedBytes / 2 ** 20).toFixed(2)} MiB unplanned), compile ${r.compileMs.toFixed(0)} ms, first run ${r.gpuMs.toFixed(0)} ms, CPU reference ${r.referenceMs.toFixed(0)} ms`,
      );
      expect(r.nonFinite).toBe(0);
      expect(r.maxAbsError).toBeLessThanOrEqual(r.tolerance);
      expect(r.ok, 'as many outputs as the reference, each of its length, within the bar').toBe(true);
      expect(headAsChosen(e.case, r), 'pool + FC head fused exactly when the kernel choice says so').toBe(true);
      const kernel = e.kernel;
      if (kernel !== undefined) expect(r.kernels.some((k) => k.startsWith(kernel)), `ran on ${kernel}`).toBe(true);
      if (e.dispatches !== undefined) expect(r.dispatches, 'launches').toBe(e.dispatches);
    });
  }
}
