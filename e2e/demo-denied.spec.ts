import { expect, test } from '@playwright/test';
import { CHROMIUM_WEBGPU_ARGS } from '../playwright.config.ts';
import { SHARED_CAT, hasShared, topLabel } from './demo-helpers.ts';

test.use({
  launchOptions: { executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: [...CHROMIUM_WEBGPU_ARGS, '--use-fake-device-for-media-stream'] },
  permissions: [],
});
test.skip(!hasShared(), 'needs ../shared (the default model and cat.bmp)');

test.describe('webcam demo with camera permission denied', () => {

  test('says so and classifies a still image instead', async ({ page }) => {
    await page.goto('/');
    await expect(page.locator('#source-message')).toContainText(/permission was denied|No camera/i, { timeout: 30_000 });
    await expect(page.locator('#model-name')).toHaveText('mobilenet_v2_1.0_224_quant.tflite', { timeout: 60_000 });
    await page.locator('#image-file').setInputFiles(SHARED_CAT);
    await expect.poll(() => topLabel(page), { timeout: 60_000 }).toBe('Egyptian cat');
  });

  test('fits a phone-sized viewport: no horizontal scrolling, controls reachable by keyboard', async ({ page }, info) => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto('/');
    await page.locator('#image-file').setInputFiles(SHARED_CAT);
    await expect.poll(() => topLabel(page), { timeout: 60_000 }).toBe('Egyptian cat');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    // Tab reaches the pause button and Space toggles it.
    await page.locator('#pause').focus();
    await page.keyboard.press('Space');
    await expect(page.locator('#pause')).toHaveAttribute('aria-pressed', 'true');
    // The README's phone-sized screenshot comes from segment mode (e2e/demo-segment.spec.ts); this one stays
    // with the test's results.
    await page.screenshot({ path: info.outputPath('demo-phone-denied.png'), fullPage: true });
  });
});
