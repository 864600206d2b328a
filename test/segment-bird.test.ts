/**
 * The shared DeepLabV3 TFLite (ARG_MAX inside: a class per pixel) through `ImageSegmenter`, against
 * google-coral's known-good result: the bird photo's mask agrees with the reference at IoU > 0.9, where
 * IoU = same / (2 * pixels - same) (../shared/README.md). The same through `segmentToGpu`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage } from '../src/cli/images.ts';
import { loadModel } from '../src/formats/index.ts';
import { acquireNodeDevice } from '../src/gpu/node-device.ts';
import { ImageClassifier } from '../src/runtime/classifier.ts';
import { ModelKindError } from '../src/errors.ts';
import { ImageSegmenter } from '../src/runtime/segmenter.ts';
import { sharedPath } from './shared.ts';

const MODEL = sharedPath('models/deeplabv3_mnv2_pascal_quant.tflite');
const LABELS = sharedPath('labels/pascal_voc_segmentation_labels.txt');
const BIRD = sharedPath('images/bird_segmentation.bmp');
const MASK = sharedPath('images/bird_segmentation_mask.bmp');
const present = [MODEL, LABELS, BIRD, MASK].every((p) => existsSync(p));
if (!present) console.warn(`skipping the DeepLabV3 segmenter test: ${MODEL}, its labels or the bird images are missing (set WEBCNN_SHARED)`);

describe.skipIf(!present)('ImageSegmenter on the shared DeepLabV3', () => {
  let device: GPUDevice;
  beforeAll(async () => {
    device = (await acquireNodeDevice()).device;
  });
  afterAll(() => device?.destroy());

  it('segments the bird photo like the reference mask (IoU > 0.9), bird the main non-background class', async () => {
    const loaded = loadModel(readFileSync(MODEL));
    await expect(ImageClassifier.create(device, loaded)).rejects.toThrow(ModelKindError);
    const labels = readFileSync(LABELS, 'utf8').split('\n').slice(0, 21);
    const segmenter = await ImageSegmenter.create(device, loaded, { labels });
    try {
      expect(segmenter.output).toBe('mask');
      expect(segmenter.labels.length).toBe(21);
      const image = decodeImage(readFileSync(BIRD));
      const reference = decodeImage(readFileSync(MASK));
      const result = await segmenter.segment(image);
      expect([result.width, result.height]).toEqual([image.width, image.height]);
      expect(result.mask).toBeInstanceOf(Uint8Array);
      let same = 0;
      for (let i = 0; i < result.mask.length; i++) if (result.mask[i] === reference.data[4 * i]) same++;
      const iou = same / (2 * result.mask.length - same);
      console.log(`ImageSegmenter bird: IoU ${iou.toFixed(4)}; ${result.classes.map((c) => `${c.label} ${(100 * c.share).toFixed(1)}%`).join(', ')}`);
      expect(iou).toBeGreaterThan(0.9);
      expect(result.classes.find((c) => c.index !== 0)?.label).toBe('bird');
      const onGpu = await segmenter.segmentToGpu(image);
      expect(onGpu.classes).toEqual(result.classes);
    } finally {
      segmenter.dispose();
    }
  });
});
