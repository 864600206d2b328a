import { packUniforms, uniformByteSize } from '../../shaders/common.ts';
import type { CropRect } from '../../shaders/preprocess.ts';
import { preprocessProgram, preprocessUniforms } from '../../shaders/preprocess.ts';
import { DisposedError, ShapeError, UnsupportedFeatureError } from '../errors.ts';
import type { LoadedModel, Preprocessing } from '../formats/model.ts';
import { pipelineCacheFor } from '../gpu/pipeline-cache.ts';
import type { CompileOptions } from './compile-options.ts';
import { compileModel } from './compile.ts';
import { CompiledModel } from './compiled-model.ts';
import { classOf } from '../util/describe.ts';

/** Decoded RGBA8 pixels (what Node's image decoders produce, and `ImageData` in the browser). */
export interface RgbaImage {
  readonly data: Uint8Array | Uint8ClampedArray;
  readonly width: number;
  readonly height: number;
}

/** Everything `classify` accepts: decoded pixels, or any browser image source. */
export type ImageSource = RgbaImage | GPUCopyExternalImageSource;

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

/**
 * The part of the source image that is resized to the network input, in source pixels (fractional).
 * 'center-crop' is torchvision's `Resize(S)` + `CenterCrop(size)`, `S = round(min(size) / cropFraction)`,
 * mapped back to the source exactly: the short side is resized to `S` and the long side to
 * `floor(S * long / short)` (so each axis has its own scale, as there), and the crop starts at
 * `round((resized - size) / 2)` resized pixels (Python's round, half to even). An axis where the crop is
 * larger than the resized image is taken whole (stretched; torchvision would pad).
 */
export function cropFor(width: number, height: number, p: Preprocessing): CropRect {
  if (p.resize === 'stretch') return { x: 0, y: 0, width, height };
  const [outH, outW] = p.size;
  const short = Math.round(Math.min(outH, outW) / p.cropFraction);
  const [resizedW, resizedH] = width <= height ? [short, Math.floor((short * height) / width)] : [Math.floor((short * width) / height), short];
  const axis = (size: number, resized: number, out: number): [number, number] => {
    if (out > resized) return [0, size];
    const scale = size / resized;
    return [roundHalfEven((resized - out) / 2) * scale, out * scale];
  };
  const [x, cw] = axis(width, resizedW, outW);
  const [y, ch] = axis(height, resizedH, outH);
  return { x, y, width: cw, height: ch };
}

/** Python 3's `round` for a whole or half number: halves go to the even neighbour. */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
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

/** The model's preprocessing with `override` over it, checked; an incomplete result is refused. */
function mergePreprocessing(own: Preprocessing | undefined, override: Partial<Preprocessing> = {}): Preprocessing {
  // An explicitly undefined field keeps the model's value rather than erasing it.
  const given = Object.fromEntries(Object.entries(override).filter(([, v]) => v !== undefined));
  const p = { ...own, ...given } as Partial<Preprocessing>;
  if (p.size === undefined || p.resize === undefined || p.cropFraction === undefined || p.mean === undefined || p.std === undefined) {
    throw new UnsupportedFeatureError(
      'the model has no image preprocessing: it is not an image classifier (or give every field of the preprocessing option)',
    );
  }
  const size: unknown = p.size;
  if (!(Array.isArray(size) && size.length === 2 && size.every((x) => Number.isInteger(x) && x > 0))) {
    throw new RangeError(`preprocessing.size must be two positive integers [height, width], got ${JSON.stringify(size)}`);
  }
  if (p.resize !== 'stretch' && p.resize !== 'center-crop') {
    throw new RangeError(`preprocessing.resize must be 'stretch' or 'center-crop', got ${JSON.stringify(p.resize)}`);
  }
  if (!(p.cropFraction > 0 && p.cropFraction <= 1)) throw new RangeError(`preprocessing.cropFraction must be in (0, 1], got ${p.cropFraction}`);
  const triple = (v: unknown, nonZero: boolean) =>
    Array.isArray(v) && v.length === 3 && v.every((x) => Number.isFinite(x) && !(nonZero && x === 0));
  if (!triple(p.mean, false)) throw new RangeError(`preprocessing.mean must be three finite numbers, got ${JSON.stringify(p.mean)}`);
  if (!triple(p.std, true)) throw new RangeError(`preprocessing.std must be three finite non-zero numbers, got ${JSON.stringify(p.std)}`);
  return p as Preprocessing;
}

