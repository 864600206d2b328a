import { expect, test } from '@playwright/test';

// Chromium without the WebGPU flags: on this machine (no GPU) it offers no adapter.
test.use({ launchOptions: { executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox'] } });

test('webcam demo without WebGPU: says what it needs, and no control pretends to work', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/');
  await expect(page.locator('#message')).toContainText('WebGPU is not available', { timeout: 30_000 });
  await expect(page.locator('#message')).toContainText('Chrome or Edge');
  await expect(page.locator('#video')).toBeHidden();
  for (const id of ['#model-file', '#image-file', '#labels-file', '#arch', '#default-model', '#pause']) await expect(page.locator(id)).toBeDisabled();
  expect(errors).toEqual([]);
});
