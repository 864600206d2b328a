/**
 * Segment mode: `ImageSegmenter.segmentToGpu` leaves the mask of each frame in a GPU buffer at the picture's
 * size and reads back only the per-class pixel counts; the overlay (demo/webcam/overlay-canvas.ts) draws that
 * buffer over the picture in a render pass, and the legend lists the classes present from the counts.
 */
import type { LoadedModel } from '../../src/formats/index.ts';
import type { ImageSource } from '../../src/runtime/classifier.ts';
import { detectModelKind } from '../../src/runtime/model-kind.ts';
import { ImageSegmenter, type GpuSegmentation } from '../../src/runtime/segmenter.ts';
import { segmentationPalette } from '../../src/runtime/palette.ts';
import { OverlayCanvas } from './overlay-canvas.ts';
import type { UpgradeStatus } from '../../src/runtime/upgrade.ts';
import type { DemoTask } from './model-source.ts';
import type { LabelsNow, TaskRunner } from './runners.ts';
import { showLegend } from './view.ts';

/** What a model does, from its outputs: a segmenter is run in segment mode, anything else as a classifier. */
export function taskOf(loaded: LoadedModel): DemoTask {
  return detectModelKind(loaded.graph).kind === 'segmenter' ? 'segment' : 'classify';
}

/** How many classes the model tells apart (what a labels file must name). */
export function classCount(loaded: LoadedModel): number {
  const kind = detectModelKind(loaded.graph);
  return kind.kind === 'unknown' ? loaded.graph.tensors[loaded.graph.outputs[0]].shape[1] : kind.classes;
}

export class SegmentRunner implements TaskRunner {
  readonly task = 'segment';
  private last: GpuSegmentation | null = null;
  /** The overlay's default colours (MaskOverlay's), for the legend's swatches. */
  private readonly palette: Uint8Array;

  private constructor(
    private readonly segmenter: ImageSegmenter,
    private readonly overlay: OverlayCanvas,
    private readonly labels: LabelsNow,
    private readonly opacity: () => number,
  ) {
    this.palette = segmentationPalette(segmenter.labels.length);
  }

  /** As `ClassifyRunner.create`; draws into `canvas` at the opacity `opacity()` gives at each draw. */
  static async create(
    device: GPUDevice,
    loaded: LoadedModel,
    own: readonly string[] | undefined,
    labels: LabelsNow,
    canvas: HTMLCanvasElement,
    opacity: () => number,
  ): Promise<SegmentRunner> {
    const segmenter = await ImageSegmenter.create(device, loaded, { labels: own });
    try {
      return new SegmentRunner(segmenter, await OverlayCanvas.create(device, canvas), labels, opacity);
    } catch (e) {
      segmenter.dispose();
      throw e;
    }
  }

  get lastGpuTimeMs(): number | null {
    return this.segmenter.model.lastGpuTimeMs;
  }

  get upgrade(): UpgradeStatus {
    return this.segmenter.model.upgrade;
  }

  async run(source: ImageSource): Promise<void> {
    this.last = await this.segmenter.segmentToGpu(source);
    this.redraw();
    this.showClasses(this.last);
  }

  redraw(): void {
    if (this.last) this.overlay.draw(this.last, this.opacity());
  }

  private showClasses(result: GpuSegmentation): void {
    const names = this.labels();
    const palette = this.palette;
    showLegend(
      result.classes.map((c) => ({
        index: c.index,
        label: names?.[c.index] ?? c.label,
        share: c.share,
        // Background (alpha 0) is not drawn: no swatch colour.
        colour: palette[4 * c.index + 3] === 0 ? null : [palette[4 * c.index], palette[4 * c.index + 1], palette[4 * c.index + 2]],
      })),
    );
  }

  clear(): void {
    this.last = null;
    showLegend([]);
    this.overlay.clear();
  }

  dispose(): void {
    this.last = null;
    this.segmenter.dispose();
    this.overlay.dispose();
  }
}
