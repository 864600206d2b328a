/**
 * The peer benchmark page (`bench/peers.html`, what `npm run bench:peers` drives) on a tiny configuration:
 * MobileNetV2 at width 0.35 and input 96, one warm-up and one round of every engine (webcnn, ONNX Runtime Web
 * JSEP and native WebGPU, TF.js WebGPU and WASM). Each must produce finite timings, and logits that agree with
 * webcnn's within 1e-3 relative (max |diff| <= 1e-3 * max |webcnn logit| + 1e-4).
 */
import { expect, test } from '@playwright/test';
import { CHROMIUM_WEBGPU_ARGS } from '../playwright.config.ts';
import type { NetworkRequest } from '../bench/peers/protocol.ts';
import { ENGINE_IDS, logitsAgree } from '../bench/peers/protocol.ts';

test.use({
  launchOptions: {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [...CHROMIUM_WEBGPU_ARGS, '--enable-webgpu-developer-features'],
  },
});

const TINY: NetworkRequest = { network: 'mobilenetv2', widthMultiplier: 0.35, inputSize: 96, warmups: 1, rounds: 1 };

test('peer benchmark: every engine runs a tiny MobileNetV2, timed, with the logits webcnn computes', async ({ page }) => {
  test.setTimeout(150_000);
  page.on('console', (m) => {
    if (m.type() === 'error') console.log(`[page] ${m.text()}`);
  });
  const t0 = Date.now();
  await page.goto('/bench/peers.html');
  // One page, set-up (prepare + first inference) as the start-up figure: fresh pages per engine are the
  // script's job and would double the time. With a cold dependency cache Vite optimizes onnxruntime-web and
  // TF.js on first load and reloads the page once: start again after such a reload.
  const run = async () => {
    await page.waitForFunction(() => window.peersReady === true, undefined, { timeout: 60_000 });
    return page.evaluate((request) => window.runPeers!({ phase: 'warm', networks: [request] }), TINY);
  };
  const result = await run().catch((e: Error) => {
    if (!/context was destroyed|navigation/i.test(e.message)) throw e;
    console.log(`page reloaded (${e.message.split('\n')[0]}); running again`);
    return run();
  });
  console.log(`peers page: ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  expect(result.adapter, 'adapter described').not.toBeNull();
  expect(result.versions['onnxruntime-web']).toMatch(/^\d+\.\d+/);
  expect(result.networks).toHaveLength(1);
  const n = result.networks[0];
  expect(n.title).toBe('MobileNetV2 0.35 96');
  expect(n.engines.map((e) => e.engine)).toEqual([...ENGINE_IDS]);
  for (const e of n.engines) {
    const what = `${e.label}${e.error ? `: ${e.error}` : ''}`;
    console.log(
      `${e.label}: ${e.medianMs.toFixed(1)} ms, set-up ${e.setup?.totalMs.toFixed(0)} ms, ` +
        `max |logit diff| ${e.logits?.maxAbsDiff.toExponential(2)} (of max |logit| ${e.logits?.refMaxAbs.toFixed(3)})`,
    );
    expect(e.error, what).toBeUndefined();
    expect(e.timesMs, what).toHaveLength(TINY.rounds);
    for (const v of [e.medianMs, e.minMs, e.maxMs, e.setup!.totalMs, e.setup!.prepareMs, e.setup!.firstRunMs]) {
      expect(Number.isFinite(v) && v > 0, `${what}: timing ${v}`).toBe(true);
    }
    expect(e.logits, what).toBeDefined();
    expect(e.logits!.refMaxAbs, what).toBeGreaterThan(0);
    expect(logitsAgree(e.logits!), `${what}: max |diff| ${e.logits!.maxAbsDiff} vs max |logit| ${e.logits!.refMaxAbs}`).toBe(true);
  }
  expect(n.engines.find((e) => e.engine === 'webcnn')!.logits!.maxAbsDiff).toBe(0);
});
