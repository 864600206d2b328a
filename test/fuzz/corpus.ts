/**
 * Seed files the fuzzer mutates, per format: real and generated models that load. TFLite: the shared
 * MobileNetV2 (when ../shared is there) and small float32 / uint8 / int8 / float16 classifiers written with
 * `TfliteWriter`; ONNX: exports of small MobileNetV2 and ResNet graphs with random weights and hand-made
 * graphs covering every op the loader reads; safetensors: a small torchvision MobileNetV2 checkpoint in F32,
 * F16 and BF16 and a few loose tensors. Everything is deterministic.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { LoadModelOptions } from '../../src/formats/index.ts';
import { exportOnnx } from '../../src/formats/onnx/export.ts';
import { DataType } from '../../src/formats/onnx/proto.ts';
import type { NodeInit, TensorInit } from '../../src/formats/onnx/writer.ts';
import { attr, encodeModel, makeGraph, makeModel, makeNode, makeTensor, makeValueInfo } from '../../src/formats/onnx/writer.ts';
import { writeSafetensors } from '../../src/formats/safetensors/index.ts';
import { BuiltinOp, OptionsType, TensorType } from '../../src/formats/tflite/schema.ts';
import type { WriterQuant } from '../helpers/tflite-writer.ts';
import { options, TfliteWriter } from '../helpers/tflite-writer.ts';
import { mobilenetV2, mobilenetV2ParamShapes } from '../../src/models/mobilenet-v2.ts';
import { randomParams } from '../../src/models/params.ts';
import { resnet } from '../../src/models/resnet.ts';
import { onnxBinaryNet, tfliteBinaryNet } from './binary-seeds.ts';
import { onnxMatMulNet, tfliteRsqrtPreluNet } from './matmul-seeds.ts';
import { Rng } from '../../src/util/random.ts';
import { SHARED_MODEL } from '../shared.ts';
import { onnxUpsampleNet, onnxUpsampleOld, tfliteUpsampleNet } from './upsample-seeds.ts';
import { onnxOpset1Net, onnxReduceNet, tfliteReduceMax } from './corpus-reduce.ts';
import { onnxActivationNet, tfliteActivationNet } from './activation-seeds.ts';
import { onnxChannelNet, tfliteChannelNet } from './channels-corpus.ts';
import { onnxShapeFoldNet } from './shape-seeds.ts';
import { onnxShuffleNet } from './shuffle-seeds.ts';
import { onnxConvNextBlock } from './convnext-seeds.ts';
import { onnxGroupedNet } from './grouped-seeds.ts';
import { tfliteOracleCases } from '../tflite-oracle-cases.ts';

export type FuzzFormat = 'tflite' | 'onnx' | 'safetensors';
export const FUZZ_FORMATS: readonly FuzzFormat[] = ['tflite', 'onnx', 'safetensors'];

export interface Seed {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly options: LoadModelOptions;
  /** Large seeds (the shared model) are mutated in fewer cases: they take longer to parse. */
  readonly large: boolean;
}

// ---- TFLite ---------------------------------------------------------------------------------------------

export type Encoding = 'float' | 'float16' | 'uint8' | 'int8';

function tfliteWeights(w: TfliteWriter, rng: Rng, name: string, shape: number[], axis: number, enc: Encoding): number {
  const count = shape.reduce((a, d) => a * d, 1);
  switch (enc) {
    case 'float':
      return w.float32(name, shape, Array.from({ length: count }, () => rng.uniform(-1, 1)));
    case 'float16': {
      const bits = Array.from({ length: count }, () => (rng.next() < 0.5 ? 0x8000 : 0) | (rng.int(12, 15) << 10) | rng.int(0, 1023));
      const half = w.float16(`${name}/f16`, shape, bits);
      const id = w.activation(name, shape);
      w.op(BuiltinOp.DEQUANTIZE, [half], [id], options.empty(OptionsType.DequantizeOptions));
      return id;
    }
    case 'uint8':
      return w.uint8(name, shape, Array.from({ length: count }, () => rng.int(0, 255)), { scale: [0.01], zeroPoint: [128] });
    case 'int8': {
      const channels = shape[axis];
      const quant: WriterQuant = { scale: Array.from({ length: channels }, () => 0.002 + rng.next() * 0.01), zeroPoint: new Array(channels).fill(0), quantizedDimension: axis };
      return w.int8(name, shape, Array.from({ length: count }, () => rng.int(-127, 127)), quant);
    }
  }
}

