/**
 * The ONNX entry of the format registry. ONNX has no magic number: a `.onnx` name counts as its signature, and
 * otherwise the first protobuf tag is a guess that loading confirms.
 */
import type { FormatFrontend } from '../frontend.ts';
import { hasExtension } from '../frontend.ts';
import { loadOnnx } from './loader.ts';

export const onnxFrontend: FormatFrontend = {
  name: 'onnx',
  title: 'ONNX',
  sniff: (bytes, fileName) => (hasExtension(fileName, '.onnx') ? 'signature' : looksLikeOnnx(bytes) ? 'guess' : null),
  load: (bytes, options) => loadOnnx(bytes, options.externalData ? { externalData: options.externalData } : {}),
};

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
