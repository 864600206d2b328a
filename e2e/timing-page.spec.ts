/**
 * The timing page's behaviour around the figures: help instead of an error where WebGPU is missing, keyboard
 * sorting, the quick-run note and roofs that no kernel rises above (one quick MobileNetV2 run; the whole suite
 * is timing.spec.ts).
 */
import { expect, test, type Page } from '@playwright/test';
import { CHROMIUM_WEBGPU_ARGS } from '../playwright.config.ts';
import type { TimingRow } from '../src/bench/figures.ts';
import type { Peaks } from '../src/bench/timing.ts';

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

test('timing page quick run: a note that figures are approximate, roofs above every kernel, keyboard sorting', async ({ page }) => {
  test.setTimeout(180_000);
  const errors = collectErrors(page);
  await page.goto('/demo/timing.html?autorun=1&quick=1&networks=mobilenet_v2');
  await page.waitForFunction(() => window.timingDone === true, undefined, { timeout: 170_000, polling: 250 });
  expect(await page.evaluate(() => window.timingError)).toBeUndefined();
  expect(errors).toEqual([]);

  await expect(page.locator('#note')).toBeVisible();
  await expect(page.locator('#note')).toContainText(/Quick run: 2 timed runs per figure \(mean of 2 runs.*approximate/);
  // A median of 2 samples is their mean, and the page says so; no order between the sum of kernels and the whole.
  await expect(page.locator('#summary .card').first()).toContainText('per inference, mean of 2 runs (their median)');
  await expect(page.locator('#summary')).not.toContainText('above');

  const peaks: Peaks = await page.evaluate(() => window.timingSuite!.peaks!);
  const rows: TimingRow[] = await page.evaluate(() => window.timingResults!);
  const plotted = rows.filter((r) => r.index >= 0 && r.macs > 0 && !r.belowResolution);
  const fastest = Math.max(...plotted.map((r) => r.gflops));
  const widest = Math.max(...plotted.map((r) => r.gbps));
  console.log(
    `roofs ${peaks.gflops.toFixed(2)} GFLOP/s (probe ${peaks.gemm.gflops.toFixed(2)}, fastest kernel ${fastest.toFixed(2)}), ` +
      `${peaks.gbps.toFixed(2)} GB/s (copy kernel ${peaks.copy.kernelGbps.toFixed(2)}, copyBufferToBuffer ${peaks.copy.copyBufferGbps.toFixed(2)}, widest kernel ${widest.toFixed(2)})`,
  );
  expect(peaks.gflops).toBe(Math.max(peaks.gemm.gflops, fastest));
  expect(peaks.gbps).toBe(Math.max(peaks.copy.kernelGbps, widest));
  expect(peaks.gflopsKernel === null).toBe(peaks.gemm.gflops >= fastest);
  await expect(page.locator('#adapter')).toContainText(peaks.gflopsKernel ? /compute roof.*fastest kernel, MobileNetV2/ : /compute roof.*pointwise GEMM probe/);
  await expect(page.locator('#adapter')).toContainText('copyBufferToBuffer');

  // Sorting from the keyboard: focus the heading's button, Enter sorts slowest first, Space flips the order.
  const median = page.locator('#rows th', { hasText: 'median ms' });
  await median.getByRole('button').focus();
  await page.keyboard.press('Enter');
  await expect(median).toHaveAttribute('aria-sort', 'descending');
  const slowest = rows.reduce((a, b) => (b.medianMs > a.medianMs ? b : a));
  await expect(page.locator('#rows tbody tr').first().locator('td').nth(2)).toHaveText(slowest.layer);
  await expect(median.getByRole('button')).toBeFocused();
  await page.keyboard.press('Space');
  await expect(median).toHaveAttribute('aria-sort', 'ascending');
  await page.keyboard.press('Tab');
  await expect(page.locator('#rows th', { hasText: 'min ms' }).getByRole('button')).toBeFocused();
});
