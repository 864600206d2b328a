import { test as base, expect, type Page } from '@playwright/test';
import type { Harness } from './harness.ts';

/**
 * One page (and so one WebGPU device and pipeline cache) per test file, shared by its tests: compiling the
 * same kernels again for every test would dominate the run on a software adapter.
 */
export const test = base.extend<object, { harnessPage: Page }>({
  harnessPage: [
    async ({ browser }, use) => {
      const page = await browser.newPage();
      page.on('console', (m) => {
        if (m.type() === 'error') console.log(`[page] ${m.text()}`);
      });
      await page.goto('/e2e/harness.html');
      await expect(page.locator('#status')).toHaveText('ready');
      await use(page);
      await page.close();
    },
    { scope: 'worker' },
  ],
});

export { expect };

export type HarnessCall<R> = (h: Harness) => Promise<R>;
