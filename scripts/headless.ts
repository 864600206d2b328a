/**
 * What the browser benchmarks (`scripts/bench.ts`, `scripts/bench-peers.ts`) share: a free local port for their
 * own Vite server, and Debian's Chromium launched with the test suite's WebGPU flags plus developer features
 * (unquantized timestamps).
 */
import { createServer as createNetServer } from 'node:net';
import type { Browser } from '@playwright/test';

export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createNetServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => ok(port));
    });
  });
}

export async function launchWebgpuChromium(headed: boolean): Promise<Browser> {
  const { chromium } = await import('@playwright/test');
  const { CHROMIUM_WEBGPU_ARGS } = await import('../playwright.config.ts');
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [...CHROMIUM_WEBGPU_ARGS, '--enable-webgpu-developer-features'],
    headless: !headed,
  });
}
