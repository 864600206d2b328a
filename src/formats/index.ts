/**
 * One entry point for every model file webcnn reads: TFLite flatbuffers, ONNX protobufs and safetensors
 * torchvision checkpoints, told apart by their bytes. The file name breaks ties: `.onnx` for ONNX, which has no
 * magic number; when the content matches none of the three, `.safetensors` (a checkpoint too damaged to be
 * recognized) reports the safetensors reader's error and `.tflite` says that the TFLite identifier is missing,
 * not why ONNX failed. Content always decides first: an ONNX file named `.safetensors` loads as ONNX.
 */
import { ModelFormatError, WebcnnError } from '../errors.ts';
import type { LoadedModel, ModelBytes, ModelFormat } from './model.ts';
import { asModelBytes } from './model.ts';
import { loadOnnx } from './onnx/index.ts';
import type { TorchvisionArchitecture } from './safetensors/index.ts';
import { TORCHVISION_ARCHITECTURES, isSafetensors, loadSafetensors, readSafetensorsHeader } from './safetensors/index.ts';
import { isTflite, loadTflite } from './tflite/index.ts';

export type { InputQuantization, LoadedModel, ModelBytes, ModelFormat, Preprocessing } from './model.ts';
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
export function detectModelFormat(file: ModelBytes, fileName?: string): ModelFormat | null {
  const bytes = asModelBytes(file, fileName ?? 'model');
  if (isTflite(bytes)) return 'tflite';
  if (isSafetensors(bytes) || startsLikeSafetensors(bytes)) return 'safetensors';
  if (fileName?.toLowerCase().endsWith('.onnx') || looksLikeOnnx(bytes)) return 'onnx';
  return namedSafetensors(fileName) ? 'safetensors' : null;
}

/**
 * Loads a TFLite, ONNX or safetensors model. A safetensors file needs `architecture`. Anything else is a
 * `ModelFormatError` naming the file.
 */
export function loadModel(bytes: ModelBytes, options: LoadModelOptions = {}): LoadedModel {
  let loaded: LoadedModel;
  try {
    loaded = loadAny(asModelBytes(bytes, options.fileName ?? 'model'), options);
  } catch (e) {
    throw options.fileName ? withFileName(e, options.fileName) : e;
  }
  const file = options.fileName;
  if (!file || !loaded.warnings?.length) return loaded;
  return { ...loaded, warnings: loaded.warnings.map((w) => (w.startsWith(`${file}:`) ? w : `${file}: ${w}`)) };
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
  if (isSafetensors(bytes) || startsLikeSafetensors(bytes)) return loadCheckpoint(bytes, options);
  if (options.fileName?.toLowerCase().endsWith('.onnx')) return loadOnnx(bytes);
  // Named .safetensors but matching no format's content: the safetensors reader's own error says what is wrong.
  const namedCheckpoint = namedSafetensors(options.fileName);
  // Named .tflite but without the TFLite identifier: ONNX content still loads; otherwise say why it is not TFLite.
  const notTflite = options.fileName?.toLowerCase().endsWith('.tflite')
    ? `${file}: not a TFLite, ONNX or safetensors model (no TFLite identifier "TFL3" at bytes 4-8${kindHint(bytes)})`
    : null;
  if (looksLikeOnnx(bytes)) {
    try {
      return loadOnnx(bytes);
    } catch (e) {
      // Reading it as ONNX was a guess from the first byte: a file it does not decode as is none of the three.
      if (e instanceof WebcnnError && !(e instanceof ModelFormatError)) throw e;
      if (namedCheckpoint) return loadCheckpoint(bytes, options);
      throw new ModelFormatError(notTflite ?? `${file}: not a TFLite, ONNX or safetensors model (as ONNX: ${(e as Error).message})`);
    }
  }
  if (namedCheckpoint) return loadCheckpoint(bytes, options);
  throw new ModelFormatError(notTflite ?? `${file}: not a TFLite, ONNX or safetensors model`);
}

/** A safetensors checkpoint, or one too damaged to be recognized (the reader's error says what is wrong). */
function loadCheckpoint(bytes: Uint8Array, options: LoadModelOptions): LoadedModel {
  const file = options.fileName ?? 'model';
  if (!isSafetensors(bytes)) readSafetensorsHeader(bytes);
  if (!options.architecture) {
    throw new ModelFormatError(
      `${file} is a safetensors checkpoint, which holds weights but no network: pass the architecture option ` +
        `(${TORCHVISION_ARCHITECTURES.join(' or ')}; CLI: --arch) to say which torchvision model it is`,
    );
  }
  return loadSafetensors(bytes, {
    architecture: options.architecture,
    numClasses: options.numClasses,
    inputSize: options.inputSize,
    widthMultiplier: options.widthMultiplier,
  });
}

function namedSafetensors(fileName?: string): boolean {
  return fileName?.toLowerCase().endsWith('.safetensors') ?? false;
}

/**
 * A safetensors file the strict check (`isSafetensors`) refuses, such as a truncated one: its first 8 bytes are
 * a plausible little-endian header length followed by `{`.
 */
function startsLikeSafetensors(bytes: Uint8Array): boolean {
  if (bytes.length < 9 || bytes[8] !== 0x7b) return false;
  const lo = (bytes[0] | (bytes[1] << 8) | (bytes[2] << 16) | (bytes[3] << 24)) >>> 0;
  return bytes[4] === 0 && bytes[5] === 0 && bytes[6] === 0 && bytes[7] === 0 && lo >= 2 && lo <= 100_000_000;
}

/** `; it looks like a PNG image` for a few common kinds of file passed by mistake, else ''. */
function kindHint(bytes: Uint8Array): string {
  const starts = (...sig: number[]) => bytes.length >= sig.length && sig.every((b, i) => bytes[i] === b);
  const kind = starts(0x42, 0x4d) ? 'a BMP image'
    : starts(0x89, 0x50, 0x4e, 0x47) ? 'a PNG image'
    : starts(0xff, 0xd8, 0xff) ? 'a JPEG image'
    : starts(0x50, 0x4b, 0x03, 0x04) ? 'a zip archive'
    : null;
  return kind ? `; it looks like ${kind}` : '';
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