function tfliteBias(w: TfliteWriter, rng: Rng, name: string, n: number, enc: Encoding): number {
  if (enc === 'uint8' || enc === 'int8') {
    return w.int32(name, [n], Array.from({ length: n }, () => rng.int(-2000, 2000)), { scale: new Array(n).fill(0.0005), zeroPoint: new Array(n).fill(0) });
  }
  return w.float32(name, [n], Array.from({ length: n }, () => rng.uniform(-0.5, 0.5)));
}

/** conv 3x3 s2 → depthwise 3x3 → conv 1x1 → add → avg pool → mean → reshape → FC → softmax. */
export function tfliteClassifier(enc: Encoding, seed: number, labels = false): Uint8Array {
  return tfliteClassifierWriter(enc, seed, labels).build();
}

/** The writer behind `tfliteClassifier`, before `build()` (the structured mutations edit it). */
export function tfliteClassifierWriter(enc: Encoding, seed: number, labels = false): TfliteWriter {
  const rng = new Rng(seed);
  const w = new TfliteWriter();
  const quantized = enc === 'uint8' || enc === 'int8';
  const actType = enc === 'uint8' ? TensorType.UINT8 : enc === 'int8' ? TensorType.INT8 : TensorType.FLOAT32;
  const actQuant: WriterQuant | undefined = quantized ? { scale: [0.0625], zeroPoint: [enc === 'uint8' ? 128 : 0] } : undefined;
  const act = (name: string, shape: number[]) => w.activation(name, shape, actType, actQuant);
  const x = w.input('image', [1, 6, 6, 3], actType, actQuant);
  const f1 = tfliteWeights(w, rng, 'conv1/filter', [4, 3, 3, 3], 0, enc);
  const t1 = act('conv1/Relu', [1, 3, 3, 4]);
  w.op(BuiltinOp.CONV_2D, [x, f1, tfliteBias(w, rng, 'conv1/bias', 4, enc)], [t1], options.conv2d({ padding: 'SAME', stride: [2, 2], act: 'RELU' }));
  const f2 = tfliteWeights(w, rng, 'dw/filter', [1, 3, 3, 8], 3, enc);
  const t2 = act('dw/Relu6', [1, 3, 3, 8]);
  w.op(BuiltinOp.DEPTHWISE_CONV_2D, [t1, f2, tfliteBias(w, rng, 'dw/bias', 8, enc)], [t2], options.depthwise({ padding: 'SAME', stride: [1, 1], multiplier: 2, act: 'RELU6' }));
  const f3 = tfliteWeights(w, rng, 'project/filter', [8, 1, 1, 8], 0, enc);
  const t3 = act('project', [1, 3, 3, 8]);
  w.op(BuiltinOp.CONV_2D, [t2, f3, tfliteBias(w, rng, 'project/bias', 8, enc)], [t3], options.conv2d({ padding: 'VALID', stride: [1, 1] }));
  const t4 = act('add', [1, 3, 3, 8]);
  w.op(BuiltinOp.ADD, [t2, t3], [t4], options.add('RELU'));
  const t5 = act('pool', [1, 2, 2, 8]);
  w.op(BuiltinOp.AVERAGE_POOL_2D, [t4], [t5], options.pool({ padding: 'VALID', stride: [1, 1], filter: [2, 2] }));
  const axes = w.int32('mean/axes', [2], [1, 2]);
  const t6 = act('mean', [1, 1, 1, 8]);
  w.op(BuiltinOp.MEAN, [t5, axes], [t6], options.reducer(true));
  const shape = w.int32('reshape/shape', [2], [1, 8]);
  const t7 = act('reshape', [1, 8]);
  w.op(BuiltinOp.RESHAPE, [t6, shape], [t7], options.empty(OptionsType.ReshapeOptions));
  const f4 = tfliteWeights(w, rng, 'fc/weights', [10, 8], 0, enc);
  const t8 = act('fc', [1, 10]);
  w.op(BuiltinOp.FULLY_CONNECTED, [t7, f4, tfliteBias(w, rng, 'fc/bias', 10, enc)], [t8], options.fullyConnected());
  const t9 = w.activation('probs', [1, 10], quantized ? TensorType.UINT8 : TensorType.FLOAT32, quantized ? { scale: [1 / 256], zeroPoint: [0] } : undefined);
  w.op(BuiltinOp.SOFTMAX, [t8], [t9], options.softmax(1));
  w.output(t9);
  if (labels) {
    w.metadata.push({ name: 'labels', data: new TextEncoder().encode(Array.from({ length: 10 }, (_, i) => `class ${i}`).join('\n')) });
    w.metadata.push({ name: 'min_runtime_version', data: new TextEncoder().encode('1.5.0\0\0') });
  }
  return w;
}

