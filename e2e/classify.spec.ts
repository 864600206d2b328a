import { readFileSync } from 'node:fs';
import { SHARED_CAT, hasShared } from '../test/shared.ts';
import { expect, test } from './fixtures.ts';

test.describe('classify API in the browser (shared MobileNetV2 quant TFLite)', () => {
  test.skip(!hasShared(), 'needs ../shared (model, labels, cat.bmp)');

  test('cat.bmp: Egyptian cat (286) in the top 3 with score >= 0.7, from every image source type', async ({ harnessPage }) => {
    const cat = readFileSync(SHARED_CAT).toString('base64');
    const results = await harnessPage.evaluate(
      ([image]) => window.webcnnHarness.classify('/models/mobilenet_v2_1.0_224_quant.tflite', '/models/imagenet_labels.txt', image, 'image/bmp'),
      [cat] as const,
    );
    for (const [source, top] of Object.entries(results)) {
      console.log(`${source}: ${top.map((t) => `${t.index} ${t.label} ${t.score.toFixed(4)}`).join(', ')}`);
      const cat = top.find((t) => t.index === 286);
      expect(cat, `${source}: 286 in the top 3`).toBeDefined();
      expect(cat!.label).toBe('Egyptian cat');
      expect(cat!.score).toBeGreaterThanOrEqual(0.7);
    }
    expect(Object.keys(results)).toHaveLength(6);
  });
});
