/**
 * One entry point for every model file webcnn reads: TFLite flatbuffers, ONNX protobufs and safetensors
 * torchvision checkpoints, told apart by their bytes (the file name only breaks ties for ONNX, which has no
 * magic number).
 */
import { ModelFormatError, WebcnnError } from '../errors.ts';
import type { LoadedModel, ModelFormat } from './model.ts';
import { loadOnnx } from './onnx/index.ts';
import type { TorchvisionArchitecture } from './safetensors/index.ts';
import { TORCHVISION_ARCHITECTURES, isSafetensors, loadSafetensors } from './safetensors/index.ts';
import { isTflite, loadTflite } from './tflite/index.ts';

export type { LoadedModel, ModelFormat, Preprocessing } from './model.ts';
export { TORCHVISION_PREPROCESSING } from './model.ts';
export type { TorchvisionArchitecture } from './safetensors/index.ts';
export { TORCHVISION_ARCHITECTURES } from './safetensors/index.ts';

export interface LoadModelOptions {
  /** Used in error messages, and a `.onnx` extension settles a file with no other signature as ONNX. */
  fileName?: string;
  /** Required for safetensors (the file holds weights, not a graph); ignored by the other formats. */
  architecture?: TorchvisionArchitecture;
  /** safetensors only: class count (default: from the classifier weight), input side (default 224), width. */
  numClasses?: number;
  inputSize?: number;
  widthMultiplier?: number;
}

/** The format of a model file from its bytes (and name), or null when it is none webcnn reads. */
export function detectModelFormat(bytes: Uint8Array, fileName?: string): ModelFormat | null {
  if (isTflite(bytes)) return 'tflite';
  if (isSafetensors(bytes)) return 'safetensors';
  if (fileName?.toLowerCase().endsWith('.onnx') || looksLikeOnnx(bytes)) return 'onnx';
  return null;
}

/**
 * Loads a TFLite, ONNX or safetensors model. A safetensors file needs `architecture`. Anything else is a
 * `ModelFormatError` naming the file.
 */
export function loadModel(bytes: Uint8Array, options: LoadModelOptions = {}): LoadedModel {
  try {
    return loadAny(bytes, options);
  } catch (e) {
    throw options.fileName ? withFileName(e, options.fileName) : e;
  }
}

/** The same error (same class) with `file: ` in front of its message, unless it names the file already. */
function withFileName(e: unknown, file: string): unknown {
  if (!(e instanceof WebcnnError) || e.message.includes(file)) return e;
  const Class = e.constructor as new (message: string, options?: ErrorOptions) => WebcnnError;
  try {
    return new Class(`${file}: ${e.message}`, { cause: e });
  } catch {
    return e;
  }
}

function loadAny(bytes: Uint8Array, options: LoadModelOptions): LoadedModel {
  const file = options.fileName ?? 'model';
  if (options.architecture !== undefined && !TORCHVISION_ARCHITECTURES.includes(options.architecture)) {
    throw new ModelFormatError(
      `unknown architecture ${JSON.stringify(options.architecture)}; expected one of ${TORCHVISION_ARCHITECTURES.join(', ')}`,
    );
  }
  if (isTflite(bytes)) return loadTflite(bytes);
  if (isSafetensors(bytes)) {
    if (!options.architecture) {
      throw new ModelFormatError(
        `${file} is a safetensors checkpoint, which holds weights but no network: pass --arch ` +
          `(${TORCHVISION_ARCHITECTURES.join(' or ')}) to say which torchvision model it is`,
      );
    }
    return loadSafetensors(bytes, {
      architecture: options.architecture,
      numClasses: options.numClasses,
      inputSize: options.inputSize,
      widthMultiplier: options.widthMultiplier,
    });
  }
  if (options.fileName?.toLowerCase().endsWith('.onnx')) return loadOnnx(bytes);
  if (looksLikeOnnx(bytes)) {
    try {
      return loadOnnx(bytes);
    } catch (e) {
      // Reading it as ONNX was a guess from the first byte: a file it does not decode as is none of the three.
      if (e instanceof WebcnnError && !(e instanceof ModelFormatError)) throw e;
      throw new ModelFormatError(`${file}: not a TFLite, ONNX or safetensors model (as ONNX: ${(e as Error).message})`);
    }
  }
  throw new ModelFormatError(`${file}: not a TFLite, ONNX or safetensors model`);
}

/**
 * A cheap guess at an ONNX ModelProto: a protobuf whose first field is one ModelProto has (ir_version = 1
 * varint, opset_import = 8, producer_name = 2, ... graph = 7), with a sane tag byte.
 */
function looksLikeOnnx(bytes: Uint8Array): boolean {
  if (bytes.length < 4) return false;
  const tag = bytes[0];
  const field = tag >> 3;
  const wire = tag & 7;
  if (field === 1 && wire === 0) return true; // ir_version
  return [2, 3, 4, 6, 7, 8, 14, 20].includes(field) && wire === 2;
}
