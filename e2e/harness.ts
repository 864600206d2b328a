/**
 * Browser side of the Playwright GPU tests: exposes `window.webcnnHarness`, which acquires one WebGPU device
 * per page and runs the cases of `test/gpu-cases.ts` against the CPU reference.
 */
import { acquireDevice } from '../src/gpu/device.ts';
import { runCase, type CaseResult } from '../test/case-runner.ts';
import type { GpuCase } from '../test/gpu-cases.ts';
import { bottleneckCheck, type ChainingResult } from '../test/chaining-check.ts';
import { checkPreprocess, type PreprocessCheck } from '../test/preprocess-check.ts';
import type { Preprocessing } from '../src/formats/model.ts';
import type { KernelChoice } from '../src/runtime/kernel-choice.ts';
import { loadModel } from '../src/formats/index.ts';
import { ImageClassifier, type Classification, type ImageSource } from '../src/runtime/classifier.ts';
import { checkSharedModelAccuracy, type SharedModelAccuracy } from '../test/f16-accuracy.ts';
import type { StoragePrecision } from '../shaders/common.ts';
import { checkSharedUpgrade, type UpgradeCheck } from '../test/upgrade-check.ts';

export interface Harness {
  adapter(): Promise<string>;
  run(c: GpuCase, kernels?: KernelChoice): Promise<CaseResult>;
  chaining(): Promise<ChainingResult>;
  preprocess(width: number, height: number, p: Preprocessing): Promise<PreprocessCheck>;
  /** Classifies one image (bytes in base64) through each browser image source type. */
  classify(modelUrl: string, labelsUrl: string, imageBase64: string, mimeType: string): Promise<Record<string, Classification[]>>;
  /** Issue #6's f16 accuracy check on the shared model and cat.bmp (bytes in base64), see test/f16-accuracy.ts. */
  sharedF16Accuracy(modelUrl: string, catBmpBase64: string, precisions: StoragePrecision[], kernels?: KernelChoice): Promise<SharedModelAccuracy>;
  /** The shared model's tiered compile, see test/upgrade-check.ts. */
  sharedUpgrade(modelUrl: string, catBmpBase64: string): Promise<UpgradeCheck>;
  /** The harness device's features. */
  features(): Promise<string[]>;
}

let devicePromise: Promise<GPUDevice> | undefined;
const device = (): Promise<GPUDevice> => (devicePromise ??= acquireDevice().then((d) => d.device));

const harness: Harness = {
  async adapter() {
    const d = await acquireDevice();
    const info = d.adapterInfo;
    d.device.destroy();
    return `${info.vendor} / ${info.architecture} ${info.description}`.trim();
  },
  async run(c, kernels) {
    return runCase(await device(), c, kernels);
  },
  async chaining() {
    return bottleneckCheck(await device());
  },
  async preprocess(width, height, p) {
    return checkPreprocess(await device(), width, height, p);
  },
  async sharedF16Accuracy(modelUrl, catBmpBase64, precisions, kernels) {
    const model = new Uint8Array(await (await fetch(modelUrl)).arrayBuffer());
    const cat = Uint8Array.from(atob(catBmpBase64), (ch) => ch.charCodeAt(0));
    return checkSharedModelAccuracy(await device(), model, cat, precisions, kernels);
  },
  async sharedUpgrade(modelUrl, catBmpBase64) {
    const model = new Uint8Array(await (await fetch(modelUrl)).arrayBuffer());
    const cat = Uint8Array.from(atob(catBmpBase64), (ch) => ch.charCodeAt(0));
    return checkSharedUpgrade(await device(), model, cat);
  },
  async features() {
    return [...(await device()).features];
  },
  async classify(modelUrl, labelsUrl, imageBase64, mimeType) {
    const [modelBytes, labelsText] = await Promise.all([
      fetch(modelUrl).then((r) => r.arrayBuffer()),
      fetch(labelsUrl).then((r) => r.text()),
    ]);
    const loaded = loadModel(new Uint8Array(modelBytes), { fileName: modelUrl });
    const classifier = await ImageClassifier.create(await device(), loaded, { labels: labelsText.split('\n') });
    try {
      const bytes = Uint8Array.from(atob(imageBase64), (ch) => ch.charCodeAt(0));
      const blob = new Blob([bytes], { type: mimeType });
      const bitmap = await createImageBitmap(blob);
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
      const results: Record<string, Classification[]> = {};
      const sources: [string, ImageSource][] = [
        ['ImageBitmap', bitmap],
        ['HTMLCanvasElement', canvas],
        ['ImageData', imageData],
        ['HTMLImageElement', img],
        ['VideoFrame', frame],
        ['RgbaImage', { data: imageData.data, width: imageData.width, height: imageData.height }],
      ];
      for (const [name, source] of sources) results[name] = await classifier.classify(source, { topK: 3 });
      frame.close();
      return results;
    } finally {
      classifier.dispose();
    }
  },
};

declare global {
  interface Window {
    webcnnHarness: Harness;
  }
}
window.webcnnHarness = harness;
document.getElementById('status')!.textContent = 'ready';
import './segment-harness.ts';
