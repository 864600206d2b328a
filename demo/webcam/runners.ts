/**
 * What the page runs per frame, one kind per task: a classifier showing the top 5, or a segmenter drawing its
 * mask over the picture (demo/webcam/segment-runner.ts). main.ts drives either the same way: one frame in
 * flight, newer frames dropped meanwhile, and the GPU time shown after each.
 */
import type { LoadedModel } from '../../src/formats/index.ts';
import { ImageClassifier, type Classification, type ImageSource } from '../../src/runtime/classifier.ts';
import type { UpgradeStatus } from '../../src/runtime/upgrade.ts';
import type { DemoTask } from './model-source.ts';
import { showPredictions } from './view.ts';

export interface TaskRunner {
  readonly task: DemoTask;
  /** GPU time of the last frame from timestamp queries; null where the adapter has none. */
  readonly lastGpuTimeMs: number | null;
  /** The model's tiered compile (`CompiledModel.upgrade`). */
  readonly upgrade: UpgradeStatus;
  /** Runs the model on one picture and shows the result. */
  run(source: ImageSource): Promise<void>;
  /** Draws the last result again (segment mode's opacity changed); absent where there is nothing to redraw. */
  redraw?(): void;
  /** Shows no result (after a failure: no result of an earlier picture may stand next to it). */
  clear(): void;
  dispose(): void;
}

/** The class names the page shows now: a labels file chosen later applies without compiling again. */
export type LabelsNow = () => readonly string[] | undefined;

export class ClassifyRunner implements TaskRunner {
  readonly task = 'classify';

  private constructor(
    private readonly classifier: ImageClassifier,
    private readonly labels: LabelsNow,
  ) {}

  /** `own`: the new model's labels (`labels()` still gives the running model's until this one is installed). */
  static async create(device: GPUDevice, loaded: LoadedModel, own: readonly string[] | undefined, labels: LabelsNow): Promise<ClassifyRunner> {
    return new ClassifyRunner(await ImageClassifier.create(device, loaded, { labels: own }), labels);
  }

  get lastGpuTimeMs(): number | null {
    return this.classifier.model.lastGpuTimeMs;
  }

  get upgrade(): UpgradeStatus {
    return this.classifier.model.upgrade;
  }

  async run(source: ImageSource): Promise<void> {
    const top = await this.classifier.classify(source, { topK: 5 });
    showPredictions(this.named(top));
  }

  /** The page's names for the classes: the current labels where they name them. */
  private named(top: readonly Classification[]): Classification[] {
    const labels = this.labels();
    return top.map((t) => ({ ...t, label: labels?.[t.index] ?? t.label }));
  }

  clear(): void {
    showPredictions([]);
  }

  dispose(): void {
    this.classifier.dispose();
  }
}
