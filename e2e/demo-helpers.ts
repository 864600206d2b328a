/** Shared by the demo specs: the fake-camera clips and reading the top label and the legend. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import pngjs from 'pngjs';
import { decodeBmp } from '../src/cli/images.ts';
import { PROJECT_ROOT, SHARED_CAT, hasShared, sharedPath } from '../test/shared.ts';

export { PROJECT_ROOT, SHARED_CAT, hasShared };
import { rgbaToY4m } from '../test/y4m.ts';

// Chromium's fake camera plays this clip, written from the shared cat photo.
export const clip = join(PROJECT_ROOT, 'test-results', 'cat.y4m');
if (hasShared()) {
  mkdirSync(join(PROJECT_ROOT, 'test-results'), { recursive: true });
  writeFileSync(clip, rgbaToY4m(decodeBmp(readFileSync(SHARED_CAT), 'cat.bmp'), 2));
}

/**
 * Chromium flags for pages that show WebGPU drawing (segment mode's overlay): on SwiftShader, headless Chromium
 * composites a canvas's WebGPU frames only with ANGLE on SwiftShader too.
 */
export const WEBGPU_CANVAS_ARGS = process.env.WEBCNN_GPU === 'hardware' ? [] : ['--use-angle=swiftshader'];

/** The shared bird photo and its clip, for segment mode's fake camera (written when the photo is here). */
export const SHARED_BIRD = sharedPath('images/bird_segmentation.bmp');
export const birdClip = join(PROJECT_ROOT, 'test-results', 'bird.y4m');
export const SHARED_SEGMENTER = sharedPath('models/deeplabv3_mnv2_pascal_quant.tflite');
export const hasSharedSegmenter = (): boolean =>
  [SHARED_BIRD, SHARED_SEGMENTER, sharedPath('labels/pascal_voc_segmentation_labels.txt')].every((p) => existsSync(p));
if (hasSharedSegmenter()) {
  mkdirSync(join(PROJECT_ROOT, 'test-results'), { recursive: true });
  writeFileSync(birdClip, rgbaToY4m(decodeBmp(readFileSync(SHARED_BIRD), 'bird_segmentation.bmp'), 2));
}

/** Segment mode's legend, largest class first: [label, share in %]. */
export async function legend(page: Page): Promise<[string, number][]> {
  const rows = await page.locator('#legend li').evaluateAll((lis) =>
    lis.map((li) => [li.querySelector('.label')?.textContent ?? '', li.querySelector('.share')?.textContent ?? ''] as const),
  );
  return rows.map(([label, share]) => [label.trim(), Number.parseFloat(share)]);
}

/** The largest class in the legend other than background ('' when none). */
export async function mainObject(page: Page): Promise<string> {
  return (await legend(page)).find(([label]) => label !== 'background')?.[0] ?? '';
}

export async function topLabel(page: Page): Promise<string> {
  return (await page.locator('#predictions li .label').first().textContent())?.trim() ?? '';
}


/** Largest screenshot written into docs/images/ (the README shows them). */
const DOCS_IMAGE_LIMIT = 200_000;

/**
 * Writes a screenshot to docs/images/NAME.png (or docs/NAME.png with `folder` 'docs') with UPDATE_SCREENSHOTS=1,
 * its channels cut to 6 bits (the photo in it then compresses to about 60%, with no visible change) and checked
 * against the size limit.
 */
export function writeDocsScreenshot(name: string, shot: Buffer, folder: 'docs/images' | 'docs' = 'docs/images'): void {
  if (process.env.UPDATE_SCREENSHOTS !== '1') return;
  const png = pngjs.PNG.sync.read(shot);
  // 6 bits, the top 2 repeated below them: 0 stays 0 and 255 stays 255.
  for (let i = 0; i < png.data.length; i++) png.data[i] = (png.data[i] & 0xfc) | (png.data[i] >> 6);
  const bytes = pngjs.PNG.sync.write(png, { colorType: 2, deflateLevel: 9 });
  if (bytes.length > DOCS_IMAGE_LIMIT) throw new Error(`${name}.png is ${bytes.length} bytes, over the ${DOCS_IMAGE_LIMIT}-byte limit for ${folder}/`);
  mkdirSync(join(PROJECT_ROOT, folder), { recursive: true });
  writeFileSync(join(PROJECT_ROOT, folder, `${name}.png`), bytes);
}
