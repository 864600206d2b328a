import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { CHROMIUM_WEBGPU_ARGS } from '../playwright.config.ts';
import { SHARED_CAT, clip, hasShared, topLabel, writeDocsScreenshot } from './demo-helpers.ts';
import { SHARED_MODEL } from '../test/shared.ts';

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

/** A 24-bit BMP of one colour (RGB). */
function solidBmp(width: number, height: number, [r, g, b]: [number, number, number]): Buffer {
  const row = Math.ceil((width * 3) / 4) * 4;
  const buf = Buffer.alloc(54 + row * height);
  buf.write('BM', 0, 'ascii');
  buf.writeUInt32LE(buf.length, 2);
  buf.writeUInt32LE(54, 10);
  buf.writeUInt32LE(40, 14);
  buf.writeInt32LE(width, 18);
  buf.writeInt32LE(height, 22);
  buf.writeUInt16LE(1, 26);
  buf.writeUInt16LE(24, 28);
  buf.writeUInt32LE(row * height, 34);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) buf.set([b, g, r], 54 + y * row + x * 3);
  return buf;
}

test.describe('webcam demo with a fake camera showing the cat', () => {

  test('classifies live frames as Egyptian cat with positive FPS and latency', async ({ page }, info) => {
    // Small enough that the README's screenshot stays a small PNG (as demo-segment.spec.ts's).
    await page.setViewportSize({ width: 720, height: 540 });
    await page.goto('/');
    await expect.poll(() => topLabel(page), { timeout: 60_000 }).toBe('Egyptian cat');
    await expect.poll(async () => Number(await page.locator('#fps').textContent()), { timeout: 30_000 }).toBeGreaterThan(0);
    const latency = await page.locator('#latency').textContent();
    expect(Number.parseFloat(latency ?? '')).toBeGreaterThan(0);
    // The tiered compile says where it stands; on SwiftShader it moves to the faster kernels while frames go on.
    const kernels = page.locator('#kernels');
    await expect(kernels).not.toHaveText('–');
    await expect(kernels).toHaveText(/^(quick to compile.*|faster \(same results\)|the adapter's default)$/);
    const shot = await page.screenshot({ path: info.outputPath('demo-classify.png') });
    writeDocsScreenshot('demo-classify', shot);
  });

  test('a malformed model file shows the loader error and the previous model keeps running', async ({ page }) => {
    await page.goto('/');
    await expect.poll(() => topLabel(page), { timeout: 60_000 }).toBe('Egyptian cat');
    await page.locator('#model-file').setInputFiles({ name: 'broken.tflite', mimeType: 'application/octet-stream', buffer: Buffer.from('definitely not a model') });
    await expect(page.locator('#message')).toContainText('broken.tflite');
    await expect(page.locator('#message')).toHaveClass(/error/);
    // The loader names the file; the page does not name it a second time.
    await expect(page.locator('#message')).not.toContainText('broken.tflite: broken.tflite');
    await expect(page.locator('#model-name')).toHaveText('mobilenet_v2_1.0_224_quant.tflite');
    const before = await page.evaluate(() => window.webcnnDemo.state.processed);
    await expect.poll(() => page.evaluate(() => window.webcnnDemo.state.processed), { timeout: 30_000 }).toBeGreaterThan(before);
    expect(await topLabel(page)).toBe('Egyptian cat');
  });

  test('a still image chosen while the camera runs is classified, and the camera goes off meanwhile', async ({ page }) => {
    await page.goto('/');
    await expect.poll(() => topLabel(page), { timeout: 60_000 }).toBe('Egyptian cat');
    // The frame loop keeps the GPU busy: the still must wait for the frame in flight, not be dropped.
    // A plain blue picture: whatever MobileNetV2 makes of it, not the camera's cat.
    await page.locator('#image-file').setInputFiles({ name: 'blue.bmp', mimeType: 'image/bmp', buffer: solidBmp(32, 32, [40, 60, 200]) });
    await expect.poll(() => page.evaluate(() => window.webcnnDemo.state.source)).toBe('image');
    await expect.poll(() => topLabel(page), { timeout: 30_000 }).not.toBe('Egyptian cat');
    expect(await page.evaluate(() => window.webcnnDemo.state.stream)).toBeNull();
    // Back to the camera: it opens again and live frames are classified.
    await page.locator('input[name="source"][value="camera"]').check();
    const still = await page.evaluate(() => window.webcnnDemo.state.processed);
    await expect.poll(() => page.evaluate(() => window.webcnnDemo.state.processed), { timeout: 30_000 }).toBeGreaterThan(still + 1);
    expect(await page.evaluate(() => window.webcnnDemo.state.stream !== null)).toBe(true);
  });

  test('a labels file applies to the running model at once; one of the wrong length is refused, saying why', async ({ page }) => {
    await page.goto('/');
    await expect.poll(() => topLabel(page), { timeout: 60_000 }).toBe('Egyptian cat');
    const labels = Array.from({ length: 1001 }, (_, i) => (i === 286 ? 'Kitty' : `thing ${i}`)).join('\n');
    await page.locator('#labels-file').setInputFiles({ name: 'mine.txt', mimeType: 'text/plain', buffer: Buffer.from(labels) });
    await expect.poll(() => topLabel(page), { timeout: 60_000 }).toBe('Kitty');
    await expect(page.locator('#message')).toContainText('Labels from mine.txt applied');
    await page.locator('#labels-file').setInputFiles({ name: 'three.txt', mimeType: 'text/plain', buffer: Buffer.from('a\nb\nc\n') });
    await expect(page.locator('#message')).toContainText('three.txt has 3 labels, the model 1001 classes: not used.');
    await expect(page.locator('#message')).toHaveClass(/error/);
    expect(await topLabel(page)).toBe('Kitty');
    // The next action (here: the still-image source) clears that message.
    await page.locator('input[name="source"][value="image"]').check();
    await expect(page.locator('#message')).not.toHaveClass(/error/);
  });

  test('a model file and a labels file chosen together: the model loads and takes the labels', async ({ page }) => {
    await page.goto('/');
    await expect.poll(() => topLabel(page), { timeout: 60_000 }).toBe('Egyptian cat');
    const labels = Array.from({ length: 1001 }, (_, i) => (i === 286 ? 'Kitty' : `thing ${i}`)).join('\n');
    await Promise.all([
      page.locator('#model-file').setInputFiles({ name: 'second.tflite', mimeType: 'application/octet-stream', buffer: readFileSync(SHARED_MODEL) }),
      page.locator('#labels-file').setInputFiles({ name: 'mine.txt', mimeType: 'text/plain', buffer: Buffer.from(labels) }),
    ]);
    await expect(page.locator('#model-name')).toHaveText('second.tflite', { timeout: 60_000 });
    await expect.poll(() => topLabel(page), { timeout: 60_000 }).toBe('Kitty');
  });

  test('an image wider than the largest texture is scaled down to fit and classified', async ({ page }) => {
    await page.goto('/');
    await expect.poll(() => topLabel(page), { timeout: 60_000 }).toBe('Egyptian cat');
    const max = await page.evaluate(() => window.webcnnDemo.state.device!.limits.maxTextureDimension2D);
    await page.locator('#image-file').setInputFiles({ name: 'wide.bmp', mimeType: 'image/bmp', buffer: solidBmp(max + 500, 4, [40, 60, 200]) });
    await expect.poll(() => topLabel(page), { timeout: 30_000 }).not.toBe('Egyptian cat');
    expect(await page.evaluate(() => window.webcnnDemo.state.still!.width)).toBeLessThanOrEqual(max);
    await expect(page.locator('#message')).not.toHaveClass(/error/);
  });

  test('recovers from device loss and keeps classifying', async ({ page }) => {
    await page.goto('/');
    await expect.poll(() => topLabel(page), { timeout: 60_000 }).toBe('Egyptian cat');
    await page.evaluate(() => window.webcnnDemo.state.device?.destroy());
    await expect(page.locator('#message')).toContainText('Recovered', { timeout: 60_000 });
    const after = await page.evaluate(() => window.webcnnDemo.state.processed);
    await expect.poll(() => page.evaluate(() => window.webcnnDemo.state.processed), { timeout: 60_000 }).toBeGreaterThan(after);
    expect(await topLabel(page)).toBe('Egyptian cat');
  });
});

