/**
 * torchvision.models.mobilenet_v2, layer for layer and name for name, as an unfused graph.
 */
import { ShapeError } from '../errors.ts';
import { GraphBuilder } from '../graph/builder.ts';
import type { Graph } from '../graph/ir.ts';
import { convBNReLU, invertedResidual } from './blocks.ts';
import type { ParamSource, ParamSpec } from './params.ts';
import { recordParamShapes } from './params.ts';

/** torchvision's `inverted_residual_setting`: expand ratio t, channels c, repeats n, first stride s. */
export const MOBILENET_V2_SETTING: readonly (readonly [t: number, c: number, n: number, s: number])[] = [
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
];

/** torchvision `_make_divisible`: round to a multiple of `divisor`, not going down by more than 10%. */
export function makeDivisible(v: number, divisor: number, minValue?: number): number {
  const min = minValue ?? divisor;
  let newV = Math.max(min, Math.floor(Math.trunc(v + divisor / 2) / divisor) * divisor);
  if (newV < 0.9 * v) newV += divisor;
  return newV;
}

export interface MobileNetV2Options {
  /** torchvision `width_mult`; default 1. */
  widthMultiplier?: number;
  /** Default 1000. */
  numClasses?: number;
  /** Square input side; default 224. */
  inputSize?: number;
  /** Default 1. */
  batch?: number;
  params: ParamSource;
  /** Append a softmax over the logits; default false. */
  softmax?: boolean;
  /** torchvision `round_nearest`; default 8. */
  roundNearest?: number;
}

export interface MobileNetV2BlockConfig {
  /** Module path, `features.{i}`. */
  readonly prefix: string;
  readonly inC: number;
  readonly outC: number;
  readonly stride: number;
  readonly expandRatio: number;
}

export interface MobileNetV2Config {
  /** Stem output channels (`features.0`). */
  readonly stemChannels: number;
  /** `features.1` ... `features.17` for the standard table. */
  readonly blocks: readonly MobileNetV2BlockConfig[];
  /** `features.{1 + blocks.length}` output channels = classifier input. */
  readonly lastChannel: number;
  readonly numClasses: number;
}

/** The channel plan torchvision's `MobileNetV2.__init__` computes. */
export function mobilenetV2Config(o: Omit<MobileNetV2Options, 'params'> = {}): MobileNetV2Config {
  const w = o.widthMultiplier ?? 1;
  const roundNearest = o.roundNearest ?? 8;
  const numClasses = o.numClasses ?? 1000;
  if (!(w > 0) || !Number.isFinite(w)) throw new ShapeError(`mobilenetV2: widthMultiplier must be > 0, got ${w}`);
  if (!Number.isInteger(roundNearest) || roundNearest < 1) {
    throw new ShapeError(`mobilenetV2: roundNearest must be a positive integer, got ${roundNearest}`);
  }
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new ShapeError(`mobilenetV2: numClasses must be a positive integer, got ${numClasses}`);
  }
  let inputChannel = makeDivisible(32 * w, roundNearest);
  const stemChannels = inputChannel;
  const lastChannel = makeDivisible(1280 * Math.max(1, w), roundNearest);
  const blocks: MobileNetV2BlockConfig[] = [];
  for (const [t, c, n, s] of MOBILENET_V2_SETTING) {
    const outputChannel = makeDivisible(c * w, roundNearest);
    for (let i = 0; i < n; i++) {
      blocks.push({
        prefix: `features.${blocks.length + 1}`,
        inC: inputChannel,
        outC: outputChannel,
        stride: i === 0 ? s : 1,
        expandRatio: t,
      });
      inputChannel = outputChannel;
    }
  }
  return { stemChannels, blocks, lastChannel, numClasses };
}

/**
 * torchvision `mobilenet_v2` in eval mode: input `input` `[batch, 3, inputSize, inputSize]`; `features.0` stem
 * ConvBNReLU6 3x3 s2; `features.1..17` InvertedResiduals; `features.18` ConvBNReLU6 1x1 to last_channel;
 * adaptive average pool (`avgpool`), `flatten`, dropout (nothing at inference), `classifier.1` Linear with
 * bias; optional `softmax`. Output: logits (or probabilities) `[batch, numClasses, 1, 1]`.
 */
export function mobilenetV2(o: MobileNetV2Options): Graph {
  const cfg = mobilenetV2Config(o);
  const size = o.inputSize ?? 224;
  const batch = o.batch ?? 1;
  const p = o.params;
  const b = new GraphBuilder();
  let x = b.input('input', [batch, 3, size, size]);
  x = convBNReLU(b, x, p, 'features.0', { inC: 3, outC: cfg.stemChannels, kernel: 3, stride: 2, activation: 'relu6' });
  for (const blk of cfg.blocks) x = invertedResidual(b, x, p, blk.prefix, blk);
  const last = cfg.blocks.length > 0 ? cfg.blocks[cfg.blocks.length - 1].outC : cfg.stemChannels;
  x = convBNReLU(b, x, p, `features.${cfg.blocks.length + 1}`, {
    inC: last,
    outC: cfg.lastChannel,
    kernel: 1,
    activation: 'relu6',
  });
  x = b.globalAvgPool(x, 'avgpool');
  x = b.flatten(x, 'flatten');
  x = b.linear(
    x,
    {
      outFeatures: cfg.numClasses,
      weight: p.get('classifier.1.weight', [cfg.numClasses, cfg.lastChannel]),
      bias: p.get('classifier.1.bias', [cfg.numClasses]),
    },
    'classifier.1',
  );
  if (o.softmax) x = b.softmax(x, 'softmax');
  b.output(x);
  return b.build();
}

/**
 * Every parameter and buffer `mobilenetV2(options)` reads, in build order, with torchvision `state_dict`
 * names and shapes (`num_batches_tracked` buffers are not read and not listed).
 */
export function mobilenetV2ParamShapes(o: Omit<MobileNetV2Options, 'params'> = {}): ParamSpec[] {
  return recordParamShapes((params) => mobilenetV2({ ...o, params }));
}