/** PAD folded into a conv, max pool, RELU / RELU6 / RELU_N1_TO_1 ops, squeeze, FC on [n, c]. */
export function tfliteMisc(seed: number): Uint8Array {
  return tfliteMiscWriter(seed).build();
}

export function tfliteMiscWriter(seed: number): TfliteWriter {
  const rng = new Rng(seed);
  const w = new TfliteWriter();
  const x = w.input('x', [1, 5, 5, 2]);
  const pads = w.int32('pads', [4, 2], [0, 0, 1, 1, 1, 1, 0, 0]);
  const p = w.activation('padded', [1, 7, 7, 2]);
  w.op(BuiltinOp.PAD, [x, pads], [p], options.empty(OptionsType.PadOptions));
  const f = w.float32('conv/filter', [3, 3, 3, 2], Array.from({ length: 54 }, () => rng.uniform(-1, 1)));
  const c = w.activation('conv', [1, 5, 5, 3]);
  w.op(BuiltinOp.CONV_2D, [p, f, -1], [c], options.conv2d({ padding: 'VALID', stride: [1, 1], dilation: [1, 1] }));
  const r = w.activation('relu', [1, 5, 5, 3]);
  w.op(BuiltinOp.RELU, [c], [r]);
  const m = w.activation('maxpool', [1, 3, 3, 3]);
  w.op(BuiltinOp.MAX_POOL_2D, [r, -1], [m], options.pool({ padding: 'SAME', stride: [2, 2], filter: [3, 3], act: 'RELU6' }));
  const r6 = w.activation('relu6', [1, 3, 3, 3]);
  w.op(BuiltinOp.RELU6, [m], [r6]);
  const axes = w.int32('axes', [2], [1, 2]);
  const mean = w.activation('mean', [1, 3]);
  w.op(BuiltinOp.MEAN, [r6, axes], [mean], options.reducer(false));
  const fw = w.float32('fc/w', [4, 3], Array.from({ length: 12 }, () => rng.uniform(-1, 1)));
  const fb = w.float32('fc/b', [4], [0.1, -0.1, 0.2, 0]);
  const fc = w.activation('fc', [1, 4]);
  w.op(BuiltinOp.FULLY_CONNECTED, [mean, fw, fb], [fc], options.fullyConnected('RELU_N1_TO_1'));
  const sq = w.activation('squeeze', [1, 1, 1, 4]);
  w.op(BuiltinOp.RESHAPE, [fc], [sq]);
  const out = w.activation('out', [1, 4]);
  w.op(BuiltinOp.RELU_N1_TO_1, [sq], [out]);
  w.output(out);
  return w;
}

