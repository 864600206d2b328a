/**
 * What `classify` and `segment` share around their model: their common options, the image arguments' checks, the
 * screening of images before the model is loaded, per-image error reporting, and wrapping a runner's creation
 * errors.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { WebcnnError } from '../errors.ts';
import type { RgbaImage } from '../runtime/image-input.ts';
import {
  COMMON_OPTIONS, CliError, MODEL_OPTIONS, PRECISION_OPTIONS, UsageError, checkReadable, fsReason, isStdin, oneLine, readInputFile,
} from './common.ts';
import { decodeImage, shrinkToFit, sniffImage } from './images.ts';

/** The options of both image commands: the common ones, the model's, `--precision`, `--model`, `--labels`, `--json`. */
export const IMAGE_COMMAND_OPTIONS = {
  ...COMMON_OPTIONS,
  ...MODEL_OPTIONS,
  ...PRECISION_OPTIONS,
  model: { type: 'string', short: 'm' },
  labels: { type: 'string', short: 'l' },
  json: { type: 'boolean' },
} as const;

/** The usage errors of an image command: no image, standard input twice, no model. */
export function checkImageArgs(command: string, images: readonly string[], model: string | undefined): asserts model is string {
  if (images.length === 0) throw new UsageError('no image given', command);
  if (images.filter(isStdin).length > 1) throw new UsageError('standard input can be read once: give - (or /dev/stdin) at most once', command);
  if (!model) throw new UsageError('--model FILE is required', command);
}

export interface ImageBatch {
  /** The images that look like images, in order. */
  readonly candidates: readonly string[];
  /** Reports a typed error for one image (on stderr) and counts it; rethrows anything else. */
  report(e: unknown): void;
  /** The image decoded (shrunk to fit `maxSide`), or undefined after reporting why not. */
  decode(path: string, maxSide: number): RgbaImage | undefined;
  readonly failures: number;
}

/**
 * Everything that can fail cheaply, before the model is loaded and the GPU is started: a missing file stops the
 * command; a file that is not an image is reported and skipped, like one that later does not decode.
 */
export function screenImages(images: readonly string[]): ImageBatch {
  for (const image of images) checkReadable(image, 'image');
  let failures = 0;
  const report = (e: unknown): void => {
    // One bad image does not stop the others; it is reported and makes the exit status 1.
    if (!(e instanceof WebcnnError)) throw e;
    process.stderr.write(`webcnn: ${oneLine(e.message)}\n`);
    failures++;
  };
  const candidates = images.filter((path) => {
    try {
      checkImageSignature(path);
      return true;
    } catch (e) {
      report(e);
      return false;
    }
  });
  return {
    candidates,
    report,
    decode(path, maxSide) {
      try {
        return shrinkToFit(decodeImage(readInputFile(path, 'image'), path), maxSide);
      } catch (e) {
        report(e);
        return undefined;
      }
    },
    get failures() {
      return failures;
    },
  };
}

/** `create()`, with a typed error from the engine said as the model's (a CLI error passes as it is). */
export async function createForModel<T>(model: string, create: () => Promise<T>): Promise<T> {
  try {
    return await create();
  } catch (e) {
    if (e instanceof WebcnnError && !(e instanceof CliError)) throw new CliError(`model ${model}: ${e.message}`, { cause: e });
    throw e;
  }
}

/** Refuses a regular file whose first bytes are no PNG, JPEG or BMP signature (a pipe is read in full later). */
export function checkImageSignature(path: string): void {
  if (isStdin(path) || !statSync(path).isFile()) return;
  const head = new Uint8Array(8);
  let read: number;
  try {
    const fd = openSync(path, 'r');
    try {
      read = readSync(fd, head, 0, head.length, 0);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    throw new CliError(`cannot read image ${path}: ${fsReason(e)}`);
  }
  if (sniffImage(head.subarray(0, read)) === null) throw new CliError(`${path}: not a PNG, JPEG or BMP image`);
}
