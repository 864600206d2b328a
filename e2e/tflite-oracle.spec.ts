/**
 * TFLite's own interpreter as the oracle for webcnn's TFLite frontend, in headless Chromium
 * (`e2e/tflite-oracle.html`, a test page): the small models of `test/tflite-oracle-cases.ts` (CONCATENATION,
 * LOGISTIC, HARD_SWISH, MUL, RESIZE_BILINEAR in its three coordinate conventions, ARG_MAX, MEAN; float32 and
 * uint8) through `@tensorflow/tfjs-tflite` and through webcnn on the GPU; the shared MobileNetV2 quant through
 * `@mediapipe/tasks-vision`'s ImageClassifier against webcnn's classifier on the cat photo; the shared DeepLabV3
 * through MediaPipe's ImageSegmenter where MediaPipe can run it.
 */
import { existsSync } from 'node:fs';
import { test as base, expect, type Page } from '@playwright/test';
import { TFLITE_ORACLE_CASE_NAMES } from '../test/tflite-oracle-cases.ts';
import { SHARED_CAT, SHARED_MODEL, sharedPath } from '../test/shared.ts';

/** Shared files the page fetches, served by the test itself (the dev server serves only the demo's model). */
const FILES: Record<string, string> = {
  'mobilenet_v2_1.0_224_quant.tflite': SHARED_MODEL,
  'cat.bmp': SHARED_CAT,
  'deeplabv3_mnv2_pascal_quant.tflite': sharedPath('models/deeplabv3_mnv2_pascal_quant.tflite'),
  'bird_segmentation.bmp': sharedPath('images/bird_segmentation.bmp'),
  'bird_segmentation_mask.bmp': sharedPath('images/bird_segmentation_mask.bmp'),
};
const has = (...names: string[]) => names.every((n) => existsSync(FILES[n]));

/** One oracle page for the file: both WASM runtimes and the WebGPU device load once. */
const test = base.extend<object, { oraclePage: Page }>({
  oraclePage: [
    async ({ browser }, use) => {
      const page = await browser.newPage();
      page.on('console', (m) => {
        if (m.type() === 'error') console.log(`[page] ${m.text()}`);
      });
      await page.route('**/oracle-files/*', (route) => {
        const name = decodeURIComponent(new URL(route.request().url()).pathname.split('/').pop()!);
        return FILES[name] && existsSync(FILES[name]) ? route.fulfill({ path: FILES[name] }) : route.fulfill({ status: 404 });
      });
      await page.goto('/e2e/tflite-oracle.html');
      await expect(page.locator('#status')).toHaveText('ready', { timeout: 60_000 });
      await use(page);
      await page.close();
    },
    { scope: 'worker' },
  ],
});

/**
 * `page.evaluate` that survives one reload: with a cold dependency cache Vite optimizes the two WASM packages on
 * first load and reloads the page; the call then waits for the page again and retries.
 */
async function call<R>(page: Page, evaluate: () => Promise<R>): Promise<R> {
  try {
    return await evaluate();
  } catch (e) {
    if (!/context was destroyed|navigat|reading 'runCase'|reading 'classify'|reading 'segment'/i.test((e as Error).message)) throw e;
    console.log(`page reloaded (${(e as Error).message.split('\n')[0]}); calling again`);
    await expect(page.locator('#status')).toHaveText('ready', { timeout: 60_000 });
    return evaluate();
  }
}

test.describe('TFLite ops against TFLite itself (tfjs-tflite)', () => {
  for (const name of TFLITE_ORACLE_CASE_NAMES) {
    test(name, async ({ oraclePage }) => {
      const r = await call(oraclePage, () => oraclePage.evaluate((n) => window.tfliteOracle.runCase(n), name));
      for (const o of r.outputs) {
        const what = `${name}: ${o.name} [${o.shape}]`;
        console.log(`${what}: max |diff| ${o.maxDiff.toExponential(2)} (tolerance ${o.tolerance.toExponential(2)}, max |ref| ${o.maxRef.toFixed(3)})`);
        expect(o.maxRef, `${what}: a non-trivial reference`).toBeGreaterThan(0);
        expect(o.indexMismatches, `${what}: indices`).toBe(0);
        expect(o.maxDiff, what).toBeLessThanOrEqual(o.tolerance);
      }
    });
  }
});

test.describe('shared models against MediaPipe Tasks and TFLite', () => {
  test('MobileNetV2 quant on cat.bmp: the same top-1 as MediaPipe ImageClassifier, scores within 0.05', async ({ oraclePage }) => {
    test.skip(!has('mobilenet_v2_1.0_224_quant.tflite', 'cat.bmp'), 'needs ../shared (model, cat.bmp)');
    const r = await call(oraclePage, () =>
      oraclePage.evaluate(() => window.tfliteOracle.classify('/oracle-files/mobilenet_v2_1.0_224_quant.tflite', '/oracle-files/cat.bmp')),
    );
    const fmt = (top: { index: number; score: number }[]) => top.map((t) => `${t.index} ${t.score.toFixed(4)}`).join(', ');
    console.log(`webcnn:    ${fmt(r.webcnn)}\nmediapipe: ${fmt(r.mediapipe)}`);
    expect(r.webcnn[0].index).toBe(286);
    expect(r.mediapipe[0].index).toBe(r.webcnn[0].index);
    expect(Math.abs(r.mediapipe[0].score - r.webcnn[0].score)).toBeLessThan(0.05);
  });

  // MediaPipe's ImageSegmenter refuses this model ("Unsupported output tensor type: INT64": its ARG_MAX output),
  // and tfjs-tflite hands back no int64 data: TFLite runs a copy whose ARG_MAX writes int32
  // (test/helpers/tflite-patch.ts), and MediaPipe's class map is compared whenever MediaPipe produces one.
  test('DeepLabV3 on the bird photo: webcnn against TFLite (tfjs-tflite) and MediaPipe ImageSegmenter', async ({ oraclePage }) => {
    test.skip(!has('deeplabv3_mnv2_pascal_quant.tflite', 'bird_segmentation.bmp', 'bird_segmentation_mask.bmp'), 'needs ../shared (DeepLabV3, bird images)');
    const r = await call(oraclePage, () =>
      oraclePage.evaluate(() =>
        window.tfliteOracle.segment('/oracle-files/deeplabv3_mnv2_pascal_quant.tflite', '/oracle-files/bird_segmentation.bmp', '/oracle-files/bird_segmentation_mask.bmp'),
      ),
    );
    console.log(
      `DeepLabV3: webcnn IoU vs the reference mask ${r.webcnnIou.toFixed(4)}; agreement with TFLite ${(100 * r.tfliteAgreement).toFixed(2)}%; ` +
        `MediaPipe ${r.error ? `refused: ${r.error}` : `agreement ${(100 * r.agreement!).toFixed(2)}%`}`,
    );
    expect(r.webcnnIou).toBeGreaterThan(0.9);
    expect(r.tfliteAgreement).toBeGreaterThan(0.98);
    if (r.agreement !== undefined) expect(r.agreement).toBeGreaterThan(0.98);
  });
});
