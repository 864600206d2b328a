/**
 * TFLite (`.tflite` flatbuffer, schema version 3) loader: float32, float16 and quantized (uint8 per-tensor,
 * int8 per-channel) CNN classifiers → graph IR. See `converter.ts` for the layout rules and `ops/` for the ops.
 */
import type { LoadedModel, ModelBytes } from '../model.ts';
import { asModelBytes } from '../model.ts';
import { convertModel } from './convert.ts';
import { hasTfliteIdentifier, readModel } from './schema.ts';

/** True when `bytes` carries the TFLite file identifier `TFL3` at bytes 4..8. */
export function isTflite(bytes: Uint8Array): boolean {
  return bytes instanceof Uint8Array && hasTfliteIdentifier(bytes);
}

/**
 * Parses a `.tflite` file and converts its main subgraph to the graph IR. Throws `ModelFormatError` for a
 * file that is not TFLite or is corrupt (every offset is bounds-checked) and `UnsupportedOpError` naming the
 * op, operator index and subgraph for what the engine cannot run.
 */
export function loadTflite(bytes: ModelBytes): LoadedModel {
  const data = asModelBytes(bytes, 'tflite');
  return convertModel(readModel(data), data);
}

export { samePadding, irShapeFromDims } from './convert.ts';
