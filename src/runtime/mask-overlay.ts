/**
 * Draws a `GpuSegmentation`'s mask as coloured, translucent regions into a texture (a canvas's current texture,
 * typically over the video it was computed from) with one render pass: no readback and no per-pixel work in
 * JavaScript. Each target pixel takes the class of the mask pixel under it (nearest, the mask stretched over
 * the whole target) and that class's palette colour at `opacity` times its alpha, premultiplied, blended over
 * what the target holds (or over transparent black when `clear` is set: a canvas above a <video> element).
 */
import { DisposedError } from '../errors.ts';
import { segmentationPalette } from './palette.ts';
import type { GpuSegmentation } from './segmenter.ts';

export interface OverlayDrawOptions {
  /** 0 (invisible) to 1 (opaque), default 0.5; multiplies each class colour's alpha. */
  readonly opacity?: number;
  /** RGBA8 per class (`4 * classes` bytes); default `segmentationPalette(classes)`, background transparent. */
  readonly palette?: Uint8Array;
  /** Clear the target to transparent black first (default), or `false` to draw over what it holds. */
  readonly clear?: boolean;
}

const SHADER = /* wgsl */ `
struct Params { maskW: u32, maskH: u32, targetW: u32, targetH: u32, classes: u32, opacity: f32 }
@group(0) @binding(0) var<storage, read> mask: array<u32>;
@group(0) @binding(1) var<storage, read> palette: array<vec4<f32>>;
@group(0) @binding(2) var<uniform> params: Params;

@vertex
fn vs(@builtin(vertex_index) i: u32) -> @builtin(position) vec4<f32> {
  // One triangle that covers the viewport.
  let xy = vec2<f32>(f32((i << 1u) & 2u), f32(i & 2u));
  return vec4<f32>(xy * 2.0 - 1.0, 0.0, 1.0);
}

@fragment
fn fs(@builtin(position) pos: vec4<f32>) -> @location(0) vec4<f32> {
  let mx = min(u32(pos.x * f32(params.maskW) / f32(params.targetW)), params.maskW - 1u);
  let my = min(u32(pos.y * f32(params.maskH) / f32(params.targetH)), params.maskH - 1u);
  let c = mask[my * params.maskW + mx];
  if (c >= params.classes) { return vec4<f32>(0.0); }
  let colour = palette[c];
  let alpha = colour.a * params.opacity;
  return vec4<f32>(colour.rgb * alpha, alpha);
}
`;

export class MaskOverlay {
  private readonly uniforms: GPUBuffer;
  private paletteBuffer: GPUBuffer | null = null;
  private paletteKey: Uint8Array | null = null;
  private bindGroups = new WeakMap<GPUBuffer, GPUBindGroup>();
  private disposed = false;
  private defaultPalette = segmentationPalette(256);

  private constructor(
    private readonly device: GPUDevice,
    /** The format of the textures it draws into (a canvas's `getPreferredCanvasFormat()`). */
    readonly format: GPUTextureFormat,
    private readonly pipeline: GPURenderPipeline,
  ) {
    this.uniforms = device.createBuffer({ label: 'mask overlay uniforms', size: 32, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  }

  /** A renderer into textures of `format`. */
  static async create(device: GPUDevice, format: GPUTextureFormat): Promise<MaskOverlay> {
    const module = device.createShaderModule({ label: 'mask overlay', code: SHADER });
    const blend: GPUBlendComponent = { srcFactor: 'one', dstFactor: 'one-minus-src-alpha', operation: 'add' };
    const pipeline = await device.createRenderPipelineAsync({
      label: 'mask overlay',
      layout: 'auto',
      vertex: { module, entryPoint: 'vs' },
      fragment: { module, entryPoint: 'fs', targets: [{ format, blend: { color: blend, alpha: blend } }] },
      primitive: { topology: 'triangle-list' },
    });
    return new MaskOverlay(device, format, pipeline);
  }

  /**
   * Records the overlay of `segmentation` into `encoder`, drawn over all of `target` (usage RENDER_ATTACHMENT, of
   * this overlay's format). Submit the encoder yourself (after the segmentation resolved, or later).
   */
  draw(encoder: GPUCommandEncoder, target: GPUTexture, segmentation: GpuSegmentation, options: OverlayDrawOptions = {}): void {
    if (this.disposed) throw new DisposedError('the mask overlay was disposed; create it again to draw');
    const opacity = options.opacity ?? 0.5;
    if (!(opacity >= 0 && opacity <= 1)) throw new RangeError(`opacity must be from 0 to 1, got ${opacity}`);
    const { mask, width, height } = segmentation;
    const highest = segmentation.classes.reduce((m, c) => Math.max(m, c.index), 0);
    if (!options.palette && this.defaultPalette.length / 4 <= highest) this.defaultPalette = segmentationPalette(highest + 1);
    const palette = options.palette ?? this.defaultPalette;
    if (!(palette instanceof Uint8Array) || palette.length % 4 !== 0 || palette.length === 0) {
      throw new RangeError('palette must be a Uint8Array of RGBA bytes, 4 per class');
    }
    this.writePalette(palette);
    const uniforms = new ArrayBuffer(32);
    new Uint32Array(uniforms, 0, 5).set([width, height, target.width, target.height, palette.length / 4]);
    new Float32Array(uniforms, 20, 1)[0] = opacity;
    this.device.queue.writeBuffer(this.uniforms, 0, uniforms);
    let bindGroup = this.bindGroups.get(mask);
    if (!bindGroup) {
      bindGroup = this.device.createBindGroup({
        label: 'mask overlay',
        layout: this.pipeline.getBindGroupLayout(0),
        entries: [
          { binding: 0, resource: { buffer: mask } },
          { binding: 1, resource: { buffer: this.paletteBuffer! } },
          { binding: 2, resource: { buffer: this.uniforms } },
        ],
      });
      this.bindGroups.set(mask, bindGroup);
    }
    const pass = encoder.beginRenderPass({
      label: 'mask overlay',
      colorAttachments: [{
        view: target.createView(),
        loadOp: options.clear === false ? 'load' : 'clear',
        clearValue: { r: 0, g: 0, b: 0, a: 0 },
        storeOp: 'store',
      }],
    });
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.draw(3);
    pass.end();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.uniforms.destroy();
    this.paletteBuffer?.destroy();
    this.paletteBuffer = null;
  }

  /** Uploads the palette when it changed; a larger one replaces the buffer (and so every bind group). */
  private writePalette(palette: Uint8Array): void {
    if (this.paletteKey && this.paletteKey.length === palette.length && this.paletteKey.every((v, i) => v === palette[i])) return;
    const bytes = palette.length * 4;
    if (!this.paletteBuffer || this.paletteBuffer.size < bytes) {
      this.paletteBuffer?.destroy();
      this.paletteBuffer = this.device.createBuffer({ label: 'mask overlay palette', size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
      // The bind groups name the old buffer.
      this.bindGroups = new WeakMap();
    }
    this.device.queue.writeBuffer(this.paletteBuffer, 0, Float32Array.from(palette, (v) => v / 255));
    this.paletteKey = palette.slice();
  }
}
