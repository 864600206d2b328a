/**
 * One entry point for every model file webcnn reads: TFLite flatbuffers, ONNX protobufs and safetensors
 * torchvision checkpoints, told apart by their bytes through the frontend table of `registry.ts` (see there for
 * the order). The file name breaks ties: `.onnx` for ONNX, which has no magic number; when the content matches
 * none of the three, `.safetensors` (a checkpoint too damaged to be recognized) reports the safetensors
 * reader's error and `.tflite` says that the TFLite identifier is missing, not why ONNX failed. Content always
 * decides first: an ONNX file named `.safetensors` loads as ONNX.
 */
import { ModelFormatError, WebcnnError } from '../errors.ts';
import type { LoadModelOptions } from './frontend.ts';
import { NOT_A_MODEL } from './frontend.ts';
import type { LoadedModel, ModelBytes, ModelFormat } from './model.ts';
import { asModelBytes } from './model.ts';
import { candidates, FRONTENDS } from './registry.ts';
import { TORCHVISION_ARCHITECTURES } from './safetensors/index.ts';

export type { FormatFrontend, LoadModelOptions, Sniff } from './frontend.ts';
export type { InputQuantization, LoadedModel, ModelBytes, ModelFormat, Preprocessing } from './model.ts';
export { TORCHVISION_PREPROCESSING } from './model.ts';
export { FRONTENDS } from './registry.ts';
export type { TorchvisionArchitecture } from './safetensors/index.ts';
export { TORCHVISION_ARCHITECTURES } from './safetensors/index.ts';

/** The format of a model file from its bytes (and name), or null when it is none webcnn reads. */
export function detectModelFormat(file: ModelBytes, fileName?: string): ModelFormat | null {
  const bytes = asModelBytes(file, fileName ?? 'model');
  return candidates(bytes, fileName)[0]?.frontend.name ?? null;
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
  let guessError: string | null = null;
  for (const { frontend, sniff } of candidates(bytes, options.fileName)) {
    if (sniff !== 'guess') return frontend.load(bytes, options);
    try {
      return frontend.load(bytes, options);
    } catch (e) {
      // A guess from a few bytes: a file that does not decode as that format may still be another.
      if (e instanceof WebcnnError && !(e instanceof ModelFormatError)) throw e;
      guessError ??= `as ${frontend.title}: ${(e as Error).message}`;
    }
  }
  // Named like a format whose signature is missing: say that, rather than why a guess failed.
  for (const frontend of FRONTENDS) {
    const why = frontend.mismatch?.(bytes, options.fileName);
    if (why) throw new ModelFormatError(`${file}: ${why}`);
  }
  throw new ModelFormatError(`${file}: ${NOT_A_MODEL}${guessError ? ` (${guessError})` : ''}`);
}
