import { caseTests } from './case-tests.ts';
import { expect, test } from './fixtures.ts';

test.describe('kernels vs CPU reference (fp32: max |err| <= 1e-4 * max|ref| + 1e-5)', () => {
  test('adapter', async ({ harnessPage }) => {
    const adapter = await harnessPage.evaluate(() => window.webcnnHarness.adapter());
    console.log(`WebGPU adapter: ${adapter}`);
    expect(adapter.length).toBeGreaterThan(0);
  });

  caseTests('kernels');
});