export function tfliteCorpus(): Seed[] {
  const seeds: Seed[] = [
    { name: 'tflite-float', bytes: tfliteClassifier('float', 1), options: {}, large: false },
    { name: 'tflite-float16', bytes: tfliteClassifier('float16', 2), options: {}, large: false },
    { name: 'tflite-uint8-labels', bytes: tfliteClassifier('uint8', 3, true), options: {}, large: false },
    { name: 'tflite-int8', bytes: tfliteClassifier('int8', 4), options: {}, large: false },
    { name: 'tflite-misc', bytes: tfliteMisc(5), options: {}, large: false },
    { name: 'tflite-upsample', bytes: tfliteUpsampleNet(6), options: {}, large: false },
    { name: 'tflite-binary', bytes: tfliteBinaryNet(6), options: {}, large: false },
    { name: 'tflite-reduce-max', bytes: tfliteReduceMax(), options: {}, large: false },
    { name: 'tflite-activations', bytes: tfliteActivationNet(), options: {}, large: false },
    { name: 'tflite-channels', bytes: tfliteChannelNet(6), options: {}, large: false },
    // The browser oracle's op models: the quantized forms of the ops above, and the SE block's MUL.
    ...tfliteOracleCases()
      .filter((c) => /^(CONCATENATION|HARD_SWISH|RESIZE_BILINEAR half|ARG_MAX) uint8$|^MUL float$/.test(c.name))
      .map((c) => ({ name: `tflite-oracle-${c.name.replace(/ /g, '-')}`, bytes: c.model, options: {}, large: false })),
    { name: 'tflite-rsqrt-prelu', bytes: tfliteRsqrtPreluNet(6), options: {}, large: false },
  ];
  if (existsSync(SHARED_MODEL)) {
    seeds.push({ name: 'tflite-shared-mobilenet_v2_quant', bytes: new Uint8Array(readFileSync(SHARED_MODEL)), options: {}, large: true });
  }
  return seeds;
}

// ---- ONNX -----------------------------------------------------------------------------------------------

const f32 = (rng: Rng, n: number) => Array.from({ length: n }, () => rng.uniform(-1, 1));

function onnx(nodes: NodeInit[], inputs: [string, number[]][], outputs: [string, number[] | null][], inits: TensorInit[], opset = 13): Uint8Array {
  return encodeModel(
    makeModel({
      opset,
      graph: makeGraph({
        nodes,
        inputs: inputs.map(([n, d]) => makeValueInfo(n, d)),
        outputs: outputs.map(([n, d]) => makeValueInfo(n, d)),
        initializers: inits,
      }),
      metadata: { author: 'webcnn fuzz' },
    }),
  );
}

/** Conv → BatchNormalization → Relu → MaxPool → GlobalAveragePool → Flatten → Gemm → Softmax. */
export function onnxConvNet(seed: number): Uint8Array {
  const rng = new Rng(seed);
  const C = 4;
  return onnx(
    [
      makeNode('Conv', ['x', 'w', 'b'], ['c'], { kernel_shape: attr.ints([3, 3]), strides: attr.ints([1, 1]), pads: attr.ints([1, 1, 1, 1]), dilations: attr.ints([1, 1]), group: attr.int(1) }, 'conv'),
      makeNode('BatchNormalization', ['c', 'g', 'beta', 'mean', 'var'], ['bn'], { epsilon: attr.float(1e-5) }, 'bn'),
      makeNode('Relu', ['bn'], ['r'], {}, 'relu'),
      makeNode('MaxPool', ['r'], ['m'], { kernel_shape: attr.ints([2, 2]), strides: attr.ints([2, 2]), ceil_mode: attr.int(1) }, 'pool'),
      makeNode('GlobalAveragePool', ['m'], ['gap'], {}, 'gap'),
      makeNode('Flatten', ['gap'], ['flat'], { axis: attr.int(1) }, 'flatten'),
      makeNode('Gemm', ['flat', 'fcw', 'fcb'], ['logits'], { transB: attr.int(1), alpha: attr.float(1), beta: attr.float(1) }, 'fc'),
      makeNode('Softmax', ['logits'], ['probs'], { axis: attr.int(-1) }, 'softmax'),
    ],
    [['x', [1, 3, 8, 8]]],
    [['probs', [1, 5]]],
    [
      makeTensor('w', [C, 3, 3, 3], f32(rng, C * 27)),
      makeTensor('b', [C], f32(rng, C)),
      makeTensor('g', [C], f32(rng, C)),
      makeTensor('beta', [C], f32(rng, C)),
      makeTensor('mean', [C], f32(rng, C)),
      makeTensor('var', [C], f32(rng, C).map((v) => 1 + Math.abs(v))),
      makeTensor('fcw', [5, C], f32(rng, 5 * C)),
      makeTensor('fcb', [5], f32(rng, 5), DataType.FLOAT, { raw: false }),
    ],
  );
}

