/**
 * The built pages under a strict Content-Security-Policy: no eval / new Function, no inline script or style,
 * connections only to the page's own origin. The demo and timing pages are built with Vite's `build` API
 * (the default model fetched from `/models`, set at build time with VITE_WEBCNN_MODEL_BASE) and served by a
 * small static server here that sends the policy with every response; the shared models and labels are served
 * at /models/. The demo must classify a still image (the camera is denied), segment one in segment mode (the
 * default DeepLabV3, its mask drawn through a WebGPU OffscreenCanvas) and load a user-picked ONNX model, and
 * the timing page must finish a quick run, with no policy violation reported.
 */
import { createReadStream, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { build } from 'vite';
import { CHROMIUM_WEBGPU_ARGS } from '../playwright.config.ts';
import { exportOnnx } from '../src/formats/onnx/export.ts';
import { mobilenetV2 } from '../src/models/mobilenet-v2.ts';
import { randomParams } from '../src/models/params.ts';
import { sharedPath } from '../test/shared.ts';
import { PROJECT_ROOT, SHARED_BIRD, SHARED_CAT, WEBGPU_CANVAS_ARGS, hasShared, hasSharedSegmenter, mainObject, topLabel } from './demo-helpers.ts';

export const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; " +
  "media-src 'self' blob: mediastream:; connect-src 'self'; worker-src 'self' blob:";

const MODELS: Record<string, string> = {
  'mobilenet_v2_1.0_224_quant.tflite': sharedPath('models/mobilenet_v2_1.0_224_quant.tflite'),
  'imagenet_labels.txt': sharedPath('labels/imagenet_labels.txt'),
  'deeplabv3_mnv2_pascal_quant.tflite': sharedPath('models/deeplabv3_mnv2_pascal_quant.tflite'),
  'pascal_voc_segmentation_labels.txt': sharedPath('labels/pascal_voc_segmentation_labels.txt'),
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
};

test.use({
  launchOptions: {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [...CHROMIUM_WEBGPU_ARGS, ...WEBGPU_CANVAS_ARGS, '--use-fake-device-for-media-stream'],
  },
  permissions: [],
});
test.skip(!hasShared(), 'needs ../shared (the default model and cat.bmp)');

let outDir = '';
let server: Server | undefined;
let origin = '';

/** Serves `outDir` and /models/ with the policy on every response; nothing outside those folders. */
function serve(root: string): Promise<Server> {
  const s = createServer((req, res) => {
    res.setHeader('Content-Security-Policy', CSP);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    let file: string | undefined;
    if (path.startsWith('/models/')) file = MODELS[path.slice('/models/'.length)];
    else {
      const candidate = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
      if (candidate.startsWith(root + sep) && existsSync(candidate) && statSync(candidate).isFile()) file = candidate;
    }
    if (!file || !existsSync(file)) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Content-Length': String(statSync(file).size) });
    createReadStream(file).pipe(res);
  });
  return new Promise((done) => s.listen(0, '127.0.0.1', () => done(s)));
}

test.beforeAll(async () => {
  test.setTimeout(180_000);
  outDir = mkdtempSync(join(tmpdir(), 'webcnn-csp-'));
  const previous = process.env.VITE_WEBCNN_MODEL_BASE;
  process.env.VITE_WEBCNN_MODEL_BASE = '/models';
  try {
    await build({ root: PROJECT_ROOT, configFile: resolve(PROJECT_ROOT, 'vite.config.ts'), logLevel: 'warn', build: { outDir, emptyOutDir: true } });
  } finally {
    if (previous === undefined) delete process.env.VITE_WEBCNN_MODEL_BASE;
    else process.env.VITE_WEBCNN_MODEL_BASE = previous;
  }
  server = await serve(resolve(outDir));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

test.afterAll(async () => {
  await new Promise<void>((done) => (server ? server.close(() => done()) : done()));
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

/** Records violations two ways: the DOM event (init script) and Chromium's console report. */
async function watchViolations(page: Page): Promise<() => Promise<string[]>> {
  const reported: string[] = [];
  page.on('console', (m) => {
    if (/Content[- ]Security[- ]Policy/i.test(m.text())) reported.push(`console: ${m.text()}`);
    else if (m.type() === 'error') console.log(`[page] ${m.text()}`);
  });
  page.on('pageerror', (e) => reported.push(`page error: ${e.message}`));
  await page.addInitScript(() => {
    const list: string[] = [];
    (window as unknown as { cspViolations: string[] }).cspViolations = list;
    document.addEventListener('securitypolicyviolation', (e) => list.push(`${e.violatedDirective}: ${e.blockedURI} (${e.sourceFile}:${e.lineNumber})`));
  });
  return async () => [...reported, ...(await page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations))];
}

test('the built pages send the policy, and it is strict', async ({ request }) => {
  for (const path of ['/', '/demo/timing.html']) {
    const r = await request.get(`${origin}${path}`);
    expect(r.status()).toBe(200);
    expect(r.headers()['content-security-policy']).toBe(CSP);
    const html = await r.text();
    // Every script is an external module; no inline script or style, no event-handler attributes.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
  }
  expect(CSP).not.toMatch(/unsafe-eval|unsafe-inline|wasm-unsafe-eval/);
});

test('demo: classifies a still image under the policy, camera denied', async ({ page }) => {
  test.setTimeout(180_000);
  const violations = await watchViolations(page);
  await page.goto(`${origin}/`);
  await expect(page.locator('#source-message')).toContainText(/permission was denied|No camera/i, { timeout: 30_000 });
  // The default model came from /models (same origin) and passed its checksum.
  await expect(page.locator('#model-name')).toHaveText('mobilenet_v2_1.0_224_quant.tflite', { timeout: 90_000 });
  await page.locator('#image-file').setInputFiles(SHARED_CAT);
  await expect.poll(() => topLabel(page), { timeout: 90_000 }).toBe('Egyptian cat');
  // A user-picked ONNX model decodes without eval too (protobufjs's generated decoders would need it).
  const onnx = join(outDir, 'tiny.onnx');
  writeFileSync(onnx, exportOnnx(mobilenetV2({ inputSize: 32, widthMultiplier: 0.35, numClasses: 10, params: randomParams(1) })));
  await page.locator('#model-file').setInputFiles(onnx);
  await expect(page.locator('#model-name')).toHaveText('tiny.onnx', { timeout: 60_000 });
  await expect(page.locator('#message')).not.toHaveClass(/error/);
  await expect.poll(() => topLabel(page), { timeout: 60_000 }).toMatch(/^class \d$/);
  expect(await violations()).toEqual([]);
});

test('demo: segment mode under the policy, camera denied: the default DeepLabV3 finds the bird in a still image', async ({ page }) => {
  test.skip(!hasSharedSegmenter(), 'needs the shared DeepLabV3, its labels and the bird photo');
  test.setTimeout(240_000);
  const violations = await watchViolations(page);
  await page.goto(`${origin}/?task=segment`);
  await expect(page.locator('#source-message')).toContainText(/permission was denied|No camera/i, { timeout: 30_000 });
  // Same origin, and both files passed their checksums (a build checks them).
  await expect(page.locator('#model-name')).toHaveText('deeplabv3_mnv2_pascal_quant.tflite', { timeout: 120_000 });
  await page.locator('#image-file').setInputFiles(SHARED_BIRD);
  await expect.poll(() => mainObject(page), { timeout: 120_000 }).toBe('bird');
  await expect(page.locator('#overlay')).toBeVisible();
  await expect(page.locator('#message')).not.toHaveClass(/error/);
  expect(await violations()).toEqual([]);
});

test('timing page: a quick run finishes under the policy', async ({ page }) => {
  test.setTimeout(240_000);
  const violations = await watchViolations(page);
  await page.goto(`${origin}/demo/timing.html?autorun=1&quick=1&networks=mobilenet_v2`);
  await page.waitForFunction(() => window.timingDone === true, undefined, { timeout: 220_000, polling: 500 });
  expect(await page.evaluate(() => window.timingError)).toBeUndefined();
  const rows = await page.evaluate(() => window.timingResults?.length ?? 0);
  expect(rows).toBeGreaterThan(10);
  // Chart.js drew both charts without eval or inline styles.
  expect(await page.evaluate(() => window.timingCharts?.length ?? 0)).toBe(2);
  expect(await violations()).toEqual([]);
});
