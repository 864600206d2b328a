/**
 * `webcnn segment IMAGE... --model FILE`: the class of every pixel, by `ImageSegmenter` (preprocessing, model,
 * arg max and upsampling on the GPU). Per image: the per-class pixel shares on stdout, and in `--out` a mask PNG
 * (indexed colour: pixel value = class index, PASCAL VOC's colours) and an overlay PNG (the image with the
 * classes' colours over it; background left as it is).
 */
import { basename, extname, join } from 'node:path';
import { writeFileSync } from 'node:fs';
import type { LoadedModel } from '../formats/model.ts';
import { detectModelKind } from '../runtime/model-kind.ts';
import type { RgbaImage } from '../runtime/image-input.ts';
import { segmentationPalette } from '../runtime/palette.ts';
import type { SegmentClass } from '../runtime/segmenter.ts';
import { IMAGE_COMMAND_OPTIONS, checkImageArgs, createForModel, screenImages } from './image-batch.ts';
import {
  COMMON_HELP, CliError, MODEL_OPTIONS_HELP, PRECISION_HELP, UsageError, acquireCliDevice,
  ensureOutputDir, fsReason, isStdin, loadCliModel, modelOptions, parseCommandArgs, precisionArg, printable, readLabels, warn,
  writeOut,
} from './common.ts';
import { encodeIndexedPng, encodeRgbaPng } from './png-write.ts';

export const SEGMENT_USAGE = `Usage: webcnn segment IMAGE... --model FILE [options]

Segments PNG, JPEG or BMP images with a semantic-segmentation model (TFLite or ONNX): the class of every
pixel, computed on the GPU at the image's own size. Prints each image's classes with their share of the
pixels, and writes NAME.mask.png (indexed colour: pixel value = class index, PASCAL VOC's colours) and
NAME.overlay.png (the image with the classes' colours over it) into the output folder. An image that cannot be
read as one is reported and skipped (exit status 1). IMAGE may be a pipe; - (or /dev/stdin) reads standard
input (written as stdin.*.png).

Options:
  -m, --model FILE         model file (required): its first output a score per class and pixel [1, C, H, W],
                           or a class per pixel from an arg max in the model
  -l, --labels FILE        class labels, one per line, line N = class N (default: the model's own, if any)
  -o, --out DIR            where to write the PNGs (created if missing; default: the current folder)
      --opacity X          how opaque the classes' colours are in the overlay, 0 to 1 (default 0.5)
      --json               one JSON object per image and line: {"image", "width", "height",
                           "classes": [{"index", "label", "pixels", "share"}], "mask", "overlay", "ms"}
${PRECISION_HELP}
${MODEL_OPTIONS_HELP}
${COMMON_HELP}

Example:
  webcnn segment bird.bmp --model deeplabv3_mnv2_pascal_quant.tflite --labels pascal_voc_segmentation_labels.txt --out masks/`;

const OPTIONS = {
  ...IMAGE_COMMAND_OPTIONS,
  out: { type: 'string', short: 'o' },
  opacity: { type: 'string' },
} as const;

export async function segmentCommand(argv: string[]): Promise<number> {
  const { values, positionals: images } = parseCommandArgs('segment', argv, OPTIONS);
  if (values.help) {
    await writeOut(`${SEGMENT_USAGE}\n`);
    return 0;
  }
  checkImageArgs('segment', images, values.model);
  const opacity = opacityArg(values.opacity);
  const precision = precisionArg(values.precision, 'segment');
  const loadOptions = modelOptions(values, 'segment');
  const outDir = values.out ?? '.';
  if (outDir === '-') throw new UsageError('--out - : the masks are PNG files, two per image; give a folder', 'segment');

  const batch = screenImages(images);
  const { candidates } = batch;
  if (candidates.length === 0) return 1;
  const names = outputNames(candidates);
  const givenLabels = values.labels !== undefined ? readLabels(values.labels) : undefined;
  const { loaded } = await loadCliModel(values.model, loadOptions);
  const classes = segmenterClasses(loaded, values.model);
  const labels = givenLabels && fitLabels(givenLabels, classes, values.labels!);
  const out = ensureOutputDir(outDir);

  const { ImageSegmenter } = await import('../runtime/segmenter.ts');
  const device = await acquireCliDevice();
  let segmenter: Awaited<ReturnType<typeof ImageSegmenter.create>> | undefined;
  let written = 0;
  try {
    segmenter = await createForModel(values.model, () => ImageSegmenter.create(device, loaded, { ...(labels ? { labels } : {}), compile: { precision } }));
    const maxSide = device.limits.maxTextureDimension2D;
    for (const [i, path] of candidates.entries()) {
      const image = batch.decode(path, maxSide);
      if (!image) continue;
      const start = performance.now();
      const result = await segmenter.segment(image);
      const ms = performance.now() - start;
      const maskPath = join(outDir, `${names[i]}.mask.png`);
      const overlayPath = join(outDir, `${names[i]}.overlay.png`);
      const palette = segmentationPalette(Math.max(classes, 1), false);
      const maskPng = result.mask instanceof Uint8Array
        ? encodeIndexedPng(result.mask, result.width, result.height, palette)
        : encodeRgbaPng(colourMask(result.mask, palette), result.width, result.height);
      writeFile(maskPath, maskPng);
      writeFile(overlayPath, encodeRgbaPng(overlay(image, result.mask, segmentationPalette(Math.max(classes, 1)), opacity), result.width, result.height));
      written++;
      const entry = { path, width: result.width, height: result.height, classes: result.classes, maskPath, overlayPath, ms };
      await writeOut(values.json ? jsonLine(entry) : table(entry));
    }
  } finally {
    segmenter?.dispose();
    device.destroy();
    if (written === 0) out.undo();
  }
  return batch.failures > 0 ? 1 : 0;
}

