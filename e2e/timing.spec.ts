/**
 * The timing page end to end: `?autorun=1&quick=1` times every step of MobileNetV2 and ResNet-50 on the
 * current adapter and renders the table and charts. Saves a screenshot as a test artifact, and to
 * docs/timing.png (for the README) with UPDATE_SCREENSHOTS=1.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { CHROMIUM_WEBGPU_ARGS } from '../playwright.config.ts';
import type { TimingRow } from '../src/bench/figures.ts';
import { NO_MODEL_FILES, NETWORKS, defaultNetworkIds } from '../src/bench/networks.ts';
import { DEFAULT_KERNEL_CHOICE, optimizeForKernels } from '../src/runtime/kernel-choice.ts';
import { lowerGraph } from '../src/runtime/lowering.ts';

/** Kernel kinds the issue asks for one row each: convolutions, pools and the FC layer. */
const LAYER_KINDS = new Set(['pointwise', 'depthwise', 'conv2d', 'pool', 'linear']);

test.use({
  viewport: { width: 1400, height: 1150 },
  launchOptions: {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    // Without developer features Chrome quantizes timestamps to 100 µs, under which the smallest kernels vanish.
    args: [...CHROMIUM_WEBGPU_ARGS, '--enable-webgpu-developer-features'],
  },
});