/** Pad (opset 11 inputs) → Conv → Clip (constant bounds) → AveragePool → Reshape → MatMul → Add → Softmax. */
export function onnxPadNet(seed: number): Uint8Array {
  const rng = new Rng(seed);
  return onnx(
    [
      makeNode('Pad', ['x', 'pads', 'pv'], ['p'], { mode: attr.string('constant') }, 'pad'),
      makeNode('Conv', ['p', 'w'], ['c'], { auto_pad: attr.string('VALID') }, 'conv'),
      makeNode('Clip', ['c', 'lo', 'hi'], ['clip'], {}, 'clip'),
      makeNode('AveragePool', ['clip'], ['avg'], { kernel_shape: attr.ints([2, 2]), strides: attr.ints([2, 2]), auto_pad: attr.string('SAME_UPPER'), count_include_pad: attr.int(0) }, 'avg'),
      makeNode('Reshape', ['avg', 'shape'], ['rs'], {}, 'reshape'),
      makeNode('MatMul', ['rs', 'mm'], ['mmo'], {}, 'matmul'),
      makeNode('Add', ['mmo', 'bias'], ['logits'], {}, 'add'),
      makeNode('Softmax', ['logits'], ['probs'], { axis: attr.int(1) }, 'softmax'),
    ],
    [['x', [1, 2, 6, 6]]],
    [['probs', [1, 3]]],
    [
      makeTensor('pads', [8], [0, 0, 1, 1, 0, 0, 1, 1], DataType.INT64),
      makeTensor('pv', [], [0]),
      makeTensor('w', [3, 2, 3, 3], f32(rng, 54)),
      makeTensor('lo', [], [0]),
      makeTensor('hi', [], [6]),
      makeTensor('shape', [2], [1, -1], DataType.INT64, { raw: false }),
      makeTensor('mm', [27, 3], f32(rng, 81)),
      makeTensor('bias', [3], f32(rng, 3)),
    ],
    13,
  );
}

/** Opset 9: Clip attributes, per-channel Mul / Sub / Div constants, Dropout, Identity, Constant, 1-D Conv. */
export function onnxOldOps(seed: number): Uint8Array {
  const rng = new Rng(seed);
  return onnx(
    [
      makeNode('Conv', ['x', 'w'], ['c'], { kernel_shape: attr.ints([3]), pads: attr.ints([1, 1]) }, 'conv1d'),
      makeNode('Constant', [], ['scale'], { value: attr.tensor(makeTensor('', [4, 1], [1, 2, 3, 4])) }, 'const'),
      makeNode('Mul', ['c', 'scale'], ['m'], {}, 'mul'),
      makeNode('Sub', ['m', 'shift'], ['s'], {}, 'sub'),
      makeNode('Div', ['s', 'two'], ['d'], {}, 'div'),
      makeNode('Clip', ['d'], ['clip'], { min: attr.float(-1), max: attr.float(1) }, 'clip'),
      makeNode('Dropout', ['clip'], ['drop'], { ratio: attr.float(0.5) }, 'dropout'),
      makeNode('Identity', ['drop'], ['id'], {}, 'identity'),
      makeNode('GlobalMaxPool', ['id'], ['gmp'], {}, 'gmp'),
      makeNode('Flatten', ['gmp'], ['out'], {}, 'flatten'),
    ],
    [['x', [1, 2, 10]]],
    [['out', [1, 4]]],
    [makeTensor('w', [4, 2, 3], f32(rng, 24)), makeTensor('shift', [4, 1], f32(rng, 4), DataType.DOUBLE), makeTensor('two', [], [2])],
    9,
  );
}

