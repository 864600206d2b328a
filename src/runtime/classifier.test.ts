import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkPreprocess, runPreprocessKernel } from '../../test/preprocess-check.ts';
import { TORCHVISION_PREPROCESSING, type Preprocessing } from '../formats/model.ts';
import { acquireNodeDevice } from '../gpu/node-device.ts';
import { preprocessReference } from '../reference/preprocess.ts';
import { cropFor, softmaxInPlace, topK } from './classifier.ts';

const stretch224: Preprocessing = { size: [224, 224], resize: 'stretch', cropFraction: 1, mean: [0, 0, 0], std: [1, 1, 1] };

describe('cropFor', () => {
  it('stretch takes the whole image', () => {
    expect(cropFor(512, 341, stretch224)).toEqual({ x: 0, y: 0, width: 512, height: 341 });
  });

  it('center-crop follows Resize(256) + CenterCrop(224) in source pixels', () => {
    // 640x480: torchvision resizes to int(256 * 640 / 480) = 341 x 256, so x scales by 640/341 and y by 480/256
    // = 1.875; the crop starts at round((341 - 224) / 2) = round(58.5) = 58 (half to even) and (256 - 224) / 2 = 16.
    const r = cropFor(640, 480, TORCHVISION_PREPROCESSING);
    expect(r.width).toBeCloseTo((224 * 640) / 341, 10);
    expect(r.height).toBeCloseTo(420, 10);
    expect(r.x).toBeCloseTo((58 * 640) / 341, 10);
    expect(r.y).toBeCloseTo(30, 10);
    // Portrait, and a crop as large as the resized image on one axis (cropFraction 1: 224 x floor(224 * 300 / 200)).
    const q = cropFor(200, 300, { ...TORCHVISION_PREPROCESSING, cropFraction: 1 });
    expect(q).toEqual({ x: 0, y: (((336 - 224) / 2) * 300) / 336, width: 200, height: (224 * 300) / 336 });
  });
});

describe('topK and softmax', () => {
  it('orders by score, ties by index, and clamps k', () => {
    expect(topK(new Float32Array([0.1, 0.5, 0.2, 0.5]), 3)).toEqual([1, 3, 2]);
    expect(topK(new Float32Array([1, 2]), 5)).toEqual([1, 0]);
  });

  it('softmax matches exp(x)/sum for concrete numbers', () => {
    const v = softmaxInPlace(new Float32Array([1, 2, 3]));
    const e = [Math.exp(1), Math.exp(2), Math.exp(3)];
    const s = e[0] + e[1] + e[2];
    e.forEach((x, i) => expect(v[i]).toBeCloseTo(x / s, 6));
  });
});

/** A one-channel image (red = green = blue = `f(x, y)`) as RGBA bytes. */
function grey(width: number, height: number, f: (x: number, y: number) => number): Uint8Array<ArrayBuffer> {
  const img = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      img.fill(f(x, y), (y * width + x) * 4, (y * width + x) * 4 + 3);
      img[(y * width + x) * 4 + 3] = 255;
    }
  }
  return img;
}

/** The red plane of a reference output, back in 0..255 (the preprocessing's mean 0, std 1 divide by 255 only). */
function redPlane(out: Float32Array, h: number, w: number): number[][] {
  return Array.from({ length: h }, (_, y) => Array.from(out.subarray(y * w, (y + 1) * w), (v) => v * 255));
}

function expectClose(got: number[][], want: number[][], digits = 3): void {
  expect(got.length).toBe(want.length);
  got.forEach((row, y) => row.forEach((v, x) => expect(v, `(${x}, ${y}): ${v} vs ${want[y][x]}`).toBeCloseTo(want[y][x], digits)));
}

const ramp = (x: number, y: number) => (x * 37 + y * 91) % 256;

/*
 * Reference values from Pillow 9.4 (Debian's python3-pil), on mode 'F' images (float arithmetic, no 8-bit
 * rounding between the two passes), e.g. for the ramp:
 *   im = Image.new('F', (4, 1)); im.putdata([0, 100, 200, 250]); im.resize((2, 1), Image.BILINEAR)
 * and for the 2-D cases the image `(x * 37 + y * 91) % 256` of the given size. torchvision's
 * `resize(..., antialias=True)` computes the same weights (its antialiased kernels follow PIL's); the
 * center-crop case is torchvision's `Resize(3)` + `CenterCrop(2)` done as PIL resize to 4x3, then crop
 * (1, 0, 3, 2): the long side int(3 * 7 / 5) = 4, the offsets round(1 / 2) = 0 and round(2 / 2) = 1.
 */
