/**
 * Semantic segmentation on the GPU: preprocessing (shared with `ImageClassifier`, `ImageInput`), the model, and
 * the mask at the source image's size (shaders/segment-mask.ts: bilinear scores + arg max, or the nearest pixel
 * of a model's own arg max) in one submit. `segment` reads back the mask; `segmentToGpu` leaves it in a GPU
 * buffer for overlays drawn on the GPU and reads back only the per-class pixel counts.
 */
import { packUniforms, uniformByteSize } from '../../shaders/common.ts';
import { SEGMENT_MASK_WORKGROUP, segmentMaskProgram, segmentMaskUniforms } from '../../shaders/segment-mask.ts';
import { DeviceLostError, DisposedError, GpuError, ShapeError } from '../errors.ts';
import type { LoadedModel, Preprocessing } from '../formats/model.ts';
import { pipelineCacheFor } from '../gpu/pipeline-cache.ts';
import type { CompileOptions } from './compile-options.ts';
import { compileModel } from './compile.ts';
import type { CompiledModel } from './compiled-model.ts';
import type { ImageSource } from './image-input.ts';
import { ImageInput, checkImageInput, checkImageSource, mergePreprocessing, preprocessPipelines } from './image-input.ts';
import type { ModelKind } from './model-kind.ts';
import { requireSegmenter } from './model-kind.ts';

export interface SegmenterOptions {
  /** Class names, line N = class N; defaults to the model's own labels, else `class N`. */
  readonly labels?: readonly string[];
  /** How the model is compiled (precision, kernels, tuning), as `compileModel` takes it. */
  readonly compile?: CompileOptions;
  /**
   * Fields that replace the preprocessing. Default: the model's own (`LoadedModel.preprocessing`) with
   * `resize: 'stretch'`, so that every pixel of the source gets a class (a centre crop would leave the
   * borders to the nearest edge of the crop).
   */
  readonly preprocessing?: Partial<Preprocessing>;
}

export interface SegmentOptions {
  /** Also read back the model's score map (`scores`); only for a model that outputs scores. Default false. */
  readonly scores?: boolean;
}

/** One class present in a mask. */
export interface SegmentClass {
  readonly index: number;
  readonly label: string;
  /** Pixels of the mask with this class, and their fraction of all its pixels. */
  readonly pixels: number;
  readonly share: number;
}

export interface Segmentation {
  /** One class index per source pixel, row-major: a `Uint8Array` when the model has at most 256 classes, else an `Int32Array`. */
  readonly mask: Uint8Array | Int32Array;
  readonly width: number;
  readonly height: number;
  /** The classes present, most pixels first (ties: lower index first). */
  readonly classes: readonly SegmentClass[];
  /** With `{ scores: true }`: the model's output, `[classes, outputHeight, outputWidth]` row-major, before upsampling. */
  readonly scores?: Float32Array;
}

/** A mask left on the GPU by `segmentToGpu`. */
export interface GpuSegmentation {
  /**
   * `width * height` u32 class indices, row-major (`var<storage, read> mask: array<u32>` in WGSL; usage STORAGE |
   * COPY_SRC). Owned by the segmenter: the next call overwrites it, a call on a source of another size replaces
   * it with a new buffer (so keep bind groups per buffer), and `dispose()` destroys it.
   */
  readonly mask: GPUBuffer;
  readonly width: number;
  readonly height: number;
  readonly classes: readonly SegmentClass[];
}

/** Buffers and bind group for one source size. */
interface SizedState {
  readonly width: number;
  readonly height: number;
  readonly mask: GPUBuffer;
  readonly bindGroup: GPUBindGroup;
  maskReadback: GPUBuffer | null;
}

/**
 * Segments images on the GPU. Calls run one at a time (they share the texture, uniforms and mask buffers);
 * `dispose()` frees everything, and a lost device makes later calls reject with `DeviceLostError`.
 */
export class ImageSegmenter {
  private queue: Promise<unknown> = Promise.resolve();
  private disposed = false;
  private sized: SizedState | null = null;
  private readonly uniforms: GPUBuffer;
  private readonly counts: GPUBuffer;
  private readonly countsReadback: GPUBuffer;
  private scoresReadback: GPUBuffer | null = null;