/** Browser image classes `classify` copies into a texture (those this environment has are checked). */
const IMAGE_CLASSES = ['ImageBitmap', 'ImageData', 'HTMLImageElement', 'HTMLVideoElement', 'HTMLCanvasElement', 'OffscreenCanvas', 'VideoFrame'];

/** `source instanceof globalThis[name]`, false where the class does not exist (Node, workers). */
function isInstance(source: unknown, name: string): boolean {
  const type = (globalThis as Record<string, unknown>)[name];
  return typeof type === 'function' && source instanceof (type as abstract new () => unknown);
}

function isBrowserImage(source: unknown): boolean {
  return IMAGE_CLASSES.some((name) => isInstance(source, name));
}

/** A short description of a value that is no image, for the error message. */
function describeValue(v: unknown): string {
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}...` : v)}`;
  if (v === null || typeof v !== 'object') return String(v);
  const data = (v as { data?: unknown }).data;
  if (data !== undefined) return `an object whose data is ${data !== null && typeof data === 'object' ? classOf(data) : String(data)}`;
  return classOf(v);
}

function isRgbaImage(source: ImageSource): source is RgbaImage {
  return typeof source === 'object' && source !== null && 'data' in source && 'width' in source &&
    (source.data instanceof Uint8Array || source.data instanceof Uint8ClampedArray) &&
    !(typeof ImageData !== 'undefined' && source instanceof ImageData);
}

function sourceSize(source: GPUCopyExternalImageSource): [number, number] {
  if (typeof HTMLVideoElement !== 'undefined' && source instanceof HTMLVideoElement) return [source.videoWidth, source.videoHeight];
  if (typeof HTMLImageElement !== 'undefined' && source instanceof HTMLImageElement) return [source.naturalWidth, source.naturalHeight];
  if (typeof VideoFrame !== 'undefined' && source instanceof VideoFrame) return [source.displayWidth, source.displayHeight];
  const s = source as { width: number; height: number };
  return [s.width, s.height];
}

/** Why a browser image measures 0x0: each kind has its own usual cause (an unloaded image, a closed frame). */
function emptyImageHint(source: ImageSource): string {
  if (isInstance(source, 'HTMLImageElement')) {
    return (source as HTMLImageElement).complete
      ? '; the <img> failed to load or decode (broken or unsupported file, or no src): img.decode() rejects then'
      : '; the <img> has not loaded yet: await img.decode() first';
  }
  if (isInstance(source, 'HTMLVideoElement')) return "; the video has no frame yet: wait for its 'loadeddata' event";
  if (isInstance(source, 'VideoFrame')) return '; the VideoFrame is closed (close() was called, or it was transferred)';
  if (isInstance(source, 'ImageBitmap')) return '; the ImageBitmap is closed (close() was called, or it was transferred)';
  return '';
}

/**
 * Classifies images on the GPU: the image goes into a texture (video frames are imported without a copy), a
 * preprocessing kernel crops, resizes and normalises it into the model's input buffer, and the model runs in
 * the same submit. Texture, bind group and uniforms are made once per source size, so a stream of same-sized
 * frames allocates nothing but the per-frame external-texture bind group WebGPU requires.
 */
export class ImageClassifier {
  private texture: GPUTexture | null = null;
  private textureBindGroup: GPUBindGroup | null = null;
  private uniformSize: [number, number] = [0, 0];
  private readonly uniforms: GPUBuffer;
  private readonly program = preprocessProgram();
  /** Tail of the call queue: calls share the uniforms, texture and model input, so they run one at a time. */
  private queue: Promise<unknown> = Promise.resolve();
  private disposed = false;

