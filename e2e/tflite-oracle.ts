/**
 * Browser side of `e2e/tflite-oracle.spec.ts` (a test page, not the demo): TFLite's own interpreter as the
 * oracle for webcnn's TFLite frontend. `window.tfliteOracle` runs the small models of
 * `test/tflite-oracle-cases.ts` through `@tensorflow/tfjs-tflite` (TFLite compiled to WASM, its raw
 * `TFLiteWebModelRunner`: typed-array inputs and outputs, no TF.js tensors) and through webcnn on the GPU, and
 * the shared MobileNetV2 / DeepLabV3 through `@mediapipe/tasks-vision`'s ImageClassifier / ImageSegmenter.
 * Both packages are devDependencies; their WASM files are served by Vite from node_modules (`?url`).
 */
import '@tensorflow/tfjs-tflite/dist/tf-tflite.fesm.js';
import tfliteLoaderUrl from '@tensorflow/tfjs-tflite/wasm/tflite_web_api_cc_simd.js?url';
// Imported only so that Vite's dev server lets the page fetch it (files outside the module graph are refused);
// tfjs-tflite's loader finds it beside the loader script.
import tfliteWasmUrl from '@tensorflow/tfjs-tflite/wasm/tflite_web_api_cc_simd.wasm?url';
import { ImageClassifier as MpImageClassifier, ImageSegmenter as MpImageSegmenter } from '@mediapipe/tasks-vision';
import visionLoaderUrl from '@mediapipe/tasks-vision/vision_wasm_internal.js?url';
import visionBinaryUrl from '@mediapipe/tasks-vision/vision_wasm_internal.wasm?url';
import { acquireDevice } from '../src/gpu/device.ts';
import { loadModel } from '../src/formats/index.ts';
import { compileModel } from '../src/runtime/compile.ts';
import { ImageClassifier } from '../src/runtime/classifier.ts';
import { hashString, Rng } from '../src/util/random.ts';
import type { OracleCase } from '../test/tflite-oracle-cases.ts';
import { tfliteOracleCases } from '../test/tflite-oracle-cases.ts';
import { argMaxToInt32 } from '../test/helpers/tflite-patch.ts';

/** The part of tfjs-tflite's global `tfweb` (set by its bundle) that the page uses. */
interface TfliteTensorInfo {
  readonly name: string;
  readonly dataType: string;
  readonly shape: string;
  data(): Float32Array | Uint8Array | Int32Array | Int8Array;
}
interface TfliteRunner {
  getInputs(): TfliteTensorInfo[];
  getOutputs(): TfliteTensorInfo[];
  infer(): boolean;
  cleanUp(): void;
}
interface Tfweb {
  TFLiteWebModelRunner: { create(model: ArrayBuffer, options: { numThreads?: number }): Promise<TfliteRunner> };
  tflite_web_api: { setWasmPath(path: string): void };
}
const tfweb = (globalThis as unknown as { tfweb: Tfweb }).tfweb;
const tfliteWasmDir = new URL('.', new URL(tfliteLoaderUrl, location.href)).href;
if (new URL('.', new URL(tfliteWasmUrl, location.href)).href !== tfliteWasmDir) throw new Error('tfjs-tflite: loader and binary served from different folders');
tfweb.tflite_web_api.setWasmPath(tfliteWasmDir);

export interface OutputComparison {
  readonly name: string;
  readonly shape: string;
  readonly maxDiff: number;
  readonly maxRef: number;
  readonly tolerance: number;
  /** Elements whose indices differ (index outputs only). */
  readonly indexMismatches: number;
}

export interface CaseComparison {
  readonly name: string;
  readonly outputs: OutputComparison[];
}

export interface ClassifierComparison {
  readonly webcnn: { index: number; score: number }[];
  readonly mediapipe: { index: number; score: number }[];
}

export interface SegmenterComparison {
  /** Share of pixels where webcnn's and TFLite's class maps agree (the model with its ARG_MAX patched to int32). */
  readonly tfliteAgreement: number;
  /** Share of pixels where webcnn's and MediaPipe's class maps agree, or MediaPipe's error. */
  readonly agreement?: number;
  readonly webcnnIou: number;
  readonly error?: string;
}

export interface TfliteOracle {
  caseNames(): string[];
  runCase(name: string): Promise<CaseComparison>;
  classify(modelUrl: string, catBmpUrl: string): Promise<ClassifierComparison>;
  segment(modelUrl: string, birdBmpUrl: string, maskBmpUrl: string): Promise<SegmenterComparison>;
}