  private constructor(
    readonly model: CompiledModel,
    private readonly input: ImageInput,
    /** One name per class of the model. */
    readonly labels: readonly string[],
    /** What the model outputs: a score per class and pixel, or a class per pixel (its own arg max). */
    readonly output: 'scores' | 'mask',
    private readonly outputSize: readonly [number, number],
    private readonly maskPipeline: GPUComputePipeline,
  ) {
    const device = model.device;
    this.uniforms = device.createBuffer({
      label: 'segment-mask uniforms',
      size: uniformByteSize(segmentMaskProgram(output).uniforms),
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    const countBytes = labels.length * 4;
    this.counts = device.createBuffer({ label: 'segment counts', size: countBytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
    this.countsReadback = device.createBuffer({ label: 'segment counts readback', size: countBytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  }

  get preprocessing(): Preprocessing {
    return this.input.preprocessing;
  }

  /**
   * Compiles `loaded` as an image segmenter on `device`. The model must take one `[1, 3, H, W]` image (else a
   * `ShapeError`), give a score map `[1, C, H', W']` or an arg max `[1, 1, H', W']` first (else a `ModelKindError`,
   * which says when the model is a classifier) and have preprocessing (else an `UnsupportedFeatureError`); what
   * was compiled is disposed when it fails. Call `dispose()` when done.
   */
  static async create(device: GPUDevice, loaded: LoadedModel, options: SegmenterOptions = {}): Promise<ImageSegmenter> {
    const own = loaded.preprocessing && { ...loaded.preprocessing, resize: 'stretch' as const, cropFraction: 1 };
    const preprocessing = mergePreprocessing(own, options.preprocessing, 'an image segmenter');
    const graph = loaded.graph;
    checkImageInput(graph.inputs.map((id) => graph.tensors[id].shape), preprocessing, 'an image segmenter');
    const kind: Extract<ModelKind, { kind: 'segmenter' }> = requireSegmenter(graph);
    const [texturePipeline, externalPipeline] = preprocessPipelines(device);
    // allSettled, not all: when a pipeline fails, wait for the model so that it can be disposed rather than leaked.
    const [compiled, texture, external, mask] = await Promise.allSettled([
      compileModel(device, graph, options.compile),
      texturePipeline,
      externalPipeline,
      pipelineCacheFor(device).get(segmentMaskProgram(kind.output)),
    ]);
    if (compiled.status === 'rejected') throw compiled.reason;
    const model = compiled.value;
    try {
      if (texture.status === 'rejected') throw texture.reason;
      if (external.status === 'rejected') throw external.reason;
      if (mask.status === 'rejected') throw mask.reason;
      const labels = options.labels ?? loaded.labels ?? [];
      const named = Array.from({ length: kind.classes }, (_, i) => labels[i] ?? `class ${i}`);
      const input = new ImageInput(device, preprocessing, model.rawInputBuffer(0), texture.value, external.value);
      return new ImageSegmenter(model, input, named, kind.output, [kind.height, kind.width], mask.value);
    } catch (e) {
      model.dispose();
      throw e;
    }
  }

  /** The class of every pixel of `source`, read back, with the classes present. */
  segment(source: ImageSource, options: SegmentOptions = {}): Promise<Segmentation> {
    try {
      this.checkNotDisposed();
      checkImageSource(source, 'segment');
      if (options.scores && this.output !== 'scores') {
        throw new RangeError('scores: this model outputs a class per pixel (an arg max inside it), not scores');
      }
    } catch (e) {
      return Promise.reject(e);
    }
    return this.enqueue(() => this.runOne(source, true, options.scores === true)) as Promise<Segmentation>;
  }

  /**
   * The mask of `source` left in a GPU buffer (nothing read back but the per-class counts), for drawing an
   * overlay on the GPU. Resolves when the GPU has written it.
   */
  segmentToGpu(source: ImageSource): Promise<GpuSegmentation> {
    try {
      this.checkNotDisposed();
      checkImageSource(source, 'segmentToGpu');
    } catch (e) {
      return Promise.reject(e);
    }
    return this.enqueue(() => this.runOne(source, false, false)) as Promise<GpuSegmentation>;
  }

  /** Frees the GPU resources; later calls reject with `DisposedError`. Safe to call more than once. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.input.dispose();
    this.sized?.mask.destroy();
    this.sized?.maskReadback?.destroy();
    this.sized = null;
    this.scoresReadback?.destroy();
    this.uniforms.destroy();
    this.counts.destroy();
    this.countsReadback.destroy();
    this.model.dispose();
  }

  private enqueue<T>(work: () => Promise<T>): Promise<T> {
    // The whole call is queued: uniforms, texture and mask buffers are written when the call's turn comes.
    const result = this.queue.then(work);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private checkNotDisposed(): void {
    if (this.disposed) throw new DisposedError('the segmenter was disposed; create it again to segment');
  }

  private async runOne(source: ImageSource, readMask: boolean, readScores: boolean): Promise<Segmentation | GpuSegmentation> {
    // Checked again here: dispose() may have come while this call waited in the queue.
    this.checkNotDisposed();
    const [width, height] = this.input.measure(source);
    const limit = this.model.device.limits.maxStorageBufferBindingSize;
    if (width * height * 4 > limit) {
      throw new ShapeError(`image is ${width}x${height}: its mask (4 bytes a pixel) exceeds this device's largest storage binding, ${limit} bytes; scale it down first`);
    }
    const sized = this.sizeFor(width, height);
    if (readMask && !sized.maskReadback) {
      sized.maskReadback = this.model.device.createBuffer({ label: 'segment mask readback', size: width * height * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    }
    const scoresBytes = this.labels.length * this.outputSize[0] * this.outputSize[1] * 4;
    if (readScores && !this.scoresReadback) {
      this.scoresReadback = this.model.device.createBuffer({ label: 'segment scores readback', size: scoresBytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    }
    const prelude = await this.input.prepare(source, width, height);
    await this.model.runOnGpu(prelude, (encoder) => {
      encoder.clearBuffer(this.counts);
      const pass = encoder.beginComputePass({ label: 'segment mask' });
      pass.setPipeline(this.maskPipeline);
      pass.setBindGroup(0, sized.bindGroup);
      const groups = Math.ceil((width * height) / SEGMENT_MASK_WORKGROUP);
      const x = Math.min(groups, this.model.device.limits.maxComputeWorkgroupsPerDimension);
      pass.dispatchWorkgroups(x, Math.ceil(groups / x));
      pass.end();
      encoder.copyBufferToBuffer(this.counts, 0, this.countsReadback, 0, this.counts.size);
      if (readMask) encoder.copyBufferToBuffer(sized.mask, 0, sized.maskReadback!, 0, width * height * 4);
      if (readScores) encoder.copyBufferToBuffer(this.model.rawOutputBuffer(0), 0, this.scoresReadback!, 0, scoresBytes);
    });
    // Mapped together: one wait, not one per buffer.
    const [counts, maskBytes, scoreBytes] = await Promise.all([
      this.read(this.countsReadback),
      readMask ? this.read(sized.maskReadback!) : null,
      readScores ? this.read(this.scoresReadback!) : null,
    ]);
    const classes = this.classesFrom(new Uint32Array(counts), width * height);
    if (!maskBytes) return { mask: sized.mask, width, height, classes };
    const indices = new Uint32Array(maskBytes);
    const mask = this.labels.length <= 256 ? Uint8Array.from(indices) : new Int32Array(maskBytes);
    return { mask, width, height, classes, ...(scoreBytes ? { scores: new Float32Array(scoreBytes) } : {}) };
  }

  /** A copy of a readback buffer's contents (the GPU is done with it: `runOnGpu` has resolved). */
  private async read(buffer: GPUBuffer): Promise<ArrayBuffer> {
    try {
      await buffer.mapAsync(GPUMapMode.READ);
    } catch (e) {
      if (!this.model.usable) throw new DeviceLostError('the GPU device was lost; create the segmenter again on a new device');
      throw new GpuError(`reading the mask back failed: ${(e as Error).message || (e as Error).name}`);
    }
    const copy = buffer.getMappedRange().slice(0);
    buffer.unmap();
    return copy;
  }

  private classesFrom(counts: Uint32Array, pixels: number): SegmentClass[] {
    const present: SegmentClass[] = [];
    counts.forEach((n, index) => {
      if (n > 0) present.push({ index, label: this.labels[index], pixels: n, share: n / pixels });
    });
    return present.sort((a, b) => b.pixels - a.pixels || a.index - b.index);
  }

  /** The mask buffer, readback and bind group for sources of this size (made again when it changes). */
  private sizeFor(width: number, height: number): SizedState {
    if (this.sized && this.sized.width === width && this.sized.height === height) return this.sized;
    this.sized?.mask.destroy();
    this.sized?.maskReadback?.destroy();
    this.sized = null;
    const device = this.model.device;
    const mask = device.createBuffer({ label: 'segment mask', size: width * height * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
    const [outH, outW] = this.outputSize;
    const values = segmentMaskUniforms(width, height, this.input.crop(width, height), outW, outH, this.labels.length);
    device.queue.writeBuffer(this.uniforms, 0, packUniforms(segmentMaskProgram(this.output).uniforms, values));
    const bindGroup = device.createBindGroup({
      label: 'segment mask',
      layout: this.maskPipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: this.model.rawOutputBuffer(0) } },
        { binding: 1, resource: { buffer: mask } },
        { binding: 2, resource: { buffer: this.counts } },
        { binding: 3, resource: { buffer: this.uniforms } },
      ],
    });
    this.sized = { width, height, mask, bindGroup, maskReadback: null };
    return this.sized;
  }
}
