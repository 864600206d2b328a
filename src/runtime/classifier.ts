import { DisposedError } from '../errors.ts';
import type { LoadedModel, Preprocessing } from '../formats/model.ts';
import type { CompileOptions } from './compile-options.ts';
import { compileModel } from './compile.ts';
import type { CompiledModel } from './compiled-model.ts';
import type { ImageSource } from './image-input.ts';
import { ImageInput, checkImageInput, checkImageSource, mergePreprocessing, preprocessPipelines } from './image-input.ts';
import { requireClassifier } from './model-kind.ts';

export type { ImageSource, RgbaImage } from './image-input.ts';
export { cropFor } from './image-input.ts';

export interface Classification {
  readonly index: number;
  readonly label: string;
  readonly score: number;
}

export interface ClassifyOptions {
  /** How many classes to return, best first: a positive whole number, default 5 (all classes when it exceeds them). */
  readonly topK?: number;
}

export interface ClassifierOptions {
  /** Class names, line N = class N; defaults to the model's own labels, else `class N`. */
  readonly labels?: readonly string[];
  /** How the model is compiled (precision, kernels, tuning), as `compileModel` takes it; default: its defaults. */
  readonly compile?: CompileOptions;
  /**
   * Fields that replace the model's own preprocessing (`LoadedModel.preprocessing`), e.g. `{ mean, std }` for a
   * network trained on other statistics, or `{ resize: 'stretch', cropFraction: 1 }`. A model without
   * preprocessing needs every field here.
   */
  readonly preprocessing?: Partial<Preprocessing>;
}

/** Indices of the `k` largest scores, best first. */
export function topK(scores: Float32Array, k: number): number[] {
  const order = Array.from(scores.keys());
  order.sort((a, b) => scores[b] - scores[a] || a - b);
  return order.slice(0, Math.max(0, Math.min(k, scores.length)));
}

export function softmaxInPlace(v: Float32Array): Float32Array {
  let max = -Infinity;
  for (const x of v) max = Math.max(max, x);
  let sum = 0;
  for (let i = 0; i < v.length; i++) {
    v[i] = Math.exp(v[i] - max);
    sum += v[i];
  }
  for (let i = 0; i < v.length; i++) v[i] /= sum;
  return v;
}

/**
 * Classifies images on the GPU: the image goes into a texture (video frames are imported without a copy), a
 * preprocessing kernel crops, resizes and normalises it into the model's input buffer (`ImageInput`), and the
 * model runs in the same submit.
 */
export class ImageClassifier {
  /** Tail of the call queue: calls share the uniforms, texture and model input, so they run one at a time. */
  private queue: Promise<unknown> = Promise.resolve();
  private disposed = false;

  private constructor(
    readonly model: CompiledModel,
    private readonly input: ImageInput,
    readonly labels: readonly string[],
    private readonly outputsProbabilities: boolean,
  ) {}

  get preprocessing(): Preprocessing {
    return this.input.preprocessing;
  }

  /**
   * Compiles `loaded` as an image classifier on `device`, with the preprocessing pipelines. The model must take one
   * `[1, 3, H, W]` image (else a `ShapeError`), give `[1, C, 1, 1]` scores first (else a `ModelKindError`, which
   * says when the model is a segmenter) and have preprocessing (else an `UnsupportedFeatureError`); what was
   * compiled is disposed when it fails. Call `dispose()` when done.
   */
  static async create(device: GPUDevice, loaded: LoadedModel, options: ClassifierOptions = {}): Promise<ImageClassifier> {
    const preprocessing = mergePreprocessing(loaded.preprocessing, options.preprocessing);
    const graph = loaded.graph;
    checkImageInput(graph.inputs.map((id) => graph.tensors[id].shape), preprocessing, 'an image classifier');
    const classes = requireClassifier(graph);
    const [texturePipeline, externalPipeline] = preprocessPipelines(device);
    // allSettled, not all: when a pipeline fails, wait for the model so that it can be disposed rather than leaked.
    const [compiled, texture, external] = await Promise.allSettled([compileModel(device, graph, options.compile), texturePipeline, externalPipeline]);
    if (compiled.status === 'rejected') throw compiled.reason;
    const model = compiled.value;
    try {
      if (texture.status === 'rejected') throw texture.reason;
      if (external.status === 'rejected') throw external.reason;
      const labels = options.labels ?? loaded.labels ?? [];
      const named = Array.from({ length: classes }, (_, i) => labels[i] ?? `class ${i}`);
      const input = new ImageInput(device, preprocessing, model.rawInputBuffer(0), texture.value, external.value);
      return new ImageClassifier(model, input, named, loaded.outputsProbabilities);
    } catch (e) {
      model.dispose();
      throw e;
    }
  }

  /** Top-K classes with probabilities (softmax applied when the model outputs logits). */
  async classify(source: ImageSource, options: ClassifyOptions = {}): Promise<Classification[]> {
    const k = options.topK ?? 5;
    if (!Number.isInteger(k) || k < 1) {
      throw new RangeError(`topK must be a positive whole number, got ${typeof k === 'number' ? k : JSON.stringify(k)}`);
    }
    const scores = await this.scores(source);
    return topK(scores, k).map((index) => ({ index, label: this.labels[index], score: scores[index] }));
  }

  /** Class probabilities for one image. */
  async scores(source: ImageSource): Promise<Float32Array> {
    this.checkNotDisposed();
    checkImageSource(source, 'classify');
    // The whole call is queued, not just the model run: uniforms and texture are written when the call's turn
    // comes, so a concurrent call cannot overwrite (or destroy) them before this one's submit.
    const result = this.queue.then(() => this.runOne(source));
    this.queue = result.catch(() => undefined);
    const out = await result;
    return this.outputsProbabilities ? out : softmaxInPlace(out);
  }

  /** Frees the GPU resources; later calls reject with `DisposedError`. Safe to call more than once. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.input.dispose();
    this.model.dispose();
  }

  private checkNotDisposed(): void {
    if (this.disposed) throw new DisposedError('the classifier was disposed; create it again to classify');
  }

  /** One call, run when the queue reaches it. */
  private async runOne(source: ImageSource): Promise<Float32Array> {
    // Checked again here: dispose() may have come while this call waited in the queue.
    this.checkNotDisposed();
    const [width, height] = this.input.measure(source);
    // Recorded right away in runWith: from here to the submit there are only microtasks (the model's own queue
    // is idle, since this classifier's calls run one at a time).
    const prelude = await this.input.prepare(source, width, height);
    const [out] = await this.model.runWith(prelude);
    return out;
  }
}
