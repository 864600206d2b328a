/** Shared by the demo specs: the fake-camera clip and reading the top label. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { decodeBmp } from '../src/cli/images.ts';
import { PROJECT_ROOT, SHARED_CAT, hasShared } from '../test/shared.ts';

export { PROJECT_ROOT, SHARED_CAT, hasShared };
import { rgbaToY4m } from '../test/y4m.ts';

// Chromium's fake camera plays this clip, written from the shared cat photo.
export const clip = join(PROJECT_ROOT, 'test-results', 'cat.y4m');
if (hasShared()) {
  mkdirSync(join(PROJECT_ROOT, 'test-results'), { recursive: true });
  writeFileSync(clip, rgbaToY4m(decodeBmp(readFileSync(SHARED_CAT), 'cat.bmp'), 2));
}

export async function topLabel(page: Page): Promise<string> {
  return (await page.locator('#predictions li .label').first().textContent())?.trim() ?? '';
}