let devicePromise: Promise<GPUDevice> | undefined;
const device = (): Promise<GPUDevice> => (devicePromise ??= acquireDevice().then((d) => d.device));
let cases: OracleCase[] | undefined;
const allCases = (): OracleCase[] => (cases ??= tfliteOracleCases());

const product = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);
const parseShape = (s: string) => (s ? s.split(',').map(Number) : []);

/** NHWC -> NCHW for rank 4; lower ranks (`[n, c]`, ARG_MAX's `[n, h, w]`) have the IR's element order already. */
function toIrOrder(values: ArrayLike<number>, dims: readonly number[]): Float64Array {
  const out = new Float64Array(values.length);
  if (dims.length !== 4) {
    for (let i = 0; i < values.length; i++) out[i] = values[i];
    return out;
  }
  const [n, h, w, c] = dims;
  for (let b = 0; b < n; b++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) out[((b * c + k) * h + y) * w + x] = values[((b * h + y) * w + x) * c + k];
  return out;
}

/** Deterministic inputs: float in [-2, 2], or uint8 bytes (distinct along channels for an index case). */
function makeInputs(c: OracleCase, infos: TfliteTensorInfo[]): (Float32Array | Uint8Array)[] {
  const rng = new Rng(hashString(c.name));
  return infos.map((info, k) => {
    const dims = parseShape(info.shape);
    const count = product(dims);
    if (!c.inputQuant[k]) return Float32Array.from({ length: count }, () => rng.uniform(-2, 2));
    const bytes = new Uint8Array(count);
    const channels = dims[dims.length - 1];
    for (let p = 0; p < count; p += channels) {
      const used = new Set<number>();
      for (let ch = 0; ch < channels; ch++) {
        let v = rng.int(0, 255);
        while (c.indices && used.has(v)) v = rng.int(0, 255);
        used.add(v);
        bytes[p + ch] = v;
      }
    }
    return bytes;
  });
}

async function runTflite(model: Uint8Array, inputs: (Float32Array | Uint8Array)[]): Promise<{ info: TfliteTensorInfo; values: Float32Array | Uint8Array | Int32Array | Int8Array }[]> {
  const runner = await tfweb.TFLiteWebModelRunner.create(model.slice().buffer, { numThreads: -1 });
  try {
    runner.getInputs().forEach((info, k) => info.data().set(inputs[k]));
    if (!runner.infer()) throw new Error('TFLite inference failed');
    return runner.getOutputs().map((info) => ({ info, values: info.data().slice() }));
  } finally {
    runner.cleanUp();
  }
}

