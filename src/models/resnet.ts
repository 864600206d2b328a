/**
 * torchvision.models.resnet50 (v1.5: stride on the 3x3 conv) and other Bottleneck ResNets, layer for layer
 * and name for name, as an unfused graph.
 */
import { ShapeError } from '../errors.ts';
import { GraphBuilder } from '../graph/builder.ts';
import type { Graph } from '../graph/ir.ts';
import { BOTTLENECK_EXPANSION, batchNorm2d, bottleneck, conv2dNoBias } from './blocks.ts';
import type { ParamSource, ParamSpec } from './params.ts';
import { recordParamShapes } from './params.ts';

export type ResNetLayers = readonly [number, number, number, number];

export interface ResNetOptions {
  /** Bottleneck blocks per stage, e.g. `[3, 4, 6, 3]` for ResNet-50, `[3, 4, 23, 3]` for ResNet-101. */
  layers: ResNetLayers;
  /** Default 1000. */
  numClasses?: number;
  /** Square input side; default 224. */
  inputSize?: number;
  /** Default 1. */
  batch?: number;
  params: ParamSource;
  /** Append a softmax over the logits; default false. */
  softmax?: boolean;
  /** Bottleneck widths (torchvision `planes`) per stage; default `[64, 128, 256, 512]`. Smaller = faster tests. */
  widths?: readonly [number, number, number, number];
  /** Stem channels (torchvision `inplanes` = 64). */
  stemChannels?: number;
}

export type ResNet50Options = Omit<ResNetOptions, 'layers'>;

export const RESNET50_LAYERS: ResNetLayers = [3, 4, 6, 3];

/**
 * A torchvision Bottleneck ResNet in eval mode: input `input` `[batch, 3, inputSize, inputSize]`; `conv1` 7x7
 * s2 p3 (no bias), `bn1`, `relu`, `maxpool` 3x3 s2 p1; `layer1..layer4` of Bottlenecks (`layer{i}.{j}`),
 * first block of layers 2-4 with stride 2, downsample where torchvision's `_make_layer` adds one (stride != 1 or
 * channels change: the first block of every layer for the standard widths); `avgpool` (adaptive 1x1),
 * `flatten`, `fc` Linear with bias; optional `softmax`. Output `[batch, numClasses, 1, 1]`.
 */
export function resnet(o: ResNetOptions): Graph {
  const numClasses = o.numClasses ?? 1000;
  const size = o.inputSize ?? 224;
  const batch = o.batch ?? 1;
  const widths = o.widths ?? [64, 128, 256, 512];
  const stem = o.stemChannels ?? 64;
  if (o.layers.length !== 4 || !o.layers.every((n) => Number.isInteger(n) && n >= 1)) {
    throw new ShapeError(`resnet: layers must be four positive integers, got [${o.layers.join(', ')}]`);
  }
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new ShapeError(`resnet: numClasses must be a positive integer, got ${numClasses}`);
  }
  const p = o.params;
  const b = new GraphBuilder();
  let x = b.input('input', [batch, 3, size, size]);
  x = conv2dNoBias(b, x, p, 'conv1', { inC: 3, outC: stem, kernel: 7, stride: 2, padding: 3 });
  x = batchNorm2d(b, x, p, 'bn1', stem);
  x = b.relu(x, 'relu');
  x = b.maxPool(x, { kernel: 3, stride: 2, padding: 1 }, 'maxpool');
  let inplanes = stem;
  for (let stage = 0; stage < 4; stage++) {
    const width = widths[stage];
    for (let j = 0; j < o.layers[stage]; j++) {
      const stride = j === 0 && stage > 0 ? 2 : 1;
      const downsample = j === 0 && (stride !== 1 || inplanes !== width * BOTTLENECK_EXPANSION);
      x = bottleneck(b, x, p, `layer${stage + 1}.${j}`, { inC: inplanes, width, stride, downsample });
      inplanes = width * BOTTLENECK_EXPANSION;
    }
  }
  x = b.globalAvgPool(x, 'avgpool');
  x = b.flatten(x, 'flatten');
  x = b.linear(
    x,
    {
      outFeatures: numClasses,
      weight: p.get('fc.weight', [numClasses, inplanes]),
      bias: p.get('fc.bias', [numClasses]),
    },
    'fc',
  );
  if (o.softmax) x = b.softmax(x, 'softmax');
  b.output(x);
  return b.build();
}

/** torchvision `resnet50`: `resnet({ layers: [3, 4, 6, 3], ... })`. */
export function resnet50(o: ResNet50Options): Graph {
  return resnet({ ...o, layers: RESNET50_LAYERS });
}

/** Every parameter and buffer `resnet(options)` reads, in build order, with torchvision names and shapes. */
export function resnetParamShapes(o: Omit<ResNetOptions, 'params'>): ParamSpec[] {
  return recordParamShapes((params) => resnet({ ...o, params }));
}

/** `resnetParamShapes` for ResNet-50. */
export function resnet50ParamShapes(o: Omit<ResNet50Options, 'params'> = {}): ParamSpec[] {
  return resnetParamShapes({ ...o, layers: RESNET50_LAYERS });
}
