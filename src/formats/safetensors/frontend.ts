/**
 * The safetensors entry of the format registry. A checkpoint holds weights but no network, so loading needs
 * the `architecture` option. A file too damaged to be recognized but named `.safetensors` still comes here, so
 * that the reader's own error says what is wrong.
 */
import { ModelFormatError } from '../../errors.ts';
import type { FormatFrontend, LoadModelOptions } from '../frontend.ts';
import { hasExtension } from '../frontend.ts';
import type { LoadedModel } from '../model.ts';
import { TORCHVISION_ARCHITECTURES, isSafetensors, loadSafetensors, readSafetensorsHeader } from './index.ts';

export const safetensorsFrontend: FormatFrontend = {
  name: 'safetensors',
  title: 'safetensors',
  sniff: (bytes, fileName) =>
    isSafetensors(bytes) || startsLikeSafetensors(bytes) ? 'signature' : hasExtension(fileName, '.safetensors') ? 'name' : null,
  load: loadCheckpoint,
};

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

/**
 * A safetensors file the strict check (`isSafetensors`) refuses, such as a truncated one: its first 8 bytes are
 * a plausible little-endian header length followed by `{`.
 */
function startsLikeSafetensors(bytes: Uint8Array): boolean {
  if (bytes.length < 9 || bytes[8] !== 0x7b) return false;
  const lo = (bytes[0] | (bytes[1] << 8) | (bytes[2] << 16) | (bytes[3] << 24)) >>> 0;
  return bytes[4] === 0 && bytes[5] === 0 && bytes[6] === 0 && bytes[7] === 0 && lo >= 2 && lo <= 100_000_000;
}