test('timing page: every layer of MobileNetV2 and ResNet-50 timed, table and charts rendered', async ({ page }) => {
  test.setTimeout(240_000);
  page.on('console', (m) => {
    if (m.type() === 'error') console.log(`[page] ${m.text()}`);
  });
  const t0 = Date.now();
  await page.goto('/demo/timing.html?autorun=1&quick=1');
  await page.waitForFunction(() => window.timingDone === true, undefined, { timeout: 230_000, polling: 250 });
  const pageMs = await page.evaluate(() => performance.now());
  console.log(`page load to done: ${((Date.now() - t0) / 1000).toFixed(1)} s (${(pageMs / 1000).toFixed(1)} s since this document's navigation)`);
  expect(await page.evaluate(() => window.timingError)).toBeUndefined();

  const suite = await page.evaluate(() => {
    const s = window.timingSuite!;
    return { timer: s.timer, resolution: s.timerResolutionMs, peaks: s.peaks, networks: s.networks, adapter: s.adapter, durationMs: s.durationMs };
  });
  const rows: TimingRow[] = await page.evaluate(() => window.timingResults!);
  console.log(
    `${suite.adapter.vendor} ${suite.adapter.architecture}: timer ${suite.timer} (resolution ${(suite.resolution * 1000).toFixed(3)} µs), ` +
      `peaks ${suite.peaks?.gflops.toFixed(2)} GFLOP/s, ${suite.peaks?.gbps.toFixed(2)} GB/s; ` +
      suite.networks.map((n) => `${n.title} ${n.inferenceMs.toFixed(1)} ms`).join(', ') +
      `; suite ${(suite.durationMs / 1000).toFixed(1)} s`,
  );

  for (const row of rows) {
    expect(Number.isFinite(row.medianMs) && row.medianMs > 0, `${row.network} ${row.layer}: median ${row.medianMs}`).toBe(true);
    expect(row.minMs).toBeLessThanOrEqual(row.medianMs);
    expect(row.maxMs).toBeGreaterThanOrEqual(row.medianMs);
    expect(['timestamp', 'wall']).toContain(row.timer);
    if (row.macs > 0) expect(row.gflops).toBeGreaterThan(0);
  }
  expect(suite.timer).toBe('timestamp');
  expect(suite.resolution).toBeGreaterThan(0);
  expect(suite.peaks!.gflops).toBeGreaterThan(0);
  expect(suite.peaks!.gbps).toBeGreaterThan(0);

  // A quick run's default: the classifiers (DeepLabV3 is opt-in there; timing-deeplab.spec.ts times it).
  for (const id of defaultNetworkIds(true)) {
    // As compile does with the software default (this suite runs on SwiftShader), which keeps pool + FC apart.
    const steps = lowerGraph(optimizeForKernels(await NETWORKS[id].build(NO_MODEL_FILES), DEFAULT_KERNEL_CHOICE));
    const mine = rows.filter((r) => r.network === id);
    const layers = mine.filter((r) => LAYER_KINDS.has(r.kernel));
    expect(layers.map((r) => r.layer), id).toEqual(steps.filter((s) => LAYER_KINDS.has(s.kind)).map((s) => s.label));
    expect(mine.filter((r) => r.index >= 0)).toHaveLength(steps.length);
    expect(mine.filter((r) => r.kernel === 'network')).toHaveLength(1);
  }
  // Roofline efficiency at the chart's roofs, per network and per kernel family, and bytes moved beside FLOPs.
  for (const n of suite.networks) {
    const r = n.roofline!;
    console.log(`${n.title}: roofline efficiency ${r.efficiency.toFixed(2)}; ${(n.flops / 1e9).toFixed(2)} GFLOP, ${(n.bytesMoved.bytes / 2 ** 20).toFixed(1)} MiB moved`);
    expect(r.efficiency, n.title).toBeGreaterThan(0);
    expect(Number.isFinite(r.roofMs) && r.roofMs <= r.measuredMs * 1.5, n.title).toBe(true);
    expect(Object.keys(r.byKernel), n.title).toContain('pointwise');
    expect(r.computeBound + r.bandwidthBound).toBe(n.dispatches);
    expect(n.bytesMoved.bytes).toBe(n.bytesMoved.activationBytes + n.bytesMoved.weightBytes);
    expect(n.bytesMoved.weightBytes).toBe(n.weightBytes);
    expect(n.flops).toBe(2 * n.macs);
  }
  for (const row of rows) if (row.index >= 0) expect(['compute', 'bandwidth'], `${row.network} ${row.layer}`).toContain(row.bound);
  await expect(page.locator('#summary')).toContainText('roofline efficiency');
  const kinds = new Set(rows.map((r) => r.kernel));
  for (const k of ['pointwise', 'depthwise', 'conv2d', 'pool', 'linear']) expect(kinds, k).toContain(k);

  // Charts: the canvases have a size and Chart.js holds their datasets.
  for (const id of ['roofline', 'breakdown']) {
    const box = await page.locator(`canvas#${id}`).boundingBox();
    expect(box && box.width > 100 && box.height > 100, `canvas ${id} size`).toBe(true);
  }
  const charts = await page.evaluate(() =>
    window.timingCharts!.map((c) => ({
      canvas: c.canvas.id,
      datasets: c.data.datasets.length,
      points: c.data.datasets.reduce((s, d) => s + d.data.length, 0),
      width: c.width,
      height: c.height,
    })),
  );
  expect(charts.map((c) => c.canvas)).toEqual(['roofline', 'breakdown']);
  for (const c of charts) {
    expect(c.datasets, c.canvas).toBeGreaterThan(1);
    expect(c.points, c.canvas).toBeGreaterThan(1);
    expect(c.width * c.height, c.canvas).toBeGreaterThan(0);
  }
  // The table shows every row; a click on "median ms" sorts it slowest first.
  await expect(page.locator('#rows tbody tr')).toHaveCount(rows.length);
  await page.locator('#rows th', { hasText: 'median ms' }).click();
  await expect(page.locator('#rows th', { hasText: 'median ms' })).toHaveAttribute('aria-sort', 'descending');
  const slowest = rows.reduce((a, b) => (b.medianMs > a.medianMs ? b : a));
  await expect(page.locator('#rows tbody tr').first().locator('td').nth(2)).toHaveText(slowest.layer);

  // Download JSON hands over the whole result.
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#download').click()]);
  expect(download.suggestedFilename()).toMatch(/^timing-.*\.json$/);
  const saved = JSON.parse(readFileSync(await download.path(), 'utf8')) as { rows: TimingRow[] };
  expect(saved.rows).toHaveLength(rows.length);

  const t1 = Date.now();
  await page.screenshot({ path: test.info().outputPath('timing.png'), fullPage: true });
  console.log(`checks and screenshot: ${((Date.now() - t1) / 1000).toFixed(1)} s`);
  if (process.env.UPDATE_SCREENSHOTS === '1') {
    mkdirSync('docs', { recursive: true });
    await page.screenshot({ path: 'docs/timing.png' });
  }
});
