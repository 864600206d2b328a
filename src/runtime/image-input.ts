/**
 * Image -> network input on the GPU, shared by the image tasks (`ImageClassifier`, `ImageSegmenter`): which
 * sources are accepted and how they are checked, the model's preprocessing merged with the caller's, and the
 * texture, uniforms and bind group that feed the preprocessing kernel (shaders/preprocess.ts).
 */
import { packUniforms, uniformByteSize } from '../../shaders/common.ts';
import type { CropRect } from '../../shaders/preprocess.ts';
import { preprocessProgram, preprocessUniforms } from '../../shaders/preprocess.ts';
import { ShapeError, UnsupportedFeatureError } from '../errors.ts';
import type { Preprocessing } from '../formats/model.ts';
import { pipelineCacheFor } from '../gpu/pipeline-cache.ts';
import { classOf } from '../util/describe.ts';

/** Decoded RGBA8 pixels (what Node's image decoders produce, and `ImageData` in the browser). */
export interface RgbaImage {
  readonly data: Uint8Array | Uint8ClampedArray;
  readonly width: number;
  readonly height: number;
}

/** Everything the image tasks accept: decoded pixels, or any browser image source. */
export type ImageSource = RgbaImage | GPUCopyExternalImageSource;

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

/**
 * The model's preprocessing with `override` over it, checked; an incomplete result is refused. `task` names
 * what the model would have been ("an image classifier") in that refusal.
 */