describe('preprocessReference against values from PIL', () => {
  it('a uniform image stays uniform after resampling and normalisation', () => {
    const img = new Uint8Array(50 * 30 * 4).fill(128);
    const out = preprocessReference(img, 50, 30, { ...stretch224, size: [7, 9], mean: [0.5, 0.5, 0.5], std: [0.25, 0.5, 1] });
    expect(out.length).toBe(3 * 7 * 9);
    const p = 128 / 255;
    for (let i = 0; i < 7 * 9; i++) {
      expect(out[i]).toBeCloseTo((p - 0.5) / 0.25, 6);
      expect(out[7 * 9 + i]).toBeCloseTo((p - 0.5) / 0.5, 6);
      expect(out[2 * 7 * 9 + i]).toBeCloseTo(p - 0.5, 6);
    }
  });

  it('4 -> 2 ramp (0, 100, 200, 250): 71.4286, 207.1429, weights over the in-range pixels only', () => {
    const img = grey(4, 1, (x) => [0, 100, 200, 250][x]);
    const out = preprocessReference(img, 4, 1, { ...stretch224, size: [1, 2] });
    // Edge replication (webcnn before) gave 62.5 and 212.5.
    expectClose(redPlane(out, 1, 2), [[71.4286, 207.1429]]);
  });

  it('6x5 -> 4x3 (downscale by 1.5 and 1.67)', () => {
    const out = preprocessReference(grey(6, 5, ramp), 6, 5, { ...stretch224, size: [3, 4] });
    expectClose(redPlane(out, 3, 4), [
      [52.875, 104.7778, 158.2222, 141.5536],
      [138.9861, 96.0741, 102.1111, 118.4583],
      [82.875, 134.7778, 139.4603, 93.8393],
    ]);
  });

  it('2x2 -> 3x3 upscaling is plain bilinear with half-pixel centres', () => {
    const out = preprocessReference(grey(2, 2, (x, y) => [[0, 90], [180, 255]][y][x]), 2, 2, { ...stretch224, size: [3, 3] });
    expectClose(redPlane(out, 3, 3), [
      [0, 45, 90],
      [90, 131.25, 172.5],
      [180, 217.5, 255],
    ]);
  });

  it('7x5, center-crop to 2x2 after resizing the short side to 3', () => {
    const p: Preprocessing = { ...stretch224, size: [2, 2], resize: 'center-crop', cropFraction: 2 / 3 };
    const out = preprocessReference(grey(7, 5, ramp), 7, 5, p);
    expectClose(redPlane(out, 2, 2), [
      [115.96, 162.0971],
      [88.2933, 116.5511],
    ]);
  });
});

const TFLITE: Preprocessing = { size: [224, 224], resize: 'stretch', cropFraction: 1, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };

describe('the GPU preprocessing kernel (Dawn) with the classifier\'s crop, against the oracle', () => {
  let device: GPUDevice;
  beforeAll(async () => {
    device = (await acquireNodeDevice()).device;
  }, 60_000);
  afterAll(() => device?.destroy());

  it('gives PIL\'s values on the ramp and the 2-D cases', async () => {
    const gpu = async (img: Uint8Array<ArrayBuffer>, w: number, h: number, p: Preprocessing) => {
      const [outH, outW] = p.size;
      return redPlane(await runPreprocessKernel(device, img, w, h, p), outH, outW);
    };
    expectClose(await gpu(grey(4, 1, (x) => [0, 100, 200, 250][x]), 4, 1, { ...stretch224, size: [1, 2] }), [[71.4286, 207.1429]], 2);
    expectClose(await gpu(grey(6, 5, ramp), 6, 5, { ...stretch224, size: [3, 4] }), [
      [52.875, 104.7778, 158.2222, 141.5536],
      [138.9861, 96.0741, 102.1111, 118.4583],
      [82.875, 134.7778, 139.4603, 93.8393],
    ], 2);
    expectClose(await gpu(grey(2, 2, (x, y) => [[0, 90], [180, 255]][y][x]), 2, 2, { ...stretch224, size: [3, 3] }), [
      [0, 45, 90],
      [90, 131.25, 172.5],
      [180, 217.5, 255],
    ], 2);
    const crop: Preprocessing = { ...stretch224, size: [2, 2], resize: 'center-crop', cropFraction: 2 / 3 };
    expectClose(await gpu(grey(7, 5, ramp), 7, 5, crop), [[115.96, 162.0971], [88.2933, 116.5511]], 2);
  });

  // 8000x50 to 224: a window of 72 pixels across, more than the kernel's former cap of 64 taps.
  it.each([
    [512, 341, 'stretch', TFLITE],
    [97, 61, 'stretch', TFLITE],
    [8000, 50, 'stretch', TFLITE],
    [640, 480, 'center-crop', TORCHVISION_PREPROCESSING],
    [341, 512, 'center-crop', TORCHVISION_PREPROCESSING],
    [1, 1, 'center-crop', TORCHVISION_PREPROCESSING],
  ] as const)('%ix%i %s: max |gpu - oracle| <= 1e-4', async (w, h, _resize, p) => {
    const r = await checkPreprocess(device, w, h, p);
    expect(r.values).toBe(3 * p.size[0] * p.size[1]);
    expect(r.maxAbsError).toBeLessThanOrEqual(1e-4);
  });
});
