import { ModelFormatError } from '../errors.ts';
import type { Graph } from '../graph/ir.ts';
import { classOf } from '../util/describe.ts';

/**
 * What every loader returns: the graph IR plus what it takes to feed the model an image and to read its
 * result. Loaders validate before they allocate and throw `ModelFormatError` / `UnsupportedOpError` (from
 * `src/errors.ts`) with a one-line message naming the op, node and what is wrong.
 */
export type ModelFormat = 'tflite' | 'onnx' | 'safetensors';

/**
 * How an RGB image becomes the network's input tensor. Pixels are first scaled to [0, 1]; the input is then
 * `x = (p - mean) / std` per channel. A TFLite uint8 input with scale 1/128 and zero point 128 is
 * `mean = std = 128/255`; torchvision is `mean = [0.485, 0.456, 0.406]`, `std = [0.229, 0.224, 0.225]`.
 */
export interface Preprocessing {
  /** `[height, width]` of the network input. */
  readonly size: readonly [number, number];
  /**
   * `stretch`: resize the whole image to `size` (the TFLite/Coral convention). `center-crop`: resize the short
   * side to `size / cropFraction`, then take the centre `size` (torchvision's Resize(256) + CenterCrop(224)).
   */
  readonly resize: 'stretch' | 'center-crop';
  readonly cropFraction: number;
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
}

export const TORCHVISION_PREPROCESSING: Preprocessing = {
  size: [224, 224],
  resize: 'center-crop',
  cropFraction: 0.875,
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
};

export interface LoadedModel {
  readonly format: ModelFormat;
  readonly graph: Graph;
  /**
   * Each graph input's and output's dims as the model file declares them (NCHW order for ONNX, rank 1 to 4;
   * the IR itself always uses `[n, c, h, w]`). `webcnn run` reads and writes `.npy` files with these shapes.
   */
  readonly inputDims: readonly (readonly number[])[];
  readonly outputDims: readonly (readonly number[])[];
  /** How to turn an image into the first input, when the model is an image classifier. */
  readonly preprocessing?: Preprocessing;
  /** Class labels from the model's metadata, when it carries them. */
  readonly labels?: readonly string[];
  /** True when the first output is already a probability distribution (softmax inside the model). */
  readonly outputsProbabilities: boolean;
  /** Free-form facts for `webcnn info` (producer, opset, quantization, ...). */
  readonly metadata: Readonly<Record<string, string | number>>;
  /**
   * Non-fatal findings, one line each, that the user should hear about (e.g. a TFLite file whose appended label
   * archive is truncated: the model loads, its labels are lost). The CLI prints them as `webcnn: warning: ...`.
   */
  readonly warnings?: readonly string[];
  /**
   * Per graph input, how the file's integer input maps to the real values the graph computes on, where the model
   * declares a quantized integer input (TFLite uint8 / int8: `real = scale * (q - zeroPoint)`); null for a float
   * input. `webcnn run` applies it to integer `.npy` inputs.
   */
  readonly inputQuantization?: readonly (InputQuantization | null)[];
}

/** A model file's contents as the loaders take them: a Uint8Array (Node's Buffer), another typed array or DataView, or an ArrayBuffer. */
export type ModelBytes = ArrayBufferView | ArrayBufferLike;

/** `bytes` as a Uint8Array over the same memory (no copy); anything else is a `ModelFormatError` naming `what`. */
export function asModelBytes(bytes: unknown, what: string): Uint8Array {
  if (bytes instanceof Uint8Array) return bytes;
  if (ArrayBuffer.isView(bytes)) return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && bytes instanceof SharedArrayBuffer)) {
    return new Uint8Array(bytes);
  }
  const got = bytes !== null && typeof bytes === 'object' ? classOf(bytes) : typeof bytes === 'string' ? 'a string' : String(bytes);
  throw new ModelFormatError(`${what}: expected the file contents as a Uint8Array, ArrayBuffer or other typed array, got ${got}`);
}

/** How a quantized integer input maps to real values: `real = scale * (q - zeroPoint)`. */
export interface InputQuantization {
  readonly type: 'uint8' | 'int8';
  readonly scale: number;
  readonly zeroPoint: number;
}
