/**
 * The shape of a model-file frontend: one object per format, kept in the table of `registry.ts`. Detection and
 * loading go through that table only, so a new format is one module plus one table entry.
 */
import type { ExternalDataSource } from './onnx/external-data.ts';
import type { TorchvisionArchitecture } from './safetensors/index.ts';
import type { LoadedModel, ModelFormat } from './model.ts';

export interface LoadModelOptions {
  /** Used in error messages, and a `.onnx` extension settles a file with no other signature as ONNX. */
  fileName?: string;
  /** Required for safetensors (the file holds weights, not a graph); ignored by the other formats. */
  architecture?: TorchvisionArchitecture;
  /** safetensors only: class count (default: from the classifier weight), input side (default 224), width. */
  numClasses?: number;
  inputSize?: number;
  widthMultiplier?: number;
  /**
   * ONNX only: the files the model's external tensors name (`data_location` EXTERNAL), by their `location`
   * (bytes per name, or a function returning them); ignored by the other formats.
   */
  externalData?: ExternalDataSource;
}

/**
 * How strongly a file looks like a format. `signature`: its content (or, for ONNX, which has no magic number,
 * its `.onnx` name) says so; loading errors are final. `guess`: a cheap content check that may be wrong; a
 * `ModelFormatError` while loading moves on to the next candidate. `name`: only the file name says so (a
 * damaged file); tried last, and its loader's error explains what is wrong.
 */
export type Sniff = 'signature' | 'guess' | 'name';

export interface FormatFrontend {
  readonly name: ModelFormat;
  /** The format as messages name it (`ONNX`). */
  readonly title: string;
  /** How `bytes` (named `fileName`, when known) look like this format, or null when they do not. */
  sniff(bytes: Uint8Array, fileName?: string): Sniff | null;
  load(bytes: Uint8Array, options: LoadModelOptions): LoadedModel;
  /**
   * For a file named like this format that no frontend recognized: why it is not this format (one line, after
   * `file: `), or null. Lets `.tflite` files say which signature is missing instead of why ONNX failed.
   */
  mismatch?(bytes: Uint8Array, fileName?: string): string | null;
}

/** The start of the error for a file that is no model webcnn reads. */
export const NOT_A_MODEL = 'not a TFLite, ONNX or safetensors model';

export function hasExtension(fileName: string | undefined, extension: string): boolean {
  return fileName?.toLowerCase().endsWith(extension) ?? false;
}
