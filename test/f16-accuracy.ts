/**
 * Issue #6's accuracy check on the shared real model (MobileNetV2 1.0 224 quant TFLite, dequantized to f32
 * weights) and the shared cat photo, run by the Playwright spec (`e2e/f16.spec.ts`) and by
 * `test/run-gpu-cases.ts` (so that a run on a GPU with `shader-f16` exercises native f16). The image is
 * preprocessed on the CPU by the oracle that `ImageClassifier`'s kernel is checked against (PIL's resize, see
 * src/reference/preprocess.ts), the same input goes to an f32 model
 * and to one per f16 precision, each model reading back both its probabilities (its own softmax, at its
 * precision) and its logits (the softmax's input). Pass: class 286 (Egyptian cat) is top-1 with p >= 0.7, and
 * max |logit - logit_f32| <= 1e-2 * max |logit_f32|.
 */
import type { StoragePrecision } from '../shaders/common.ts';
import { loadModel } from '../src/formats/index.ts';
import { readBmp24 } from './helpers/image.ts';
import type { Graph } from '../src/graph/ir.ts';
import { preprocessReference } from '../src/reference/preprocess.ts';
import { compileModel } from '../src/runtime/compile.ts';
import type { KernelChoice } from '../src/runtime/kernel-choice.ts';
import { NO_SHADER_F16 } from './case-runner.ts';

export const EGYPTIAN_CAT = 286;
export const MIN_CAT_PROBABILITY = 0.7;
export const MAX_RELATIVE_LOGIT_DIFF = 1e-2;

export interface PrecisionAccuracy {
  readonly precision: StoragePrecision;
  /** Set when this precision could not run here (native f16 without `shader-f16`); the rest is then NaN. */
  readonly skipped?: string;
  readonly top1: number;
  readonly catProbability: number;
  /** max |logit - logit_f32| and max |logit_f32|. */
  readonly maxLogitDiff: number;
  readonly maxAbsLogit: number;
  readonly ok: boolean;
}

export interface SharedModelAccuracy {
  /** The f32 model's own figures (its logit difference is 0 by definition). */
  readonly f32: PrecisionAccuracy;
  readonly results: readonly PrecisionAccuracy[];
}

function argmax(v: Float32Array): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}

/** The figures and verdict of one precision against the f32 logits. */
function judge(precision: StoragePrecision, probs: Float32Array, logits: Float32Array, ref: Float32Array): PrecisionAccuracy {
  let maxLogitDiff = 0;
  let maxAbsLogit = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(logits[i] - ref[i]);
    maxLogitDiff = Number.isNaN(d) ? Infinity : Math.max(maxLogitDiff, d);
    maxAbsLogit = Math.max(maxAbsLogit, Math.abs(ref[i]));
  }
  const top1 = argmax(probs);
  const catProbability = probs[EGYPTIAN_CAT];
  const ok = top1 === EGYPTIAN_CAT && catProbability >= MIN_CAT_PROBABILITY && maxLogitDiff <= MAX_RELATIVE_LOGIT_DIFF * maxAbsLogit;
  return { precision, top1, catProbability, maxLogitDiff, maxAbsLogit, ok };
}

/**
 * The shared model's graph with its logits as a second output (before the softmax), and cat.bmp preprocessed on
 * the CPU as the model asks.
 */
export function sharedCatInput(modelBytes: Uint8Array, catBmp: Uint8Array): { graph: Graph; input: Float32Array } {
  const loaded = loadModel(modelBytes, { fileName: 'mobilenet_v2_1.0_224_quant.tflite' });
  const p = loaded.preprocessing;
  if (!p) throw new Error('the shared model has no image preprocessing');
  const softmax = loaded.graph.nodes.find((n) => n.op === 'softmax' && n.output === loaded.graph.outputs[0]);
  if (!softmax) throw new Error('the shared model does not end in a softmax');
  const graph: Graph = { ...loaded.graph, outputs: [loaded.graph.outputs[0], softmax.inputs[0]] };

  const image = readBmp24(catBmp);
  const rgba = new Uint8Array(image.width * image.height * 4);
  for (let i = 0; i < image.width * image.height; i++) {
    for (let c = 0; c < 3; c++) rgba[4 * i + c] = image.data[3 * i + c];
    rgba[4 * i + 3] = 255;
  }
  const input = preprocessReference(rgba, image.width, image.height, p);
  return { graph, input };
}

/**
 * Runs the check for `precisions` (default both f16 modes; 'f16' is reported skipped on a device without
 * `shader-f16`). `modelBytes` is the shared TFLite file, `catBmp` the shared cat.bmp. `kernels`: the kernel choice
 * of the compared models (e.g. fused inverted-residual blocks); the f32 reference keeps the adapter's default.
 */
export async function checkSharedModelAccuracy(
  device: GPUDevice,
  modelBytes: Uint8Array,
  catBmp: Uint8Array,
  precisions: readonly StoragePrecision[] = ['f16-packed', 'f16'],
  kernels?: KernelChoice,
): Promise<SharedModelAccuracy> {
  const { graph, input } = sharedCatInput(modelBytes, catBmp);

  const run = async (precision: StoragePrecision, choice?: KernelChoice): Promise<[Float32Array, Float32Array]> => {
    const model = await compileModel(device, graph, { precision, kernels: choice });
    try {
      const [probs, logits] = await model.run([input]);
      return [probs, logits];
    } finally {
      model.dispose();
    }
  };
  const [probs32, logits32] = await run('f32');
  const results: PrecisionAccuracy[] = [];
  for (const precision of precisions) {
    if (precision === 'f16' && !device.features.has('shader-f16')) {
      results.push({ precision, skipped: NO_SHADER_F16, top1: NaN, catProbability: NaN, maxLogitDiff: NaN, maxAbsLogit: NaN, ok: false });
      continue;
    }
    const [probs, logits] = await run(precision, kernels);
    results.push(judge(precision, probs, logits, logits32));
  }
  return { f32: judge('f32', probs32, logits32, logits32), results };
}

/** One line of figures for logs. */
export function describeAccuracy(a: PrecisionAccuracy): string {
  if (a.skipped) return `${a.precision}: skipped (${a.skipped})`;
  return (
    `${a.precision}: top-1 ${a.top1}, p(Egyptian cat) ${a.catProbability.toFixed(4)}, max|logit diff| ${a.maxLogitDiff.toExponential(2)} ` +
    `= ${(a.maxLogitDiff / a.maxAbsLogit).toExponential(2)} x max|logit_f32| (${a.maxAbsLogit.toFixed(3)})`
  );
}
