/**
 * The peers benchmark's zoo mode (`npm run bench:peers -- --zoo`): torchvision networks exported by the zoo
 * harness (`scripts/zoo/export.py`), one per family, each at an input side small enough for a software adapter.
 * Pure: the script resolves these against the zoo's table and exports them; the page fetches the files.
 */

/** One zoo network as a request carries it. */
export interface ZooNetwork {
  /** torchvision's name, as in `scripts/zoo/models.json`. */
  readonly model: string;
  readonly side: number;
  /** Where the page fetches the ONNX file (the script's Vite server serves the export cache). */
  readonly url: string;
}

/**
 * The default set: one network per family of issue #16's speed goal, and DeepLabV3-MobileNetV3 (issue #17).
 * Sides: 224 where the network is cheap, smaller where the peers take many seconds per inference on
 * SwiftShader (Inception v3 is made for 299), so that the whole mode runs in about 10-20 minutes there.
 */
export const ZOO_BENCH_DEFAULTS: readonly { readonly model: string; readonly side: number }[] = [
  { model: 'efficientnet_b0', side: 224 },
  { model: 'mobilenet_v3_large', side: 224 },
  { model: 'densenet121', side: 128 },
  { model: 'googlenet', side: 160 },
  { model: 'inception_v3', side: 160 },
  { model: 'squeezenet1_1', side: 224 },
  { model: 'shufflenet_v2_x1_0', side: 224 },
  { model: 'regnet_y_400mf', side: 224 },
  { model: 'convnext_tiny', side: 128 },
  { model: 'deeplabv3_mobilenet_v3_large', side: 128 },
];

/** Repeats per zoo network: the cold start's inference warms each engine up, then one more, then 3 rounds. */
export const ZOO_REPEATS = { warmups: 1, rounds: 3 } as const;
export const ZOO_QUICK_REPEATS = { warmups: 0, rounds: 1 } as const;

export function zooTitle(z: Pick<ZooNetwork, 'model' | 'side'>): string {
  return `${z.model} ${z.side}`;
}
