/**
 * Browser side of e2e/segment.spec.ts: `window.webcnnSegmentHarness` runs `ImageSegmenter` (a tiny seeded
 * score-map model built in the page) on every browser image source type, and draws `segmentToGpu`'s mask with `MaskOverlay`
 * into a texture of the canvas format, as the webcam demo does into its canvas.
 */
import { acquireDevice } from '../src/gpu/device.ts';
import { GraphBuilder } from '../src/graph/builder.ts';
import type { LoadedModel } from '../src/formats/model.ts';
import type { ImageSource } from '../src/runtime/image-input.ts';
import { MaskOverlay } from '../src/runtime/mask-overlay.ts';
import { segmentationPalette } from '../src/runtime/palette.ts';
import { ImageSegmenter } from '../src/runtime/segmenter.ts';
import { Rng } from '../src/util/random.ts';

export interface SegmentHarness {
  /** Per source type, the fraction of pixels whose class equals the RGBA pixels' mask; and the mask's size. */
  sources(imageBase64: string, mimeType: string): Promise<{ agreement: Record<string, number>; size: [number, number]; classes: number }>;
  /** Pixels of the texture the overlay was drawn into that differ from the read-back mask's colours. */
  overlay(imageBase64: string, mimeType: string): Promise<{ pixels: number; differ: number; opaque: number; firstDiffer?: string }>;
}

const CLASSES = 5;

function tinySegmenter(): LoadedModel {
  const b = new GraphBuilder();
  const x = b.input('image', [1, 3, 24, 32]);
  b.output(b.conv2d(x, { outChannels: CLASSES, kernel: 1, weight: new Rng(3).fill(CLASSES * 3, -1, 1), bias: new Rng(4).fill(CLASSES, -0.2, 0.2) }));
  const graph = b.build();
  return {
    format: 'onnx', graph, inputDims: [[1, 3, 24, 32]], outputDims: [[1, CLASSES, 24, 32]], outputsProbabilities: false, metadata: {},
    preprocessing: { size: [24, 32], resize: 'stretch', cropFraction: 1, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] },
  };
}

let devicePromise: Promise<GPUDevice> | undefined;
const device = (): Promise<GPUDevice> => (devicePromise ??= acquireDevice().then((d) => d.device));

async function decode(imageBase64: string, mimeType: string): Promise<{ blob: Blob; bitmap: ImageBitmap }> {
  const bytes = Uint8Array.from(atob(imageBase64), (ch) => ch.charCodeAt(0));
  const blob = new Blob([bytes], { type: mimeType });
  return { blob, bitmap: await createImageBitmap(blob) };
}

const harness: SegmentHarness = {
  async sources(imageBase64, mimeType) {
    const segmenter = await ImageSegmenter.create(await device(), tinySegmenter());
    try {
      const { blob, bitmap } = await decode(imageBase64, mimeType);
      const canvas = document.createElement('canvas');
      canvas.width = bitmap.width;
      canvas.height = bitmap.height;
      const ctx = canvas.getContext('2d')!;
      ctx.drawImage(bitmap, 0, 0);
      const imageData = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
      const img = new Image();
      img.src = URL.createObjectURL(blob);
      await img.decode();
      const frame = new VideoFrame(bitmap, { timestamp: 0 });
      const reference = await segmenter.segment({ data: imageData.data, width: imageData.width, height: imageData.height });
      const sources: [string, ImageSource][] = [['ImageBitmap', bitmap], ['HTMLCanvasElement', canvas], ['ImageData', imageData], ['HTMLImageElement', img], ['VideoFrame', frame]];
      const agreement: Record<string, number> = {};
      for (const [name, source] of sources) {
        const { mask } = await segmenter.segment(source);
        let same = 0;
        for (let i = 0; i < mask.length; i++) if (mask[i] === reference.mask[i]) same++;
        agreement[name] = mask.length === reference.mask.length ? same / mask.length : 0;
      }
      frame.close();
      return { agreement, size: [reference.width, reference.height], classes: reference.classes.length };
    } finally {
      segmenter.dispose();
    }
  },

  async overlay(imageBase64, mimeType) {
    const gpu = await device();
    const step = (name: string) => (e: unknown) => {
      throw new Error(`${name}: ${(e as Error).message}`);
    };
    const segmenter = await ImageSegmenter.create(gpu, tinySegmenter());
    const format = navigator.gpu.getPreferredCanvasFormat();
    const overlay = await MaskOverlay.create(gpu, format).catch(step('MaskOverlay.create'));
    try {
      const { bitmap } = await decode(imageBase64, mimeType);
      const { mask } = await segmenter.segment(bitmap).catch(step('segment'));
      const onGpu = await segmenter.segmentToGpu(bitmap).catch(step('segmentToGpu'));
      // Into a texture of the canvas format, read back (a WebGPU canvas on headless SwiftShader loses the instance).
      const [width, height] = [onGpu.width, onGpu.height];
      const target = gpu.createTexture({ size: [width, height], format, usage: GPUTextureUsage.RENDER_ATTACHMENT | GPUTextureUsage.COPY_SRC });
      const bytesPerRow = Math.ceil((width * 4) / 256) * 256;
      const staging = gpu.createBuffer({ size: bytesPerRow * height, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      gpu.pushErrorScope('validation');
      const encoder = gpu.createCommandEncoder();
      overlay.draw(encoder, target, onGpu, { opacity: 1 });
      encoder.copyTextureToBuffer({ texture: target }, { buffer: staging, bytesPerRow }, [width, height]);
      gpu.queue.submit([encoder.finish()]);
      const invalid = await gpu.popErrorScope();
      if (invalid) throw new Error(`overlay draw: ${invalid.message}`);
      await staging.mapAsync(GPUMapMode.READ);
      const rows = new Uint8Array(staging.getMappedRange());
      const pixels = new Uint8Array(width * height * 4);
      for (let y = 0; y < height; y++) pixels.set(rows.subarray(y * bytesPerRow, y * bytesPerRow + width * 4), y * width * 4);
      if (format === 'bgra8unorm') for (let i = 0; i < pixels.length; i += 4) [pixels[i], pixels[i + 2]] = [pixels[i + 2], pixels[i]];
      staging.destroy();
      target.destroy();
      const palette = segmentationPalette(CLASSES);
      let differ = 0;
      let opaque = 0;
      let firstDiffer: string | undefined;
      for (let i = 0; i < mask.length; i++) {
        const c = mask[i];
        if (palette[4 * c + 3] === 255) opaque++;
        const want = palette[4 * c + 3] === 0 ? [0, 0, 0, 0] : [palette[4 * c], palette[4 * c + 1], palette[4 * c + 2], 255];
        if (want.some((v, k) => Math.abs(v - pixels[4 * i + k]) > 2)) {
          if (differ++ === 0) firstDiffer = `pixel ${i}: got ${Array.from(pixels.subarray(4 * i, 4 * i + 4))}, want ${want} (canvas ${format})`;
        }
      }
      return { pixels: mask.length, differ, opaque, ...(firstDiffer ? { firstDiffer } : {}) };
    } finally {
      overlay.dispose();
      segmenter.dispose();
    }
  },
};

declare global {
  interface Window {
    webcnnSegmentHarness: SegmentHarness;
  }
}
window.webcnnSegmentHarness = harness;
