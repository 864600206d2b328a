/**
 * The webcam demo's segment mode with Chromium's fake camera playing the shared bird photo: the default
 * DeepLabV3 segments live frames, the legend names `bird` as the largest class after background, and the
 * mask is drawn over the picture on the GPU (its PASCAL VOC colour shows in a screenshot at full opacity and
 * not at zero); the task switch goes from classify to segment and back.
 */
import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import pngjs from 'pngjs';
import { CHROMIUM_WEBGPU_ARGS } from '../playwright.config.ts';
import { segmentationPalette } from '../src/runtime/palette.ts';
import { SHARED_SEGMENTER, WEBGPU_CANVAS_ARGS, birdClip, hasShared, hasSharedSegmenter, legend, mainObject, topLabel, writeDocsScreenshot } from './demo-helpers.ts';

test.use({
  launchOptions: {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      ...CHROMIUM_WEBGPU_ARGS,
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-video-capture=${birdClip}`,
      ...WEBGPU_CANVAS_ARGS,
    ],
  },
  // Small enough that the README's screenshot stays a small PNG.
  viewport: { width: 720, height: 540 },
});
test.skip(!hasShared() || !hasSharedSegmenter(), 'needs ../shared (both default models, their labels and the bird photo)');

const BIRD = 3;

/** Pixels of the picture area drawn in the bird's overlay colour (exact at opacity 1), as a fraction. */
async function birdColouredShare(page: Page): Promise<number> {
  const png = pngjs.PNG.sync.read(await page.locator('.stage').screenshot());
  const [r, g, b] = segmentationPalette(BIRD + 1).subarray(4 * BIRD, 4 * BIRD + 3);
  let hits = 0;
  for (let i = 0; i < png.width * png.height; i++) {
    const d = png.data;
    if (Math.abs(d[4 * i] - r) <= 6 && Math.abs(d[4 * i + 1] - g) <= 6 && Math.abs(d[4 * i + 2] - b) <= 6) hits++;
  }
  return hits / (png.width * png.height);
}

const processed = (page: Page) => page.evaluate(() => window.webcnnDemo.state.processed);

test.describe('webcam demo, segment mode, with a fake camera showing the bird', () => {
  test('segments live frames: bird the main class in the legend, the mask drawn on the GPU, FPS and latency shown', async ({ page }, info) => {
    await page.goto('/?task=segment');
    await expect(page.locator('#model-name')).toHaveText('deeplabv3_mnv2_pascal_quant.tflite', { timeout: 120_000 });
    await expect.poll(() => mainObject(page), { timeout: 120_000 }).toBe('bird');
    const rows = await legend(page);
    expect(rows[0][0]).toBe('background');
    // The reference mask has 51,377 bird pixels of 263,169 (19.5%).
    const bird = rows.find(([label]) => label === 'bird')![1];
    expect(bird).toBeGreaterThan(15);
    expect(bird).toBeLessThan(25);
    await expect(page.locator('#predictions')).toBeHidden();
    await expect(page.locator('#overlay')).toBeVisible();
    await expect.poll(async () => Number(await page.locator('#fps').textContent()), { timeout: 120_000 }).toBeGreaterThan(0);
    expect(Number.parseFloat((await page.locator('#latency').textContent()) ?? '')).toBeGreaterThan(0);
    const shot = await page.screenshot({ path: info.outputPath('demo-segment.png') });
    writeDocsScreenshot('demo-segment', shot);

    // Frames keep coming (one in flight, the rest dropped), and the slider redraws the mask at once.
    await page.locator('#pause').click();
    await page.locator('#opacity').fill('1');
    await expect.poll(() => birdColouredShare(page), { timeout: 30_000 }).toBeGreaterThan(0.05);
    await page.locator('#opacity').fill('0');
    await expect.poll(() => birdColouredShare(page), { timeout: 30_000 }).toBeLessThan(0.005);
    await page.locator('#pause').click();
    const before = await processed(page);
    await expect.poll(() => processed(page), { timeout: 120_000 }).toBeGreaterThan(before);
    await expect(page.locator('#message')).not.toHaveClass(/error/);
  });

  test('the task switch loads the default model of each task: classify, segment, classify; a picked segmenter switches to segment', async ({ page }) => {
    await page.goto('/');
    await expect(page.locator('#model-name')).toHaveText('mobilenet_v2_1.0_224_quant.tflite', { timeout: 60_000 });
    await expect.poll(() => topLabel(page), { timeout: 60_000 }).not.toBe('');
    await expect(page.locator('#segment-panel')).toBeHidden();
    await expect(page.locator('#overlay')).toBeHidden();

    await page.locator('input[name="task"][value="segment"]').check();
    await expect(page.locator('#predictions')).toBeHidden();
    await expect(page.locator('#model-name')).toHaveText('deeplabv3_mnv2_pascal_quant.tflite', { timeout: 120_000 });
    await expect.poll(() => mainObject(page), { timeout: 120_000 }).toBe('bird');
    await expect(page.locator('#overlay')).toBeVisible();

    await page.locator('input[name="task"][value="classify"]').check();
    await expect(page.locator('#model-name')).toHaveText('mobilenet_v2_1.0_224_quant.tflite', { timeout: 60_000 });
    await expect(page.locator('#overlay')).toBeHidden();
    await expect(page.locator('#predictions')).toBeVisible();
    const before = await processed(page);
    await expect.poll(() => processed(page), { timeout: 60_000 }).toBeGreaterThan(before);
    await expect(page.locator('#message')).not.toHaveClass(/error/);

    // A picked segmentation model sets the task its outputs say; it has no labels of its own (nor does the
    // running classifier have any of its length), so its 21 classes get PASCAL VOC's names, and the page says so.
    await page.locator('#model-file').setInputFiles({ name: 'mine.tflite', mimeType: 'application/octet-stream', buffer: readFileSync(SHARED_SEGMENTER) });
    await expect(page.locator('#model-name')).toHaveText('mine.tflite', { timeout: 120_000 });
    await expect(page.locator('input[name="task"][value="segment"]')).toBeChecked();
    await expect(page.locator('#message')).toContainText("mine.tflite has no labels: its 21 classes are named as PASCAL VOC's");
    await expect.poll(async () => (await legend(page)).map(([label]) => label).slice(0, 2), { timeout: 120_000 }).toEqual(['background', 'bird']);
  });

  test('fits a phone-sized viewport in segment mode: task switch, overlay and legend, no horizontal scrolling', async ({ page }, info) => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto('/?task=segment');
    await expect(page.locator('#model-name')).toHaveText('deeplabv3_mnv2_pascal_quant.tflite', { timeout: 120_000 });
    await expect.poll(() => mainObject(page), { timeout: 120_000 }).toBe('bird');
    await expect(page.locator('input[name="task"][value="segment"]')).toBeChecked();
    await expect(page.locator('input[name="task"][value="classify"]')).toBeVisible();
    await expect(page.locator('#overlay')).toBeVisible();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    // A second frame, so that the screenshot shows a frame rate.
    await expect.poll(async () => Number(await page.locator('#fps').textContent()), { timeout: 120_000 }).toBeGreaterThan(0);
    const shot = await page.screenshot({ path: info.outputPath('demo-phone.png'), fullPage: true });
    writeDocsScreenshot('demo-phone', shot, 'docs');
  });
});
