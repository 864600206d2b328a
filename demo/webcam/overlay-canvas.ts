/**
 * Segment mode's drawing, on the GPU: the library's `MaskOverlay` renders the segmenter's mask buffer (one class
 * id per source pixel) into an OffscreenCanvas's WebGPU texture in one render pass (background transparent,
 * each class in its PASCAL VOC colour at the chosen opacity), and that frame goes as a GPU-backed ImageBitmap to
 * the canvas laid over the picture (a 'bitmaprenderer' context). JavaScript touches no pixel. The handover, not
 * a WebGPU context on the page's canvas, because headless Chromium on SwiftShader shows only the former.
 */
import { MaskOverlay } from '../../src/runtime/mask-overlay.ts';
import type { GpuSegmentation } from '../../src/runtime/segmenter.ts';

export class OverlayCanvas {
  private constructor(
    private readonly device: GPUDevice,
    private readonly canvas: HTMLCanvasElement,
    private readonly shown: ImageBitmapRenderingContext,
    private readonly target: OffscreenCanvas,
    private readonly context: GPUCanvasContext,
    private readonly overlay: MaskOverlay,
  ) {}

  /** Draws into `canvas` from now on (a new model's overlay replaces the previous one's). */
  static async create(device: GPUDevice, canvas: HTMLCanvasElement): Promise<OverlayCanvas> {
    const target = new OffscreenCanvas(1, 1);
    const context = target.getContext('webgpu');
    const shown = canvas.getContext('bitmaprenderer');
    if (!context || !shown) throw new Error('this browser cannot show WebGPU drawing in a canvas');
    const format = navigator.gpu.getPreferredCanvasFormat();
    context.configure({ device, format, alphaMode: 'premultiplied' });
    const made = new OverlayCanvas(device, canvas, shown, target, context, await MaskOverlay.create(device, format));
    // Nothing from an earlier model stays on the canvas.
    made.clear();
    return made;
  }

  /** Draws `segmentation` at `opacity` (0..1) over a transparent canvas: one render pass, one submit. */
  draw(segmentation: GpuSegmentation, opacity: number): void {
    if (this.target.width !== segmentation.width || this.target.height !== segmentation.height) {
      this.target.width = segmentation.width;
      this.target.height = segmentation.height;
    }
    const encoder = this.device.createCommandEncoder({ label: 'segment overlay' });
    this.overlay.draw(encoder, this.context.getCurrentTexture(), segmentation, { opacity: Math.min(1, Math.max(0, opacity)) });
    this.device.queue.submit([encoder.finish()]);
    this.show();
  }

  /** Empties the canvas (no result to show). */
  clear(): void {
    const encoder = this.device.createCommandEncoder({ label: 'segment overlay clear' });
    const view = this.context.getCurrentTexture().createView();
    encoder.beginRenderPass({ colorAttachments: [{ view, loadOp: 'clear', storeOp: 'store', clearValue: [0, 0, 0, 0] }] }).end();
    this.device.queue.submit([encoder.finish()]);
    this.show();
  }

  /**
   * The frame just drawn goes to the page's canvas, sized like it so that it lines up with the picture (both are
   * fitted into the stage the same way); the next draw gets a new texture.
   */
  private show(): void {
    const bitmap = this.target.transferToImageBitmap();
    if (this.canvas.width !== bitmap.width || this.canvas.height !== bitmap.height) {
      this.canvas.width = bitmap.width;
      this.canvas.height = bitmap.height;
    }
    this.shown.transferFromImageBitmap(bitmap);
  }

  dispose(): void {
    this.overlay.dispose();
    this.context.unconfigure();
  }
}