export function mergePreprocessing(own: Preprocessing | undefined, override: Partial<Preprocessing> = {}, task = 'an image classifier'): Preprocessing {
  // An explicitly undefined field keeps the model's value rather than erasing it.
  const given = Object.fromEntries(Object.entries(override).filter(([, v]) => v !== undefined));
  const p = { ...own, ...given } as Partial<Preprocessing>;
  if (p.size === undefined || p.resize === undefined || p.cropFraction === undefined || p.mean === undefined || p.std === undefined) {
    throw new UnsupportedFeatureError(
      `the model has no image preprocessing: it is not ${task} (or give every field of the preprocessing option)`,
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

/** Checks that `loaded`'s graph takes one `[1, 3, H, W]` image of the preprocessing's size; `task` as above. */
export function checkImageInput(shapes: readonly (readonly number[])[], preprocessing: Preprocessing, task: string): void {
  if (shapes.length !== 1) throw new ShapeError(`${task} needs a model with one input (the image), this model takes ${shapes.length}`);
  const [n, c, h, w] = shapes[0];
  if (n !== 1 || c !== 3 || h !== preprocessing.size[0] || w !== preprocessing.size[1]) {
    throw new ShapeError(`${task} needs a [1, 3, ${preprocessing.size.join(', ')}] input, the model takes [${[n, c, h, w].join(', ')}]`);
  }
}

/** Browser image classes the image tasks copy into a texture (those this environment has are checked). */
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

/** Refuses what is no image source, naming what `verb` (the method: 'classify', 'segment') takes instead. */
export function checkImageSource(source: unknown, verb: string): asserts source is ImageSource {
  if (!isRgbaImage(source as ImageSource) && !isBrowserImage(source)) {
    throw new ShapeError(
      `${verb} takes decoded RGBA pixels ({ data: Uint8Array, width, height }, e.g. from decodeImage in webcnn/node) or an ` +
        `ImageBitmap, ImageData, HTMLImageElement, HTMLVideoElement, HTMLCanvasElement, OffscreenCanvas or VideoFrame; got ${describeValue(source)}`,
    );
  }
}

/** The two preprocessing pipelines (texture, and external texture where browsers have video), from the device's cache. */
export function preprocessPipelines(device: GPUDevice): [Promise<GPUComputePipeline>, Promise<GPUComputePipeline | null>] {
  const cache = pipelineCacheFor(device);
  return [
    cache.get(preprocessProgram(false)),
    // Video frames exist only in browsers; Node never needs the external-texture variant.
    typeof HTMLVideoElement !== 'undefined' ? cache.get(preprocessProgram(true)) : Promise.resolve(null),
  ];
}

/**
 * Feeds images to one model input: texture, bind group and uniforms are made once per source size, so a stream
 * of same-sized frames allocates nothing but the per-frame external-texture bind group WebGPU requires. Not
 * reentrant: its owner runs one call at a time (the texture and uniforms are shared).
 */
export class ImageInput {
  private texture: GPUTexture | null = null;
  private textureBindGroup: GPUBindGroup | null = null;
  private uniformSize: [number, number] = [0, 0];
  private readonly uniforms: GPUBuffer;
  private readonly program = preprocessProgram();

  constructor(
    private readonly device: GPUDevice,
    readonly preprocessing: Preprocessing,
    /** The NCHW f32 model input the kernel writes. */
    private readonly target: GPUBuffer,
    private readonly texturePipeline: GPUComputePipeline,
    private readonly externalPipeline: GPUComputePipeline | null,
  ) {
    this.uniforms = device.createBuffer({
      label: 'preprocess uniforms',
      size: uniformByteSize(this.program.uniforms),
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
  }

  /**
   * The source's size, checked (sizes are read now, not at call time, so that a video is measured on the frame
   * that is imported): empty, fractional, too large for a texture, or RGBA data too short are `ShapeError`s.
   */
  measure(source: ImageSource): [number, number] {
    const [width, height] = isRgbaImage(source) ? [source.width, source.height] : sourceSize(source);
    if (!(width > 0 && height > 0)) throw new ShapeError(`image is empty (${width}x${height})${emptyImageHint(source)}`);
    if (!(Number.isInteger(width) && Number.isInteger(height))) {
      throw new ShapeError(`image is ${width}x${height}; its width and height must be whole numbers of pixels`);
    }
    const max = this.device.limits.maxTextureDimension2D;
    if (width > max || height > max) {
      throw new ShapeError(`image is ${width}x${height}, larger than this device's maximum texture size ${max}; scale it down first`);
    }
    if (isRgbaImage(source) && source.data.length < width * height * 4) {
      throw new ShapeError(`RGBA image data has ${source.data.length} bytes, ${width}x${height} needs ${width * height * 4}`);
    }
    return [width, height];
  }

  /**
   * Uploads (or imports) the image and returns the recorder of the preprocessing pass. Record it right away: an
   * imported external texture expires when the task that imported it ends, so between this and the submit
   * there must be only microtasks.
   */
  async prepare(source: ImageSource, width: number, height: number): Promise<(encoder: GPUCommandEncoder) => void> {
    this.writeUniforms(width, height);
    const [pipeline, bindGroup] = await this.bind(source, width, height);
    return (encoder) => {
      const pass = encoder.beginComputePass({ label: 'preprocess' });
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      const [outH, outW] = this.preprocessing.size;
      pass.dispatchWorkgroups(Math.ceil((outW * outH) / this.program.workgroupSize));
      pass.end();
    };
  }

  /** The part of a `width x height` source that is resized to the network input. */
  crop(width: number, height: number): CropRect {
    return cropFor(width, height, this.preprocessing);
  }

  dispose(): void {
    this.texture?.destroy();
    this.texture = null;
    this.textureBindGroup = null;
    this.uniforms.destroy();
  }

  private writeUniforms(width: number, height: number): void {
    if (this.uniformSize[0] === width && this.uniformSize[1] === height) return;
    const [outH, outW] = this.preprocessing.size;
    const p = this.preprocessing;
    const values = preprocessUniforms(width, height, cropFor(width, height, p), outW, outH, p.mean, p.std);
    this.device.queue.writeBuffer(this.uniforms, 0, packUniforms(this.program.uniforms, values));
    this.uniformSize = [width, height];
  }

  private entries(image: GPUBindingResource): GPUBindGroupEntry[] {
    return [
      { binding: 0, resource: image },
      { binding: 1, resource: { buffer: this.target } },
      { binding: 2, resource: { buffer: this.uniforms } },
    ];
  }

  /** The pipeline and bind group that read this source: a zero-copy external texture for video, else a texture. */
  private async bind(source: ImageSource, width: number, height: number): Promise<[GPUComputePipeline, GPUBindGroup]> {
    const isVideo =
      (typeof HTMLVideoElement !== 'undefined' && source instanceof HTMLVideoElement) ||
      (typeof VideoFrame !== 'undefined' && source instanceof VideoFrame);
    if (isVideo && this.externalPipeline) {
      try {
        const external = this.device.importExternalTexture({ source: source as HTMLVideoElement | VideoFrame });
        const layout = this.externalPipeline.getBindGroupLayout(0);
        return [this.externalPipeline, this.device.createBindGroup({ label: 'preprocess (video)', layout, entries: this.entries(external) })];
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
    const device = this.device;
    if (!this.texture || this.texture.width !== width || this.texture.height !== height) {
      this.texture?.destroy();
      this.texture = device.createTexture({
        label: 'input image',
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
