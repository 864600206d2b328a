/**
 * DeepLabV3 on the timing page: named in a quick run with the smallest run count (`repeats=1&warmups=0`: one
 * whole inference and one per-kernel batch; seconds each on SwiftShader), it gets a row per kernel like the
 * classifiers, a whole-network row, FLOPs, bytes moved and roofline efficiency. Reads the shared TFLite the Vite
 * server serves (skips without it).
 */
import { existsSync, readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { CHROMIUM_WEBGPU_ARGS } from '../playwright.config.ts';
import type { TimingRow } from '../src/bench/figures.ts';
import { DEEPLABV3_FILE, NETWORKS } from '../src/bench/networks.ts';
import { DEFAULT_KERNEL_CHOICE, optimizeForKernels } from '../src/runtime/kernel-choice.ts';
import { lowerGraph } from '../src/runtime/lowering.ts';
import { sharedPath } from '../test/shared.ts';

const MODEL = sharedPath('models', DEEPLABV3_FILE);

test.use({
  viewport: { width: 1400, height: 1150 },
  launchOptions: {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [...CHROMIUM_WEBGPU_ARGS, '--enable-webgpu-developer-features'],
  },
});

test.skip(!existsSync(MODEL), `${MODEL} is missing (set WEBCNN_SHARED)`);

test('timing page: DeepLabV3 named in a quick run with one run per figure, a row per kernel and its roofline', async ({ page }) => {
  test.setTimeout(240_000);
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/demo/timing.html?autorun=1&quick=1&networks=deeplabv3&repeats=1&warmups=0');
  await page.waitForFunction(() => window.timingDone === true, undefined, { timeout: 230_000, polling: 250 });
  expect(await page.evaluate(() => window.timingError)).toBeUndefined();
  expect(errors).toEqual([]);

  const suite = await page.evaluate(() => {
    const s = window.timingSuite!;
    return { settings: s.settings, networks: s.networks, durationMs: s.durationMs };
  });
  const rows: TimingRow[] = await page.evaluate(() => window.timingResults!);
  expect(suite.settings.repeats).toBe(1);
  expect(suite.settings.warmups).toBe(0);
  expect(suite.networks.map((n) => n.network)).toEqual(['deeplabv3']);
  const n = suite.networks[0];
  console.log(
    `${n.title}: ${n.inferenceMs.toFixed(0)} ms per inference, ${n.dispatches} dispatches, ${(n.flops / 1e9).toFixed(2)} GFLOP, ` +
      `${(n.bytesMoved.bytes / 2 ** 20).toFixed(1)} MiB moved, roofline efficiency ${n.roofline!.efficiency.toFixed(2)}; suite ${(suite.durationMs / 1000).toFixed(1)} s`,
  );

  // One row per step of the compiled graph, in order, as for the classifiers, and one for the whole network.
  const graph = await NETWORKS.deeplabv3.build(async (name) => new Uint8Array(readFileSync(sharedPath('models', name))));
  const steps = lowerGraph(optimizeForKernels(graph, DEFAULT_KERNEL_CHOICE));
  const stepRows = rows.filter((r) => r.network === 'deeplabv3' && r.index >= 0);
  expect(stepRows.map((r) => r.layer)).toEqual(steps.map((s) => s.label));
  expect(rows.filter((r) => r.network === 'deeplabv3' && r.kernel === 'network')).toHaveLength(1);
  for (const row of stepRows) {
    expect(Number.isFinite(row.medianMs) && row.medianMs > 0, `${row.layer}: median ${row.medianMs}`).toBe(true);
    expect(row.medianMs).toBe(row.minMs); // one sample
    expect(['compute', 'bandwidth'], row.layer).toContain(row.bound);
  }
  const kinds = new Set(stepRows.map((r) => r.kernel));
  for (const k of ['pointwise', 'depthwise', 'resize', 'argmax']) expect(kinds, k).toContain(k);

  expect(n.flops).toBe(2 * n.macs);
  expect(n.flops).toBeGreaterThan(1e9);
  expect(n.bytesMoved.bytes).toBe(n.bytesMoved.activationBytes + n.bytesMoved.weightBytes);
  expect(n.roofline!.efficiency).toBeGreaterThan(0);
  expect(n.roofline!.computeBound + n.roofline!.bandwidthBound).toBe(n.dispatches);
  await expect(page.locator('#summary .card h3')).toHaveText([n.title]);
  await expect(page.locator('#summary')).toContainText('roofline efficiency');
  await expect(page.locator('#note')).toContainText('Quick run: 1 timed run per figure');
  await expect(page.locator('#rows tbody tr')).toHaveCount(rows.length);
});