  private constructor(
    readonly model: CompiledModel,
    readonly preprocessing: Preprocessing,
    readonly labels: readonly string[],
    private readonly outputsProbabilities: boolean,
    private readonly texturePipeline: GPUComputePipeline,
    private readonly externalPipeline: GPUComputePipeline | null,
  ) {
    this.uniforms = model.device.createBuffer({
      label: 'preprocess uniforms',
      size: uniformByteSize(this.program.uniforms),
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
  }

  /**
   * Compiles `loaded` as an image classifier on `device`, with the preprocessing pipelines. The model must take one
   * `[1, 3, H, W]` image and give `[1, C, 1, 1]` scores first (else a `ShapeError`) and have preprocessing (else an
   * `UnsupportedFeatureError`); what was compiled is disposed when it fails. Call `dispose()` when done.
   */
  static async create(device: GPUDevice, loaded: LoadedModel, options: ClassifierOptions = {}): Promise<ImageClassifier> {
    const preprocessing = mergePreprocessing(loaded.preprocessing, options.preprocessing);
    const inputs = loaded.graph.inputs;
    if (inputs.length !== 1) {
      throw new ShapeError(`an image classifier needs a model with one input (the image), this model takes ${inputs.length}`);
    }
    const [n, c, h, w] = loaded.graph.tensors[inputs[0]].shape;
    if (n !== 1 || c !== 3 || h !== preprocessing.size[0] || w !== preprocessing.size[1]) {
      throw new ShapeError(`an image classifier needs a [1, 3, ${preprocessing.size.join(', ')}] input, the model takes [${[n, c, h, w].join(', ')}]`);
    }
    const cache = pipelineCacheFor(device);
    // allSettled, not all: when a pipeline fails, wait for the model so that it can be disposed rather than leaked.
    const [compiled, texture, external] = await Promise.allSettled([
      compileModel(device, loaded.graph, options.compile),
      cache.get(preprocessProgram(false)),
      // Video frames exist only in browsers; Node never needs the external-texture variant.
      typeof HTMLVideoElement !== 'undefined' ? cache.get(preprocessProgram(true)) : Promise.resolve(null),
    ]);
    if (compiled.status === 'rejected') throw compiled.reason;
    const model = compiled.value;
    try {
      if (texture.status === 'rejected') throw texture.reason;
      if (external.status === 'rejected') throw external.reason;
      const shape = model.outputs[0].shape;
      if (shape.length !== 4 || shape[0] !== 1 || shape[2] !== 1 || shape[3] !== 1) {
        throw new ShapeError(`the model's first output is [${shape.join(', ')}], an image classifier needs [1, C, 1, 1] (one score per class)`);
      }
      const classes = shape[1];
      const labels = options.labels ?? loaded.labels ?? [];
      const named = Array.from({ length: classes }, (_, i) => labels[i] ?? `class ${i}`);
      return new ImageClassifier(model, preprocessing, named, loaded.outputsProbabilities, texture.value, external.value);
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
    if (!isRgbaImage(source) && !isBrowserImage(source)) {
      throw new ShapeError(
        'classify takes decoded RGBA pixels ({ data: Uint8Array, width, height }, e.g. from decodeImage in webcnn/node) or an ' +
          `ImageBitmap, ImageData, HTMLImageElement, HTMLVideoElement, HTMLCanvasElement, OffscreenCanvas or VideoFrame; got ${describeValue(source)}`,
      );
    }
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
    this.texture?.destroy();
    this.texture = null;
    this.textureBindGroup = null;
    this.uniforms.destroy();
    this.model.dispose();
  }

  private checkNotDisposed(): void {
    if (this.disposed) throw new DisposedError('the classifier was disposed; create it again to classify');
  }

  /** One call, run when the queue reaches it. */
  private async runOne(source: ImageSource): Promise<Float32Array> {
    // Checked again here: dispose() may have come while this call waited in the queue.
    this.checkNotDisposed();
    // Sizes are read now, not at call time, so that a video is measured on the frame that is imported.
    const [width, height] = isRgbaImage(source) ? [source.width, source.height] : sourceSize(source);
    this.checkSize(width, height, source);
    if (isRgbaImage(source) && source.data.length < width * height * 4) {
      throw new ShapeError(`RGBA image data has ${source.data.length} bytes, ${width}x${height} needs ${width * height * 4}`);
    }
    this.writeUniforms(width, height);
    // Bind right before runWith: an imported external texture expires when the task that imported it ends, and
    // from here to the submit there are only microtasks (the model's own queue is idle, since this classifier's
    // calls run one at a time).
    const [pipeline, bindGroup] = await this.bind(source, width, height);
    const [out] = await this.model.runWith((encoder) => {
      const pass = encoder.beginComputePass({ label: 'preprocess' });
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      const [outH, outW] = this.preprocessing.size;
      pass.dispatchWorkgroups(Math.ceil((outW * outH) / this.program.workgroupSize));
      pass.end();
    });
    return out;
  }

  /** Sizes the preprocessing uniforms and a texture can take, checked before any GPU call. */
  private checkSize(width: number, height: number, source: ImageSource): void {
    if (!(width > 0 && height > 0)) throw new ShapeError(`image is empty (${width}x${height})${emptyImageHint(source)}`);
    if (!(Number.isInteger(width) && Number.isInteger(height))) {
      throw new ShapeError(`image is ${width}x${height}; its width and height must be whole numbers of pixels`);
    }
    const max = this.model.device.limits.maxTextureDimension2D;
    if (width > max || height > max) {
      throw new ShapeError(`image is ${width}x${height}, larger than this device's maximum texture size ${max}; scale it down first`);
    }
  }

  private writeUniforms(width: number, height: number): void {
    if (this.uniformSize[0] === width && this.uniformSize[1] === height) return;
    const [outH, outW] = this.preprocessing.size;
    const p = this.preprocessing;
    const values = preprocessUniforms(width, height, cropFor(width, height, p), outW, outH, p.mean, p.std);
    this.model.device.queue.writeBuffer(this.uniforms, 0, packUniforms(this.program.uniforms, values));
    this.uniformSize = [width, height];
  }

  private entries(image: GPUBindingResource): GPUBindGroupEntry[] {
    return [
      { binding: 0, resource: image },
      { binding: 1, resource: { buffer: this.model.rawInputBuffer(0) } },
      { binding: 2, resource: { buffer: this.uniforms } },
    ];
  }

  /** The pipeline and bind group that read this source: a zero-copy external texture for video, else a texture. */
  private async bind(source: ImageSource, width: number, height: number): Promise<[GPUComputePipeline, GPUBindGroup]> {
    const device = this.model.device;
    const isVideo =
      (typeof HTMLVideoElement !== 'undefined' && source instanceof HTMLVideoElement) ||
      (typeof VideoFrame !== 'undefined' && source instanceof VideoFrame);
    if (isVideo && this.externalPipeline) {
      try {
        const external = device.importExternalTexture({ source: source as HTMLVideoElement | VideoFrame });
        const layout = this.externalPipeline.getBindGroupLayout(0);
        return [this.externalPipeline, device.createBindGroup({ label: 'preprocess (video)', layout, entries: this.entries(external) })];
      } catch {
        // Some platforms cannot import a frame (e.g. software video decode): copy it through an ImageBitmap.
        const bitmap = await createImageBitmap(source as HTMLVideoElement | VideoFrame);
        try {
          return this.bindTexture(bitmap, width, height);
        } finally {
          bitmap.close();
        }
      }
    }
    return this.bindTexture(source, width, height);
  }

  private bindTexture(source: ImageSource, width: number, height: number): [GPUComputePipeline, GPUBindGroup] {
    const device = this.model.device;
    if (!this.texture || this.texture.width !== width || this.texture.height !== height) {
      this.texture?.destroy();
      this.texture = device.createTexture({
        label: 'classifier input image',
        size: [width, height],
        format: 'rgba8unorm',
        usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST | GPUTextureUsage.RENDER_ATTACHMENT,
      });
      this.textureBindGroup = device.createBindGroup({
        label: 'preprocess',
        layout: this.texturePipeline.getBindGroupLayout(0),
        entries: this.entries(this.texture.createView()),
      });
    }
    if (isRgbaImage(source)) {
      device.queue.writeTexture({ texture: this.texture }, source.data as Uint8Array<ArrayBuffer>, { bytesPerRow: width * 4, rowsPerImage: height }, [width, height]);
    } else {
      device.queue.copyExternalImageToTexture({ source }, { texture: this.texture }, [width, height]);
    }
    return [this.texturePipeline, this.textureBindGroup!];
  }
}
