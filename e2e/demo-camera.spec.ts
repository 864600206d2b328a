import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { CHROMIUM_WEBGPU_ARGS } from '../playwright.config.ts';
import { PROJECT_ROOT, SHARED_CAT, clip, hasShared, topLabel } from './demo-helpers.ts';

test.use({
  launchOptions: {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      ...CHROMIUM_WEBGPU_ARGS,
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-video-capture=${clip}`,
    ],
  },
});
test.skip(!hasShared(), 'needs ../shared (the default model and cat.bmp)');

test.describe('webcam demo with a fake camera showing the cat', () => {

  test('classifies live frames as Egyptian cat with positive FPS and latency', async ({ page }, info) => {
    await page.goto('/');
    await expect.poll(() => topLabel(page), { timeout: 60_000 }).toBe('Egyptian cat');
    await expect.poll(async () => Number(await page.locator('#fps').textContent()), { timeout: 30_000 }).toBeGreaterThan(0);
    const latency = await page.locator('#latency').textContent();
    expect(Number.parseFloat(latency ?? '')).toBeGreaterThan(0);
    const shot = await page.screenshot({ path: info.outputPath('demo.png') });
    if (process.env.UPDATE_SCREENSHOTS === '1') {
      mkdirSync(join(PROJECT_ROOT, 'docs'), { recursive: true });
      writeFileSync(join(PROJECT_ROOT, 'docs', 'demo.png'), shot);
    }
  });

  test('a malformed model file shows the loader error and the previous model keeps running', async ({ page }) => {
    await page.goto('/');
    await expect.poll(() => topLabel(page), { timeout: 60_000 }).toBe('Egyptian cat');
    await page.locator('#model-file').setInputFiles({ name: 'broken.tflite', mimeType: 'application/octet-stream', buffer: Buffer.from('definitely not a model') });
    await expect(page.locator('#message')).toContainText('broken.tflite');
    await expect(page.locator('#message')).toHaveClass(/error/);
    await expect(page.locator('#model-name')).toHaveText('mobilenet_v2_1.0_224_quant.tflite');
    const before = await page.evaluate(() => window.webcnnDemo.state.classified);
    await expect.poll(() => page.evaluate(() => window.webcnnDemo.state.classified), { timeout: 30_000 }).toBeGreaterThan(before);
    expect(await topLabel(page)).toBe('Egyptian cat');
  });

  test('recovers from device loss and keeps classifying', async ({ page }) => {
    await page.goto('/');
    await expect.poll(() => topLabel(page), { timeout: 60_000 }).toBe('Egyptian cat');
    await page.evaluate(() => window.webcnnDemo.state.device?.destroy());
    await expect(page.locator('#message')).toContainText('Recovered', { timeout: 60_000 });
    const after = await page.evaluate(() => window.webcnnDemo.state.classified);
    await expect.poll(() => page.evaluate(() => window.webcnnDemo.state.classified), { timeout: 60_000 }).toBeGreaterThan(after);
    expect(await topLabel(page)).toBe('Egyptian cat');
  });
});

