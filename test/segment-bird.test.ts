/**
 * The shared DeepLabV3 TFLite (ARG_MAX inside: a class per pixel) through `ImageSegmenter`, against
 * google-coral's known-good result: the bird photo's mask agrees with the reference at IoU > 0.9, where
 * IoU = same / (2 * pixels - same) (../shared/README.md). The same through `segmentToGpu`, and the bare graph
 * through `compileModel` (the class map itself). Both on one device in one file: the second compile finds most of
 * its SwiftShader pipelines in the device's cache.
 */
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage } from '../src/cli/images.ts';
import { loadModel } from '../src/formats/index.ts';
import { compileModel } from '../src/runtime/compile.ts';
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
if (!present) console.warn(`skipping the DeepLabV3 segmenter and class-map tests: ${MODEL}, its labels or the bird images are missing (set WEBCNN_SHARED)`);

describe.skipIf(!present)('ImageSegmenter and compileModel on the shared DeepLabV3', () => {
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

  it('compileModel: the class map of the bird photo matches the reference mask (IoU > 0.9), the bird the main non-background class', async () => {
    const loaded = loadModel(readFileSync(MODEL));
    const graph = loaded.graph;
    const [, channels, h, w] = graph.tensors[graph.inputs[0]].shape;
    expect([channels, h, w]).toEqual([3, 513, 513]);
    expect(graph.tensors[graph.outputs[0]].shape).toEqual([1, 1, 513, 513]);
    const p = loaded.preprocessing!;
    const image = decodeImage(readFileSync(BIRD));
    const mask = decodeImage(readFileSync(MASK));
    expect([image.width, image.height, mask.width, mask.height]).toEqual([w, h, w, h]);

    // The photo is already 513x513: only the model's own normalisation ((pixel - 128) / 128).
    const input = new Float32Array(3 * h * w);
    for (let i = 0; i < h * w; i++) {
      for (let c = 0; c < 3; c++) input[c * h * w + i] = (image.data[4 * i + c] / 255 - p.mean[c]) / p.std[c];
    }
    const model = await compileModel(device, graph);
    try {
      const [classes] = await model.run([input]);
      const counts = new Map<number, number>();
      let same = 0;
      for (let i = 0; i < h * w; i++) {
        const label = classes[i];
        expect(Number.isInteger(label) && label >= 0 && label < 21).toBe(true);
        counts.set(label, (counts.get(label) ?? 0) + 1);
        // The mask BMP's palette is grey levels equal to the class index.
        if (label === mask.data[4 * i]) same++;
      }
      const iou = same / (2 * h * w - same);
      const ranked = [...counts.entries()].sort((a, b) => b[1] - a[1]);
      console.log(`DeepLabV3 bird: IoU ${iou.toFixed(4)}; classes ${JSON.stringify(ranked.slice(0, 4))}`);
      expect(iou).toBeGreaterThan(0.9);
      expect(ranked.find(([label]) => label !== 0)?.[0]).toBe(3); // bird
    } finally {
      model.dispose();
    }
  });
});
