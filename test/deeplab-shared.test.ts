/**
 * The shared DeepLabV3 (MobileNetV2, PASCAL VOC, uint8 TFLite with ARG_MAX inside) on the GPU through Dawn,
 * against google-coral's known-good result: the bird photo's class map agrees with the reference mask at
 * IoU > 0.9, IoU = same / (2 * pixels - same) (../shared/README.md).
 */
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage } from '../src/cli/images.ts';
import { loadModel } from '../src/formats/index.ts';
import { acquireNodeDevice } from '../src/gpu/node-device.ts';
import { compileModel } from '../src/runtime/compile.ts';
import { sharedPath } from './shared.ts';

const MODEL = sharedPath('models/deeplabv3_mnv2_pascal_quant.tflite');
const BIRD = sharedPath('images/bird_segmentation.bmp');
const MASK = sharedPath('images/bird_segmentation_mask.bmp');
const present = [MODEL, BIRD, MASK].every((p) => existsSync(p));
if (!present) console.warn(`skipping the shared DeepLabV3 test: ${MODEL} or the bird images are missing (set WEBCNN_SHARED)`);

describe.skipIf(!present)('shared DeepLabV3 TFLite on the GPU', () => {
  let device: GPUDevice;
  beforeAll(async () => {
    device = (await acquireNodeDevice()).device;
  });
  afterAll(() => device?.destroy());

  it('segments the bird photo like the reference mask (IoU > 0.9), the bird the main non-background class', async () => {
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