const oracle: TfliteOracle = {
  caseNames() {
    return allCases().map((c) => c.name);
  },

  async runCase(name) {
    const c = allCases().find((x) => x.name === name);
    if (!c) throw new Error(`no oracle case '${name}'`);
    const probe = await tfweb.TFLiteWebModelRunner.create(c.model.slice().buffer, { numThreads: -1 });
    const inputInfos = probe.getInputs().map((i) => ({ ...i, shape: i.shape, data: () => new Float32Array(0) }));
    probe.cleanUp();
    const inputs = makeInputs(c, inputInfos);
    const reference = await runTflite(c.model, inputs);

    const loaded = loadModel(c.model, { fileName: `${name}.tflite` });
    const irInputs = inputs.map((values, k) => {
      const q = c.inputQuant[k];
      const real = q ? Float64Array.from(values, (v) => q.scale * (v - q.zeroPoint)) : values;
      return Float32Array.from(toIrOrder(real, parseShape(inputInfos[k].shape)));
    });
    const model = await compileModel(await device(), loaded.graph);
    let results: Float32Array[];
    try {
      results = await model.run(irInputs);
    } finally {
      model.dispose();
    }

    const outputs = reference.map(({ info, values }, k): OutputComparison => {
      const q = c.outputQuant[k];
      const real = q ? Float64Array.from(values, (v) => q.scale * (v - q.zeroPoint)) : values;
      const ref = toIrOrder(real, parseShape(info.shape));
      const got = results[k];
      if (got.length !== ref.length) throw new Error(`${name}: output ${info.name} has ${got.length} values in webcnn, ${ref.length} in TFLite`);
      let maxDiff = 0;
      let maxRef = 0;
      let indexMismatches = 0;
      for (let i = 0; i < ref.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs(got[i] - ref[i]));
        maxRef = Math.max(maxRef, Math.abs(ref[i]));
        if (c.indices && got[i] !== ref[i]) indexMismatches++;
      }
      // Float: the project's GPU-vs-reference tolerance. Quantized: TFLite rounds its result to the output's
      // step (webcnn does not) and its integer kernels approximate: two steps, plus the rounding of the tensors
      // before it (the case's slack).
      const tolerance = c.indices ? 0 : q ? 2 * q.scale + (c.roundingSlack?.[k] ?? 0) : 1e-4 * maxRef + 1e-5;
      return { name: info.name, shape: info.shape, maxDiff, maxRef, tolerance, indexMismatches };
    });
    return { name, outputs };
  },

  async classify(modelUrl, catBmpUrl) {
    const modelBytes = new Uint8Array(await (await fetch(modelUrl)).arrayBuffer());
    const image = await imageData(catBmpUrl, 224, 224);
    const classifier = await ImageClassifier.create(await device(), loadModel(modelBytes, { fileName: modelUrl }));
    let webcnn: { index: number; score: number }[];
    try {
      webcnn = (await classifier.classify(image, { topK: 5 })).map(({ index, score }) => ({ index, score }));
    } finally {
      classifier.dispose();
    }
    const mp = await MpImageClassifier.createFromOptions(await visionFileset(), {
      baseOptions: { modelAssetBuffer: modelBytes, delegate: 'CPU' },
      runningMode: 'IMAGE',
      maxResults: 5,
    });
    try {
      const result = mp.classify(image);
      const mediapipe = result.classifications[0].categories.map(({ index, score }) => ({ index, score }));
      return { webcnn, mediapipe };
    } finally {
      mp.close();
    }
  },

  async segment(modelUrl, birdBmpUrl, maskBmpUrl) {
    const modelBytes = new Uint8Array(await (await fetch(modelUrl)).arrayBuffer());
    const image = await imageData(birdBmpUrl, 513, 513);
    const mask = await imageData(maskBmpUrl, 513, 513);
    const loaded = loadModel(modelBytes, { fileName: modelUrl });
    const p = loaded.preprocessing!;
    const hw = 513 * 513;
    const input = new Float32Array(3 * hw);
    for (let i = 0; i < hw; i++) for (let c = 0; c < 3; c++) input[c * hw + i] = (image.data[4 * i + c] / 255 - p.mean[c]) / p.std[c];
    const model = await compileModel(await device(), loaded.graph);
    let classes: Float32Array;
    try {
      [classes] = await model.run([input]);
    } finally {
      model.dispose();
    }
    let same = 0;
    for (let i = 0; i < hw; i++) if (classes[i] === mask.data[4 * i]) same++;
    const webcnnIou = same / (2 * hw - same);
    // TFLite itself on the same uint8 pixels (tfjs-tflite returns no int64: the ARG_MAX writes int32 instead).
    const pixels = new Uint8Array(3 * hw);
    for (let i = 0; i < hw; i++) for (let c = 0; c < 3; c++) pixels[3 * i + c] = image.data[4 * i + c];
    const [tflite] = await runTflite(argMaxToInt32(modelBytes), [pixels]);
    let agreeTflite = 0;
    for (let i = 0; i < hw; i++) if (tflite.values[i] === classes[i]) agreeTflite++;
    const tfliteAgreement = agreeTflite / hw;
    try {
      const mp = await MpImageSegmenter.createFromOptions(await visionFileset(), {
        baseOptions: { modelAssetBuffer: modelBytes, delegate: 'CPU' },
        runningMode: 'IMAGE',
        outputCategoryMask: true,
        outputConfidenceMasks: false,
      });
      try {
        const result = mp.segment(image);
        const categories = result.categoryMask!.getAsUint8Array();
        let agree = 0;
        for (let i = 0; i < hw; i++) if (categories[i] === classes[i]) agree++;
        result.close();
        return { webcnnIou, tfliteAgreement, agreement: agree / hw };
      } finally {
        mp.close();
      }
    } catch (e) {
      return { webcnnIou, tfliteAgreement, error: String((e as Error).message ?? e).split('\n')[0] };
    }
  },
};

/** MediaPipe's WASM loader and binary, from node_modules (what `FilesetResolver.forVisionTasks` would locate). */
function visionFileset(): Promise<Parameters<typeof MpImageClassifier.createFromOptions>[0]> {
  return Promise.resolve({ wasmLoaderPath: visionLoaderUrl, wasmBinaryPath: visionBinaryUrl });
}

/** An image file drawn onto a `width` x `height` canvas (stretched, the browser's bilinear filter). */
async function imageData(url: string, width: number, height: number): Promise<ImageData> {
  const bitmap = await createImageBitmap(await (await fetch(url)).blob());
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(bitmap, 0, 0, width, height);
  bitmap.close();
  return ctx.getImageData(0, 0, width, height);
}

declare global {
  interface Window {
    tfliteOracle: TfliteOracle;
  }
}
window.tfliteOracle = oracle;
document.getElementById('status')!.textContent = 'ready';