function opacityArg(value: string | undefined): number {
  if (value === undefined) return 0.5;
  const n = Number(value);
  if (value.trim() === '' || !(n >= 0 && n <= 1)) throw new UsageError(`--opacity must be a number from 0 to 1, got '${value}'`, 'segment');
  return n;
}

/** The class count of a segmentation model; a classifier or an unreadable output is a one-line `CliError`. */
export function segmenterClasses(loaded: LoadedModel, model: string): number {
  const kind = detectModelKind(loaded.graph);
  if (kind.kind === 'segmenter') return kind.classes;
  if (kind.kind === 'classifier') {
    throw new CliError(`${model} is an image classification model (one score per class, not per pixel): use webcnn classify`);
  }
  throw new CliError(`${model} is no segmentation model: ${kind.reason}`);
}

/**
 * The labels for `classes` classes: a file with more lines whose lines before the first empty one are exactly
 * the classes (a note after them, as in the PASCAL VOC label file) is taken without a warning.
 */
function fitLabels(labels: string[], classes: number, path: string): string[] {
  if (labels.length === classes) return labels;
  const blank = labels.indexOf('');
  if (blank === classes) return labels.slice(0, classes);
  warn(`${path} has ${labels.length} labels, the model has ${classes} classes; labels may be shifted`);
  return labels;
}

/** Output base names: each image's name without its extension, made unique with -2, -3, ... */
function outputNames(paths: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return paths.map((p) => {
    const file = isStdin(p) ? 'stdin' : basename(p, extname(p)) || 'image';
    const n = (seen.get(file) ?? 0) + 1;
    seen.set(file, n);
    return n === 1 ? file : `${file}-${n}`;
  });
}

function writeFile(path: string, bytes: Uint8Array): void {
  try {
    writeFileSync(path, bytes);
  } catch (e) {
    throw new CliError(`cannot write ${path}: ${fsReason(e)}`);
  }
}

/** RGBA of each pixel's class colour (masks of more than 256 classes, which an indexed PNG cannot hold). */
function colourMask(mask: Int32Array, palette: Uint8Array): Uint8Array {
  const out = new Uint8Array(mask.length * 4);
  mask.forEach((c, i) => out.set(palette.subarray(4 * c, 4 * c + 4), 4 * i));
  return out;
}

/** The image with each pixel's class colour blended over it at `opacity` times the colour's alpha. */
function overlay(image: RgbaImage, mask: Uint8Array | Int32Array, palette: Uint8Array, opacity: number): Uint8Array {
  const out = new Uint8Array(mask.length * 4);
  for (let i = 0; i < mask.length; i++) {
    const c = mask[i];
    const a = (opacity * palette[4 * c + 3]) / 255;
    for (let k = 0; k < 3; k++) out[4 * i + k] = Math.round((1 - a) * image.data[4 * i + k] + a * palette[4 * c + k]);
    out[4 * i + 3] = 255;
  }
  return out;
}

interface Entry {
  path: string;
  width: number;
  height: number;
  classes: readonly SegmentClass[];
  maskPath: string;
  overlayPath: string;
  ms: number;
}

function jsonLine(e: Entry): string {
  const classes = e.classes.map((c) => ({ index: c.index, label: c.label, pixels: c.pixels, share: Number(c.share.toPrecision(6)) }));
  return `${JSON.stringify({ image: e.path, width: e.width, height: e.height, classes, mask: e.maskPath, overlay: e.overlayPath, ms: Math.round(e.ms * 100) / 100 })}\n`;
}

function table(e: Entry): string {
  const lines = [`${printable(e.path)} (${e.width}x${e.height}, ${e.ms.toFixed(1)} ms) -> ${printable(e.maskPath)}, ${printable(e.overlayPath)}`];
  const indexWidth = Math.max(5, ...e.classes.map((c) => String(c.index).length));
  const pixelWidth = Math.max(6, ...e.classes.map((c) => String(c.pixels).length));
  lines.push(`  ${'class'.padStart(indexWidth)}  ${'share'.padStart(7)}  ${'pixels'.padStart(pixelWidth)}  label`);
  for (const c of e.classes) {
    lines.push(`  ${String(c.index).padStart(indexWidth)}  ${`${(100 * c.share).toFixed(2)}%`.padStart(7)}  ${String(c.pixels).padStart(pixelWidth)}  ${printable(c.label)}`);
  }
  return `${lines.join('\n')}\n\n`;
}
