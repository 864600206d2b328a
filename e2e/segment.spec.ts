import { existsSync, readFileSync } from 'node:fs';
import { sharedPath } from '../test/shared.ts';
import { expect, test } from './fixtures.ts';

const BIRD = sharedPath('images/bird_segmentation.bmp');

test.describe('segment API in the browser (a tiny score-map model)', () => {
  test.skip(!existsSync(BIRD), 'needs ../shared/images/bird_segmentation.bmp');

  test('every image source type gives the RGBA pixels mask', async ({ harnessPage }) => {
    const bird = readFileSync(BIRD).toString('base64');
    const r = await harnessPage.evaluate(([image]) => window.webcnnSegmentHarness.sources(image, 'image/bmp'), [bird] as const);
    console.log(`segment sources: ${JSON.stringify(r)}`);
    expect(r.size).toEqual([513, 513]);
    expect(r.classes).toBeGreaterThan(1);
    expect(Object.keys(r.agreement)).toHaveLength(5);
    // A video frame may be converted through another colour path: near-ties may flip.
    for (const [source, share] of Object.entries(r.agreement)) expect(share, source).toBeGreaterThan(0.99);
  });

  test('segmentToGpu + MaskOverlay draw the mask into a texture of the canvas format in its class colours', async ({ harnessPage }) => {
    const bird = readFileSync(BIRD).toString('base64');
    const r = await harnessPage.evaluate(([image]) => window.webcnnSegmentHarness.overlay(image, 'image/bmp'), [bird] as const);
    console.log(`overlay: ${JSON.stringify(r)}`);
    expect(r.pixels).toBe(513 * 513);
    expect(r.opaque).toBeGreaterThan(0);
    expect(r.differ).toBe(0);
  });
});
