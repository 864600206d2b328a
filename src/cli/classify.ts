/**
 * `webcnn classify IMAGE... --model FILE`: top-K classes of each image, with the model's own preprocessing
 * done on the GPU by `ImageClassifier`.
 */
import {
  COMMON_HELP, CliError, MODEL_OPTIONS_HELP, PRECISION_HELP, acquireCliDevice,
  loadCliModel, modelOptions, parseCommandArgs, positiveInt, precisionArg, printable, readLabels, warn, writeOut,
} from './common.ts';
import { detectModelKind } from '../runtime/model-kind.ts';
import { IMAGE_COMMAND_OPTIONS, checkImageArgs, createForModel, screenImages } from './image-batch.ts';

export const CLASSIFY_USAGE = `Usage: webcnn classify IMAGE... --model FILE [options]

Classifies PNG, JPEG or BMP images with an image-classification model (TFLite, ONNX or safetensors),
resizing and normalizing each image on the GPU as the model expects. An image that cannot be read as one is
reported and skipped (exit status 1); one larger than the GPU's largest texture is first shrunk by an integer
factor. IMAGE may be a pipe; - (or /dev/stdin) reads standard input.

Options:
  -m, --model FILE         model file (required)
  -l, --labels FILE        class labels, one per line, line N = class N (default: the model's own, if any)
  -k, --top K              how many classes to show per image (default 5)
      --json               one JSON object per image and line: {"image", "top": [{"index", "label", "score"}], "ms"}
${PRECISION_HELP}
${MODEL_OPTIONS_HELP}
${COMMON_HELP}

Example:
  webcnn classify cat.bmp --model mobilenet_v2_1.0_224_quant.tflite --labels imagenet_labels.txt --top 3`;

export interface Classification {
  readonly index: number;
  readonly label: string;
  readonly score: number;
}

const OPTIONS = {
  ...IMAGE_COMMAND_OPTIONS,
  top: { type: 'string', short: 'k' },
} as const;

export async function classifyCommand(argv: string[]): Promise<number> {
  const { values, positionals: images } = parseCommandArgs('classify', argv, OPTIONS);
  if (values.help) {
    await writeOut(`${CLASSIFY_USAGE}\n`);
    return 0;
  }
  checkImageArgs('classify', images, values.model);
  const topK = positiveInt(values.top, '--top', 'classify') ?? 5;
  const precision = precisionArg(values.precision, 'classify');
  const loadOptions = modelOptions(values, 'classify');

  const batch = screenImages(images);
  const { candidates } = batch;
  if (candidates.length === 0) return 1;
  const labels = values.labels !== undefined ? readLabels(values.labels) : undefined;
  const { loaded } = await loadCliModel(values.model, loadOptions);
  const kind = detectModelKind(loaded.graph);
  if (kind.kind === 'segmenter') {
    throw new CliError(`${values.model} is an image segmentation model (a ${kind.output === 'mask' ? 'class' : 'score per class'} per pixel, not per image): use webcnn segment`);
  }
  const classes = loaded.graph.tensors[loaded.graph.outputs[0]].shape[1];
  if (labels && labels.length !== classes) {
    // Typically 1000 ImageNet labels for a 1001-class model (index 0 = background) or the other way round.
    warn(`${values.labels} has ${labels.length} labels, the model has ${classes} classes; labels may be shifted`);
  }

  const { ImageClassifier } = await import('../runtime/classifier.ts');
  const device = await acquireCliDevice();
  let classifier: Awaited<ReturnType<typeof ImageClassifier.create>> | undefined;
  try {
    classifier = await createForModel(values.model, () => ImageClassifier.create(device, loaded, { ...(labels ? { labels } : {}), compile: { precision } }));
    const maxSide = device.limits.maxTextureDimension2D;
    for (const path of candidates) {
      const image = batch.decode(path, maxSide);
      if (!image) continue;
      const start = performance.now();
      const top: Classification[] = await classifier.classify(image, { topK });
      const ms = performance.now() - start;
      await writeOut(values.json ? jsonLine(path, top, ms) : table(path, image, top, ms));
    }
  } finally {
    classifier?.dispose();
    device.destroy();
  }
  return batch.failures > 0 ? 1 : 0;
}

function jsonLine(image: string, top: readonly Classification[], ms: number): string {
  const rounded = top.map((t) => ({ index: t.index, label: t.label, score: Number(t.score.toPrecision(6)) }));
  return `${JSON.stringify({ image, top: rounded, ms: Math.round(ms * 100) / 100 })}\n`;
}

function table(path: string, image: { width: number; height: number }, top: readonly Classification[], ms: number): string {
  // Paths and labels (a model file's labels are anyone's text) are printed with control characters escaped.
  const lines = [`${printable(path)} (${image.width}x${image.height}, ${ms.toFixed(1)} ms)`];
  const indexWidth = Math.max(5, ...top.map((t) => String(t.index).length));
  lines.push(`  ${'rank'.padStart(4)}  ${'class'.padStart(indexWidth)}  ${'score'.padStart(7)}  label`);
  top.forEach((t, i) => {
    lines.push(`  ${String(i + 1).padStart(4)}  ${String(t.index).padStart(indexWidth)}  ${t.score.toFixed(4).padStart(7)}  ${printable(t.label)}`);
  });
  return `${lines.join('\n')}\n\n`;
}