export function onnxCorpus(): Seed[] {
  const mb = mobilenetV2({ inputSize: 32, widthMultiplier: 0.35, numClasses: 10, params: randomParams(1) });
  const rn = resnet({ layers: [1, 1, 1, 1], widths: [4, 8, 8, 16], stemChannels: 8, inputSize: 32, numClasses: 10, params: randomParams(2) });
  return [
    { name: 'onnx-mobilenet_v2-0.35-32', bytes: exportOnnx(mb), options: { fileName: 'm.onnx' }, large: true },
    { name: 'onnx-resnet-tiny', bytes: exportOnnx(rn), options: {}, large: false },
    { name: 'onnx-convnet', bytes: onnxConvNet(3), options: {}, large: false },
    { name: 'onnx-padnet', bytes: onnxPadNet(4), options: { fileName: 'p.onnx' }, large: false },
    { name: 'onnx-oldops', bytes: onnxOldOps(5), options: {}, large: false },
    { name: 'onnx-upsample', bytes: onnxUpsampleNet(6), options: {}, large: false },
    { name: 'onnx-upsample-opset9', bytes: onnxUpsampleOld(), options: {}, large: false },
    { name: 'onnx-binary', bytes: onnxBinaryNet(6), options: {}, large: false },
    { name: 'onnx-reduce-13', bytes: onnxReduceNet(6, 13), options: {}, large: false },
    { name: 'onnx-reduce-18', bytes: onnxReduceNet(7, 18), options: {}, large: false },
    { name: 'onnx-opset1', bytes: onnxOpset1Net(8), options: {}, large: false },
    { name: 'onnx-activations', bytes: onnxActivationNet(6), options: {}, large: false },
    { name: 'onnx-channels', bytes: onnxChannelNet(6), options: {}, large: false },
    { name: 'onnx-shape-fold', bytes: onnxShapeFoldNet(6), options: {}, large: false },
    { name: 'onnx-shuffle', bytes: onnxShuffleNet(6), options: {}, large: false },
    { name: 'onnx-convnext-17', bytes: onnxConvNextBlock(6, 17), options: {}, large: false },
    { name: 'onnx-convnext-13', bytes: onnxConvNextBlock(7, 13), options: {}, large: false },
    { name: 'onnx-grouped', bytes: onnxGroupedNet(6), options: {}, large: false },
    { name: 'onnx-matmul-prelu', bytes: onnxMatMulNet(6), options: {}, large: false },
  ];
}

// ---- safetensors ----------------------------------------------------------------------------------------

export const TINY_MOBILENET = { widthMultiplier: 0.35, numClasses: 10 } as const;

export function tinyMobilenetCheckpoint(dtype: 'F32' | 'F16' | 'BF16', prefix = '', metadata?: Record<string, string>): Uint8Array {
  const params = randomParams(7);
  const specs = mobilenetV2ParamShapes(TINY_MOBILENET);
  const tensors = new Map(specs.map((s) => [`${prefix}${s.name}`, { data: params.get(s.name, s.shape), shape: s.shape, dtype }]));
  return writeSafetensors(tensors, metadata);
}

export function safetensorsCorpus(): Seed[] {
  const rng = new Rng(11);
  const opts = { architecture: 'mobilenet_v2', inputSize: 32 } as const;
  return [
    { name: 'st-mobilenet-f16', bytes: tinyMobilenetCheckpoint('F16'), options: opts, large: false },
    { name: 'st-mobilenet-bf16-module', bytes: tinyMobilenetCheckpoint('BF16', 'module.', { format: 'pt' }), options: opts, large: false },
    { name: 'st-mobilenet-f32', bytes: tinyMobilenetCheckpoint('F32'), options: { ...opts, numClasses: 10 }, large: true },
    {
      name: 'st-loose',
      bytes: writeSafetensors({ 'fc.weight': { data: rng.fill(20, -1, 1), shape: [4, 5] }, 'fc.bias': { data: rng.fill(4, -1, 1), shape: [4], dtype: 'F16' }, scalar: { data: new Float32Array([1]), shape: [] } }, { note: 'x' }),
      options: { architecture: 'resnet50' },
      large: false,
    },
  ];
}

export function corpusFor(format: FuzzFormat): Seed[] {
  const seeds = format === 'tflite' ? tfliteCorpus() : format === 'onnx' ? onnxCorpus() : safetensorsCorpus();
  // Plain, private copies (protobufjs encodes to Node Buffers, whose `slice` is a view).
  return seeds.map((s) => ({ ...s, bytes: new Uint8Array(s.bytes) }));
}
