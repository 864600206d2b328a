/**
 * ImageSegmenter on a real WebGPU device (Dawn in Node; SwiftShader without a GPU): tiny score-map and arg-max
 * models against the CPU oracle of the mask kernel (src/reference/segment-mask.ts), the GPU-side mask against
 * the read-back one, model kind detection, bad inputs and the lifecycle.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DeviceLostError, DisposedError, ModelKindError, ShapeError, UnsupportedFeatureError } from '../src/errors.ts';
import type { LoadedModel, Preprocessing } from '../src/formats/model.ts';
import { acquireNodeDevice } from '../src/gpu/node-device.ts';
import { GraphBuilder } from '../src/graph/builder.ts';
import type { Graph } from '../src/graph/ir.ts';
import { segmentMaskReference } from '../src/reference/segment-mask.ts';
import { ImageClassifier, type RgbaImage } from '../src/runtime/classifier.ts';
import { CompiledModel } from '../src/runtime/compiled-model.ts';
import { cropFor } from '../src/runtime/image-input.ts';
import { detectModelKind } from '../src/runtime/model-kind.ts';
import { MaskOverlay } from '../src/runtime/mask-overlay.ts';
import { segmentationPalette } from '../src/runtime/palette.ts';
import { ImageSegmenter } from '../src/runtime/segmenter.ts';
import { Rng } from '../src/util/random.ts';

const preprocessing: Preprocessing = { size: [6, 8], resize: 'stretch', cropFraction: 1, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] };
const CLASSES = 5;

/** [1, 3, 6, 8] -> 1x1 conv with seeded weights -> [1, CLASSES, 6, 8] scores (then an arg max, or a pool). */
function graph(head: 'scores' | 'argmax' | 'pool' | 'one-channel' = 'scores'): Graph {
  const b = new GraphBuilder();
  const x = b.input('image', [1, 3, 6, 8]);
  const out = head === 'one-channel' ? 1 : CLASSES;
  const y = b.conv2d(x, { outChannels: out, kernel: 1, weight: new Rng(3).fill(out * 3, -1, 1), bias: new Rng(4).fill(out, -0.2, 0.2) });
  b.output(head === 'argmax' ? b.argMax(y) : head === 'pool' ? b.globalAvgPool(y) : y);
  return b.build();
}

function loaded(g: Graph, own: Preprocessing | null = preprocessing): LoadedModel {
  return {
    format: 'onnx',
    graph: g,
    inputDims: g.inputs.map((id) => g.tensors[id].shape),
    outputDims: g.outputs.map((id) => g.tensors[id].shape),
    ...(own ? { preprocessing: own } : {}),
    outputsProbabilities: false,
    metadata: {},
  };
}

function noise(width: number, height: number, seed: number): RgbaImage {
  const rng = new Rng(seed);
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < data.length; i++) data[i] = i % 4 === 3 ? 255 : rng.int(0, 255);
  return { data, width, height };
}

function counts(mask: ArrayLike<number>, classes: number): number[] {
  const n = new Array<number>(classes).fill(0);
  for (let i = 0; i < mask.length; i++) n[mask[i]]++;
  return n;
}

let device: GPUDevice;
beforeAll(async () => {
  device = (await acquireNodeDevice()).device;
});
afterAll(() => device?.destroy());
afterEach(() => {
  vi.restoreAllMocks();
});

describe('model kind', () => {
  it('tells classifiers, score maps, arg-max masks and unknown outputs apart from the graph', () => {
    expect(detectModelKind(graph('pool'))).toEqual({ kind: 'classifier', classes: CLASSES });
    expect(detectModelKind(graph('scores'))).toEqual({ kind: 'segmenter', output: 'scores', classes: CLASSES, height: 6, width: 8 });
    expect(detectModelKind(graph('argmax'))).toEqual({ kind: 'segmenter', output: 'mask', classes: CLASSES, height: 6, width: 8 });
    expect(detectModelKind(graph('one-channel')).kind).toBe('unknown');
  });
});

