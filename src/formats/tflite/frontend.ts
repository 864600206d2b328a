/** The TFLite entry of the format registry: the `TFL3` file identifier is its signature. */
import type { FormatFrontend } from '../frontend.ts';
import { hasExtension, NOT_A_MODEL } from '../frontend.ts';
import { isTflite, loadTflite } from './index.ts';

export const tfliteFrontend: FormatFrontend = {
  name: 'tflite',
  title: 'TFLite',
  sniff: (bytes) => (isTflite(bytes) ? 'signature' : null),
  load: (bytes) => loadTflite(bytes),
  mismatch: (bytes, fileName) =>
    hasExtension(fileName, '.tflite') ? `${NOT_A_MODEL} (no TFLite identifier "TFL3" at bytes 4-8${kindHint(bytes)})` : null,
};

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
