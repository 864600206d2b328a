/**
 * The timing page's behaviour around the figures: help instead of an error where WebGPU is missing (the whole
 * suite is timing.spec.ts).
 */
import { expect, test, type Page } from '@playwright/test';
import { CHROMIUM_WEBGPU_ARGS } from '../playwright.config.ts';

test.use({
  viewport: { width: 1400, height: 1150 },
  launchOptions: {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [...CHROMIUM_WEBGPU_ARGS, '--enable-webgpu-developer-features'],
  },
});

/** Console errors and uncaught exceptions of the page, collected from now on. */
function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  return errors;
}

for (const [what, stub] of [
  ['no adapter', () => Object.defineProperty(GPU.prototype, 'requestAdapter', { value: async () => null })],
  ['no navigator.gpu', () => Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined })],
] as const) {
  test(`timing page without WebGPU (${what}): help on which browsers and flags, no console error`, async ({ page }) => {
    const errors = collectErrors(page);
    await page.addInitScript(stub);
    await page.goto('/demo/timing.html?autorun=1&quick=1');
    await page.waitForFunction(() => window.timingDone === true);
    await expect(page.locator('#status')).toHaveText(/^WebGPU is not available \(/);
    await expect(page.locator('#note')).toBeVisible();
    await expect(page.locator('#note')).toContainText('Chrome or Edge 113+');
    await expect(page.locator('#note')).toContainText('chrome://flags/#enable-unsafe-webgpu');
    await expect(page.locator('#adapter')).toContainText('not available');
    await expect(page.locator('#run')).toBeDisabled();
    expect(await page.evaluate(() => window.timingError)).toMatch(/^WebGPU is not available/);
    expect(errors).toEqual([]);
  });
}
