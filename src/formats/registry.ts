/**
 * The table of model-file frontends and the one detection path: every frontend sniffs the bytes, and the
 * candidates are tried strongest first (`signature`, then `guess`, then `name`), table order breaking ties.
 * Content always decides before a name: an ONNX file named `.safetensors` loads as ONNX.
 */
import type { FormatFrontend, Sniff } from './frontend.ts';
import { onnxFrontend } from './onnx/frontend.ts';
import { safetensorsFrontend } from './safetensors/frontend.ts';
import { tfliteFrontend } from './tflite/frontend.ts';

/** Table order breaks ties between equally strong sniffs: signatures with magic bytes before ONNX's name. */
export const FRONTENDS: readonly FormatFrontend[] = [tfliteFrontend, safetensorsFrontend, onnxFrontend];

export interface Candidate {
  readonly frontend: FormatFrontend;
  readonly sniff: Sniff;
}

const STRENGTH: Readonly<Record<Sniff, number>> = { signature: 0, guess: 1, name: 2 };

/** The frontends that may read the file, in the order to try them. */
export function candidates(bytes: Uint8Array, fileName?: string): Candidate[] {
  const found: Candidate[] = [];
  for (const frontend of FRONTENDS) {
    const sniff = frontend.sniff(bytes, fileName);
    if (sniff) found.push({ frontend, sniff });
  }
  // Array.prototype.sort is stable, so table order stays within one strength.
  return found.sort((a, b) => STRENGTH[a.sniff] - STRENGTH[b.sniff]);
}