describe('ImageSegmenter', () => {
  it('upsamples scores bilinearly and takes the arg max, as the CPU oracle, at sizes above and below the output', async () => {
    const segmenter = await ImageSegmenter.create(device, loaded(graph()));
    expect(segmenter.output).toBe('scores');
    expect(segmenter.labels).toEqual(['class 0', 'class 1', 'class 2', 'class 3', 'class 4']);
    try {
      for (const [w, h, seed] of [[53, 37, 1], [5, 3, 2], [1, 1, 3], [8, 6, 4]]) {
        const result = await segmenter.segment(noise(w, h, seed), { scores: true });
        expect([result.width, result.height, result.mask.length]).toEqual([w, h, w * h]);
        expect(result.mask).toBeInstanceOf(Uint8Array);
        const want = segmentMaskReference({ values: result.scores!, kind: 'scores', classes: CLASSES, width: 8, height: 6 }, w, h);
        expect(Array.from(result.mask), `${w}x${h}`).toEqual(Array.from(want));
        const n = counts(result.mask, CLASSES);
        const present = n.flatMap((pixels, index) => (pixels > 0 ? [{ index, pixels }] : [])).sort((a, b) => b.pixels - a.pixels || a.index - b.index);
        expect(result.classes.map((c) => ({ index: c.index, pixels: c.pixels }))).toEqual(present);
        expect(result.classes.reduce((s, c) => s + c.share, 0)).toBeCloseTo(1, 6);
      }
    } finally {
      segmenter.dispose();
    }
  });

  it('maps pixels through a centre crop as the oracle does (random sizes; outside the crop: the nearest edge)', async () => {
    const crop = { resize: 'center-crop', cropFraction: 0.875 } as const;
    const scores = await ImageSegmenter.create(device, loaded(graph()), { preprocessing: crop });
    const masks = await ImageSegmenter.create(device, loaded(graph('argmax')), { preprocessing: crop });
    const rng = new Rng(21);
    try {
      for (let k = 0; k < 6; k++) {
        const [w, h] = [rng.int(1, 70), rng.int(1, 70)];
        const image = noise(w, h, 100 + k);
        const rect = cropFor(w, h, scores.preprocessing);
        const a = await scores.segment(image, { scores: true });
        const input = { values: a.scores!, kind: 'scores', classes: CLASSES, width: 8, height: 6 } as const;
        expect(Array.from(a.mask), `${w}x${h} scores`).toEqual(Array.from(segmentMaskReference(input, w, h, rect)));
        const argMax = segmentMaskReference(input, 8, 6);
        const want = segmentMaskReference({ values: Float32Array.from(argMax), kind: 'mask', classes: CLASSES, width: 8, height: 6 }, w, h, rect);
        expect(Array.from((await masks.segment(image)).mask), `${w}x${h} mask`).toEqual(Array.from(want));
      }
    } finally {
      scores.dispose();
      masks.dispose();
    }
  });

  it("samples a model's own arg max at the nearest pixel, and matches the score model's mask at the output size", async () => {
    const scores = await ImageSegmenter.create(device, loaded(graph()));
    const masks = await ImageSegmenter.create(device, loaded(graph('argmax')), { labels: ['a', 'b', 'c', 'd', 'e'] });
    expect(masks.output).toBe('mask');
    try {
      const image = noise(8, 6, 9);
      const a = await scores.segment(image, { scores: true });
      const b = await masks.segment(image);
      expect(Array.from(b.mask)).toEqual(Array.from(a.mask));
      expect(b.classes[0].label).toBe('abcde'[b.classes[0].index]);
      // Other sizes: the nearest pixel of the model's own mask, which is the arg max of the score model's output.
      for (const [w, h] of [[20, 7], [3, 5]]) {
        const other = noise(w, h, 11);
        const { scores: map } = await scores.segment(other, { scores: true });
        const argMax = segmentMaskReference({ values: map!, kind: 'scores', classes: CLASSES, width: 8, height: 6 }, 8, 6);
        const want = segmentMaskReference({ values: Float32Array.from(argMax), kind: 'mask', classes: CLASSES, width: 8, height: 6 }, w, h);
        expect(Array.from((await masks.segment(other)).mask), `${w}x${h}`).toEqual(Array.from(want));
      }
      await expect(masks.segment(image, { scores: true })).rejects.toThrow(/not scores/);
    } finally {
      scores.dispose();
      masks.dispose();
    }
  });

  it('segmentToGpu leaves the same mask in a GPU buffer, with the same classes, reading back only the counts', async () => {
    const segmenter = await ImageSegmenter.create(device, loaded(graph()));
    try {
      const image = noise(31, 17, 5);
      const read = await segmenter.segment(image);
      const onGpu = await segmenter.segmentToGpu(image);
      expect([onGpu.width, onGpu.height]).toEqual([31, 17]);
      expect(onGpu.mask.usage & GPUBufferUsage.STORAGE).toBeTruthy();
      expect(onGpu.classes).toEqual(read.classes);
      const staging = device.createBuffer({ size: onGpu.mask.size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      const encoder = device.createCommandEncoder();
      encoder.copyBufferToBuffer(onGpu.mask, 0, staging, 0, onGpu.mask.size);
      device.queue.submit([encoder.finish()]);
      await staging.mapAsync(GPUMapMode.READ);
      expect(Array.from(new Uint32Array(staging.getMappedRange()))).toEqual(Array.from(read.mask));
      staging.destroy();
      // Same size: the same buffer; another size: a new one.
      expect((await segmenter.segmentToGpu(noise(31, 17, 6))).mask).toBe(onGpu.mask);
      expect((await segmenter.segmentToGpu(noise(30, 17, 6))).mask).not.toBe(onGpu.mask);
    } finally {
      segmenter.dispose();
    }
  });

  it('serves concurrent calls of different sizes each with its own image', async () => {
    const segmenter = await ImageSegmenter.create(device, loaded(graph()));
    try {
      const images = [noise(13, 9, 1), noise(7, 21, 2), noise(13, 9, 3)];
      const alone = [];
      for (const image of images) alone.push(Array.from((await segmenter.segment(image)).mask));
      const together = await Promise.all(images.map((image) => segmenter.segment(image)));
      expect(together.map((r) => Array.from(r.mask))).toEqual(alone);
    } finally {
      segmenter.dispose();
    }
  });
});

describe('MaskOverlay', () => {
  it("uses PASCAL VOC's colour map, background transparent unless asked", () => {
    const p = segmentationPalette(21);
    const rgba = (i: number) => Array.from(p.subarray(4 * i, 4 * i + 4));
    expect([rgba(0), rgba(1), rgba(3), rgba(15), rgba(20)]).toEqual([[0, 0, 0, 0], [128, 0, 0, 255], [128, 128, 0, 255], [192, 128, 128, 255], [0, 64, 128, 255]]);
    expect(Array.from(segmentationPalette(1, false))).toEqual([0, 0, 0, 255]);
  });

  it('draws each mask pixel as its class colour at the opacity, background transparent, stretched over the target', async () => {
    const segmenter = await ImageSegmenter.create(device, loaded(graph()));
    const overlay = await MaskOverlay.create(device, 'rgba8unorm');
    const target = device.createTexture({ size: [64, 48], format: 'rgba8unorm', usage: GPUTextureUsage.RENDER_ATTACHMENT | GPUTextureUsage.COPY_SRC });
    const staging = device.createBuffer({ size: 64 * 48 * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    try {
      const image = noise(8, 6, 7);
      const { mask } = await segmenter.segment(image);
      const onGpu = await segmenter.segmentToGpu(image);
      const encoder = device.createCommandEncoder();
      overlay.draw(encoder, target, onGpu, { opacity: 0.5 });
      encoder.copyTextureToBuffer({ texture: target }, { buffer: staging, bytesPerRow: 256 }, [64, 48]);
      device.queue.submit([encoder.finish()]);
      await staging.mapAsync(GPUMapMode.READ);
      const pixels = new Uint8Array(staging.getMappedRange());
      const palette = segmentationPalette(CLASSES);
      let off = 0;
      for (let y = 0; y < 48; y++) {
        for (let x = 0; x < 64; x++) {
          const c = mask[Math.floor(y / 8) * 8 + Math.floor(x / 8)];
          const alpha = (palette[4 * c + 3] / 255) * 0.5;
          const want = [0, 1, 2].map((k) => palette[4 * c + k] * alpha).concat(255 * alpha);
          const got = Array.from(pixels.subarray(4 * (y * 64 + x), 4 * (y * 64 + x) + 4));
          if (got.some((v, k) => Math.abs(v - want[k]) > 1)) off++;
        }
      }
      expect(off).toBe(0);
      expect(new Set(mask).size).toBeGreaterThan(1);
      expect(() => overlay.draw(device.createCommandEncoder(), target, onGpu, { opacity: 2 })).toThrow(RangeError);
    } finally {
      staging.destroy();
      target.destroy();
      overlay.dispose();
      segmenter.dispose();
    }
  });
});

describe('ImageSegmenter refusals', () => {
  const oneLine = (e: unknown) => expect((e as Error).message).not.toContain('\n');

  it('refuses a classifier, and ImageClassifier refuses a segmenter, with a ModelKindError before compiling', async () => {
    const dispose = vi.spyOn(CompiledModel.prototype, 'dispose');
    const a = await ImageSegmenter.create(device, loaded(graph('pool'))).catch((e: unknown) => e);
    expect(a).toBeInstanceOf(ModelKindError);
    expect((a as Error).message).toMatch(/the model is an image classifier .* not an image segmenter.*use ImageClassifier/);
    oneLine(a);
    for (const head of ['scores', 'argmax'] as const) {
      const b = await ImageClassifier.create(device, loaded(graph(head))).catch((e: unknown) => e);
      expect(b).toBeInstanceOf(ModelKindError);
      expect((b as Error).message).toMatch(/the model is an image segmenter .*use ImageSegmenter/);
      oneLine(b);
    }
    const c = await ImageSegmenter.create(device, loaded(graph('one-channel'))).catch((e: unknown) => e);
    expect(c).toBeInstanceOf(ModelKindError);
    expect((c as Error).message).toContain('[1, 1, 6, 8]');
    oneLine(c);
    expect(dispose).not.toHaveBeenCalled();
  });

  it('refuses a model without preprocessing, or with another input size', async () => {
    await expect(ImageSegmenter.create(device, loaded(graph(), null))).rejects.toThrow(UnsupportedFeatureError);
    await expect(ImageSegmenter.create(device, loaded(graph(), null))).rejects.toThrow(/not an image segmenter/);
    await expect(ImageSegmenter.create(device, loaded(graph(), { ...preprocessing, size: [7, 8] }))).rejects.toThrow(ShapeError);
  });

  it('refuses empty images, short pixel data and non-images with one-line ShapeErrors', async () => {
    const segmenter = await ImageSegmenter.create(device, loaded(graph()));
    try {
      for (const [image, message] of [
        [{ data: new Uint8Array(0), width: 0, height: 0 }, 'image is empty (0x0)'],
        [{ data: new Uint8Array(0), width: 5, height: 0 }, 'image is empty (5x0)'],
        [{ data: new Uint8Array(8), width: 2, height: 2 }, 'RGBA image data has 8 bytes'],
        ['bird.png', 'segment takes decoded RGBA pixels'],
      ] as const) {
        const e = await segmenter.segment(image as RgbaImage).catch((x: unknown) => x);
        expect(e).toBeInstanceOf(ShapeError);
        expect((e as Error).message).toContain(message);
        oneLine(e);
      }
      await expect(segmenter.segmentToGpu({ data: new Uint8Array(0), width: 0, height: 3 })).rejects.toThrow('image is empty (0x3)');
      // A failed call does not break the next.
      expect((await segmenter.segment(noise(3, 3, 1))).mask.length).toBe(9);
    } finally {
      segmenter.dispose();
    }
  });

  it('rejects calls after dispose with DisposedError (also queued ones), and dispose is idempotent', async () => {
    const segmenter = await ImageSegmenter.create(device, loaded(graph()));
    const queued = segmenter.segment(noise(4, 4, 1));
    const second = segmenter.segmentToGpu(noise(4, 4, 2));
    segmenter.dispose();
    await queued.catch(() => undefined);
    await expect(second).rejects.toThrow(DisposedError);
    await expect(segmenter.segment(noise(4, 4, 1))).rejects.toThrow(DisposedError);
    segmenter.dispose();
    expect(segmenter.model.usable).toBe(false);
  });

  it('rejects with DeviceLostError after the device is lost', async () => {
    const own = (await acquireNodeDevice()).device;
    const segmenter = await ImageSegmenter.create(own, loaded(graph()));
    await segmenter.segment(noise(4, 4, 1));
    own.destroy();
    await own.lost;
    await expect(segmenter.segment(noise(4, 4, 1))).rejects.toThrow(DeviceLostError);
    await expect(segmenter.segmentToGpu(noise(4, 4, 1))).rejects.toThrow(DeviceLostError);
    segmenter.dispose();
  });
});
