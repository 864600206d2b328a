import { describe, expect, it } from 'vitest';
import { ModelFormatError, UnsupportedOpError, WebcnnError } from '../../errors.ts';
import type { Conv2dNode, Graph, PoolAttrs } from '../../graph/ir.ts';
import { runGraphReference } from '../../reference/index.ts';
import { Rng } from '../../util/random.ts';
import { irShapeFromDims, isTflite, loadTflite, samePadding } from './index.ts';
import { FlatReader } from './reader.ts';
import { BuiltinOp, OptionsType, TensorType } from './schema.ts';
import * as ref from '../../../test/helpers/tflite-nhwc.ts';
import type { WriterQuant } from '../../../test/helpers/tflite-writer.ts';
import { options, TfliteWriter, tinyClassifier } from '../../../test/helpers/tflite-writer.ts';

type Encoding = 'float' | 'float16' | 'uint8' | 'int8';

interface Weights {
  id: number;
  values: Float64Array;
  /** Per-tensor or per-channel weight scales (quantized encodings). */
  scales: number[] | null;
}

function halfBitsToFloat(bits: number): number {
  const s = bits & 0x8000 ? -1 : 1;
  return s * 2 ** (((bits >> 10) & 0x1f) - 15) * (1 + (bits & 0x3ff) / 1024);
}

/** Adds a weight tensor in the given encoding and returns its dequantized values, computed here. */
function addWeights(w: TfliteWriter, rng: Rng, name: string, shape: number[], axis: number, enc: Encoding): Weights {
  const count = shape.reduce((a, d) => a * d, 1);
  const values = new Float64Array(count);
  switch (enc) {
    case 'float': {
      for (let i = 0; i < count; i++) values[i] = Math.fround(rng.uniform(-1, 1));
      return { id: w.float32(name, shape, values), values, scales: null };
    }
    case 'float16': {
      const bits = new Uint16Array(count);
      for (let i = 0; i < count; i++) {
        bits[i] = (rng.next() < 0.5 ? 0x8000 : 0) | (rng.int(12, 15) << 10) | rng.int(0, 1023);
        values[i] = halfBitsToFloat(bits[i]);
      }
      const half = w.float16(`${name}/f16`, shape, bits);
      const id = w.activation(name, shape);
      w.op(BuiltinOp.DEQUANTIZE, [half], [id]);
      return { id, values, scales: null };
    }
    case 'uint8': {
      const s = 0.004 + rng.next() * 0.01;
      const z = rng.int(100, 150);
      const q = Array.from({ length: count }, () => rng.int(0, 255));
      q.forEach((v, i) => (values[i] = Math.fround(s) * (v - z)));
      return { id: w.uint8(name, shape, q, { scale: [s], zeroPoint: [z] }), values, scales: [Math.fround(s)] };
    }
    case 'int8': {
      const channels = shape[axis];
      const inner = shape.slice(axis + 1).reduce((a, d) => a * d, 1);
      const scales = Array.from({ length: channels }, () => Math.fround(0.002 + rng.next() * 0.01));
      const q = Array.from({ length: count }, () => rng.int(-127, 127));
      q.forEach((v, i) => (values[i] = scales[Math.floor(i / inner) % channels] * v));
      const quant: WriterQuant = { scale: scales, zeroPoint: scales.map(() => 0), quantizedDimension: axis };
      return { id: w.int8(name, shape, q, quant), values, scales };
    }
  }
}

/** Float32 bias, or int32 with scale input_scale * weight_scale[c]. */
function addBias(w: TfliteWriter, rng: Rng, name: string, n: number, weights: Weights, inScale: number): { id: number; values: Float64Array } {
  const values = new Float64Array(n);
  if (!weights.scales) {
    for (let i = 0; i < n; i++) values[i] = Math.fround(rng.uniform(-0.5, 0.5));
    return { id: w.float32(name, [n], values), values };
  }
  const scales = Array.from({ length: n }, (_, c) => inScale * weights.scales![weights.scales!.length === 1 ? 0 : c]);
  const q = Array.from({ length: n }, () => rng.int(-2000, 2000));
  q.forEach((v, i) => (values[i] = v * scales[i]));
  return { id: w.int32(name, [n], q, { scale: scales.map(Math.fround), zeroPoint: scales.map(() => 0) }), values };
}

const ACT_SCALE = 0.0625;

/**
 * conv 3x3 s2 SAME relu → depthwise 3x3 m=2 SAME relu6 → conv 1x1 → add relu → avgpool 2x2 VALID → mean HW →
 * reshape → fully connected → softmax, with weights in `enc`; returns the file and an NHWC oracle.
 */
function buildNet(enc: Encoding, seed = 1): { bytes: Uint8Array; oracle: (x: ref.Nhwc) => ref.Nhwc } {
  const rng = new Rng(seed);
  const w = new TfliteWriter();
  const quantized = enc === 'uint8' || enc === 'int8';
  const actType = enc === 'uint8' ? TensorType.UINT8 : enc === 'int8' ? TensorType.INT8 : TensorType.FLOAT32;
  const actQuant: WriterQuant | undefined = quantized ? { scale: [ACT_SCALE], zeroPoint: [enc === 'uint8' ? 128 : 0] } : undefined;
  const act = (name: string, shape: number[]): number => w.activation(name, shape, actType, actQuant);

  const x = w.input('image', [1, 5, 5, 2], actType, actQuant);
  const f1 = addWeights(w, rng, 'conv1/filter', [3, 3, 3, 2], 0, enc);
  const b1 = addBias(w, rng, 'conv1/bias', 3, f1, ACT_SCALE);
  const t1 = act('conv1/Relu', [1, 3, 3, 3]);
  w.op(BuiltinOp.CONV_2D, [x, f1.id, b1.id], [t1], options.conv2d({ padding: 'SAME', stride: [2, 2], act: 'RELU' }));

  const f2 = addWeights(w, rng, 'dw/filter', [1, 3, 3, 6], 3, enc);
  const b2 = addBias(w, rng, 'dw/bias', 6, f2, ACT_SCALE);
  const t2 = act('dw/Relu6', [1, 3, 3, 6]);
  w.op(BuiltinOp.DEPTHWISE_CONV_2D, [t1, f2.id, b2.id], [t2], options.depthwise({ padding: 'SAME', stride: [1, 1], multiplier: 2, act: 'RELU6' }));

  const f3 = addWeights(w, rng, 'project/filter', [6, 1, 1, 6], 0, enc);
  const b3 = addBias(w, rng, 'project/bias', 6, f3, ACT_SCALE);
  const t3 = act('project/BiasAdd', [1, 3, 3, 6]);
  w.op(BuiltinOp.CONV_2D, [t2, f3.id, b3.id], [t3], options.conv2d({ padding: 'VALID', stride: [1, 1] }));

  const t4 = act('add', [1, 3, 3, 6]);
  w.op(BuiltinOp.ADD, [t2, t3], [t4], options.add('RELU'));
  const t5 = act('pool', [1, 2, 2, 6]);
  w.op(BuiltinOp.AVERAGE_POOL_2D, [t4], [t5], options.pool({ padding: 'VALID', stride: [1, 1], filter: [2, 2] }));
  const axes = w.int32('mean/axes', [2], [1, 2]);
  const t6 = act('mean', [1, 1, 1, 6]);
  w.op(BuiltinOp.MEAN, [t5, axes], [t6], options.reducer(true));
  const newShape = w.int32('reshape/shape', [2], [1, 6]);
  const t7 = act('reshape', [1, 6]);
  w.op(BuiltinOp.RESHAPE, [t6, newShape], [t7], options.empty(OptionsType.ReshapeOptions));
  const f4 = addWeights(w, rng, 'fc/weights', [4, 6], 0, enc);
  const b4 = addBias(w, rng, 'fc/bias', 4, f4, ACT_SCALE);
  const t8 = act('fc', [1, 4]);
  w.op(BuiltinOp.FULLY_CONNECTED, [t7, f4.id, b4.id], [t8], options.fullyConnected());
  const t9 = w.activation('probs', [1, 4], quantized ? TensorType.UINT8 : TensorType.FLOAT32, quantized ? { scale: [1 / 256], zeroPoint: [0] } : undefined);
  w.op(BuiltinOp.SOFTMAX, [t8], [t9], options.softmax(1));
  w.output(t9);

  const oracle = (input: ref.Nhwc): ref.Nhwc => {
    const a1 = ref.conv2d(input, f1.values, [3, 3, 3, 2], b1.values, [2, 2], 'SAME', 'RELU');
    const a2 = ref.depthwise(a1, f2.values, [1, 3, 3, 6], b2.values, [1, 1], 'SAME', 'RELU6');
    const a3 = ref.conv2d(a2, f3.values, [6, 1, 1, 6], b3.values, [1, 1], 'VALID');
    const a4 = ref.add(a2, a3, 'RELU');
    const a5 = ref.pool(a4, 'avg', [2, 2], [1, 1], 'VALID');
    const a6 = ref.meanHW(a5);
    const a8 = ref.fullyConnected(a6, f4.values, 4, b4.values);
    return ref.softmax(a8);
  };
  return { bytes: w.build(), oracle };
}

function randomInput(shape: [number, number, number, number], seed: number): ref.Nhwc {
  const rng = new Rng(seed);
  const n = shape.reduce((a, d) => a * d, 1);
  return ref.nhwc(shape, Array.from({ length: n }, () => Math.fround(rng.uniform(-2, 2))));
}

function runIr(graph: Graph, x: ref.Nhwc, output = 0): Float32Array {
  return runGraphReference(graph, [ref.toNchw(x)])[output];
}

function opCounts(graph: Graph): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const n of graph.nodes) counts[n.op] = (counts[n.op] ?? 0) + 1;
  return counts;
}

function convNodes(graph: Graph): Conv2dNode[] {
  return graph.nodes.filter((n): n is Conv2dNode => n.op === 'conv2d');
}

describe('TFLite loader: a small network against an NHWC oracle', () => {
  for (const enc of ['float', 'float16', 'uint8', 'int8'] as const) {
    it(`${enc} weights: conv, depthwise (multiplier 2), add, avg pool, mean, reshape, fc, softmax`, () => {
      const { bytes, oracle } = buildNet(enc);
      expect(isTflite(bytes)).toBe(true);
      const model = loadTflite(bytes);
      const { graph } = model;
      expect(opCounts(graph)).toEqual({ conv2d: 3, add: 1, avgPool: 1, globalAvgPool: 1, linear: 1, softmax: 1 });
      expect(graph.tensors[graph.inputs[0]].shape).toEqual([1, 2, 5, 5]);
      expect(graph.tensors[graph.outputs[0]].shape).toEqual([1, 4, 1, 1]);
      expect(model.inputDims).toEqual([[1, 5, 5, 2]]);
      expect(model.outputDims).toEqual([[1, 4]]);
      expect(model.outputsProbabilities).toBe(true);
      expect(model.metadata.layout).toBe('NHWC');
      const dw = convNodes(graph)[1];
      expect(dw.attrs.groups).toBe(3);
      expect(dw.attrs.outChannels).toBe(6);
      expect(convNodes(graph)[0].attrs.pads).toEqual([1, 1, 1, 1]); // 5 -> 3 with k3 s2: total 2
      for (const seed of [11, 12]) {
        const x = randomInput([1, 5, 5, 2], seed);
        const got = runIr(graph, x);
        const want = oracle(x);
        expect(ref.relativeError(got, want.data)).toBeLessThan(1e-5);
      }
      if (enc === 'uint8') expect(model.metadata.weights).toBe('uint8 per-tensor');
      if (enc === 'int8') expect(model.metadata.weights).toBe('int8 per-channel');
      if (enc === 'float16') expect(model.metadata.weights).toBe('float16, float32'); // float32 biases
    });
  }

  it('reads op codes from the old byte field, the new int32 field, or both', () => {
    for (const style of ['deprecated', 'new'] as const) {
      const w = new TfliteWriter();
      w.opcodeStyle = style;
      const x = w.input('x', [1, 4]);
      const y = w.activation('y', [1, 4]);
      w.op(BuiltinOp.SOFTMAX, [x], [y], options.softmax());
      w.output(y);
      expect(opCounts(loadTflite(w.build()).graph)).toEqual({ softmax: 1 });
    }
  });
});

describe('TFLite loader: padding', () => {
  it('computes TF SAME padding, extra row/column at the end', () => {
    expect(samePadding(4, 3, 2, 1)).toEqual([0, 1]);
    expect(samePadding(5, 3, 2, 1)).toEqual([1, 1]);
    expect(samePadding(224, 3, 2, 1)).toEqual([0, 1]);
    expect(samePadding(112, 3, 1, 1)).toEqual([1, 1]);
    expect(samePadding(4, 1, 2, 1)).toEqual([0, 0]);
    expect(samePadding(7, 3, 1, 2)).toEqual([2, 2]);
    expect(samePadding(8, 2, 2, 1)).toEqual([0, 0]);
  });

  const single = (
    inShape: [number, number, number, number],
    build: (w: TfliteWriter, rng: Rng, x: number) => { out: number; oracle: (x: ref.Nhwc) => ref.Nhwc },
  ) => {
    const w = new TfliteWriter();
    const rng = new Rng(7);
    const x = w.input('x', inShape);
    const { out, oracle } = build(w, rng, x);
    w.output(out);
    const model = loadTflite(w.build());
    const input = randomInput(inShape, 3);
    const want = oracle(input);
    const got = runIr(model.graph, input);
    expect(got.length).toBe(want.data.length);
    expect(ref.relativeError(got, ref.toNchw(want))).toBeLessThan(1e-5);
    return model.graph;
  };

  it('SAME stride 2 on an even input pads only bottom/right (conv and depthwise)', () => {
    const g = single([1, 4, 6, 2], (w, rng, x) => {
      const f = addWeights(w, rng, 'f', [3, 3, 3, 2], 0, 'float');
      const c = w.activation('c', [1, 2, 3, 3]);
      w.op(BuiltinOp.CONV_2D, [x, f.id, -1], [c], options.conv2d({ padding: 'SAME', stride: [2, 2] }));
      const d = addWeights(w, rng, 'd', [1, 3, 3, 3], 3, 'float');
      const y = w.activation('y', [1, 1, 2, 3]);
      w.op(BuiltinOp.DEPTHWISE_CONV_2D, [c, d.id, -1], [y], options.depthwise({ padding: 'SAME', stride: [2, 2], multiplier: 1 }));
      return {
        out: y,
        oracle: (input) =>
          ref.depthwise(ref.conv2d(input, f.values, [3, 3, 3, 2], null, [2, 2], 'SAME'), d.values, [1, 3, 3, 3], null, [2, 2], 'SAME'),
      };
    });
    const [conv, dw] = convNodes(g);
    expect(conv.attrs.pads).toEqual([0, 0, 1, 1]); // h 4 -> 2: total 1; w 6 -> 3: total 1
    expect(conv.attrs.bias).toBeNull();
    expect(dw.attrs.pads).toEqual([0, 1, 1, 1]); // h 2 -> 1: total 1 -> [0, 1]; w 3 -> 2: total 2 -> [1, 1]
  });

  it('VALID stride 2 uses no padding', () => {
    const g = single([1, 5, 5, 1], (w, rng, x) => {
      const f = addWeights(w, rng, 'f', [2, 3, 3, 1], 0, 'float');
      const y = w.activation('y', [1, 2, 2, 2]);
      w.op(BuiltinOp.CONV_2D, [x, f.id, -1], [y], options.conv2d({ padding: 'VALID', stride: [2, 2], act: 'RELU6' }));
      return { out: y, oracle: (input) => ref.conv2d(input, f.values, [2, 3, 3, 1], null, [2, 2], 'VALID', 'RELU6') };
    });
    expect(convNodes(g)[0].attrs.pads).toEqual([0, 0, 0, 0]);
    expect(convNodes(g)[0].attrs.activation).toEqual({ kind: 'relu6' });
  });

  it('SAME average pool divides by the in-bounds taps; SAME max pool with a fused ReLU', () => {
    const g = single([1, 5, 5, 2], (w, _rng, x) => {
      const a = w.activation('a', [1, 3, 3, 2]);
      w.op(BuiltinOp.AVERAGE_POOL_2D, [x], [a], options.pool({ padding: 'SAME', stride: [2, 2], filter: [3, 3] }));
      const m = w.activation('m', [1, 2, 2, 2]);
      w.op(BuiltinOp.MAX_POOL_2D, [a], [m], options.pool({ padding: 'SAME', stride: [2, 2], filter: [2, 2], act: 'RELU' }));
      return {
        out: m,
        oracle: (input) => {
          const p = ref.pool(input, 'avg', [3, 3], [2, 2], 'SAME');
          const q = ref.pool(p, 'max', [2, 2], [2, 2], 'SAME');
          return { shape: q.shape, data: q.data.map((v) => Math.max(v, 0)) };
        },
      };
    });
    const avg = g.nodes.find((n) => n.op === 'avgPool')!.attrs as PoolAttrs;
    expect(avg.pads).toEqual([1, 1, 1, 1]);
    expect(avg.countIncludePad).toBe(false);
    expect(g.nodes.map((n) => n.op)).toEqual(['avgPool', 'maxPool', 'activation']);
  });

  it('folds a zero PAD into the following depthwise conv (the TF stride-2 pattern) and conv', () => {
    const g = single([1, 4, 4, 2], (w, rng, x) => {
      const p1 = w.int32('p1', [4, 2], [0, 0, 0, 1, 0, 1, 0, 0]);
      const padded = w.activation('padded', [1, 5, 5, 2]);
      w.op(BuiltinOp.PAD, [x, p1], [padded], options.empty(OptionsType.PadOptions));
      const d = addWeights(w, rng, 'd', [1, 3, 3, 2], 3, 'float');
      const y = w.activation('y', [1, 2, 2, 2]);
      w.op(BuiltinOp.DEPTHWISE_CONV_2D, [padded, d.id, -1], [y], options.depthwise({ padding: 'VALID', stride: [2, 2], multiplier: 1 }));
      const p2 = w.int32('p2', [4, 2], [0, 0, 1, 1, 1, 1, 0, 0]);
      const padded2 = w.activation('padded2', [1, 4, 4, 2]);
      w.op(BuiltinOp.PAD, [y, p2], [padded2], options.empty(OptionsType.PadOptions));
      const f = addWeights(w, rng, 'f', [3, 3, 3, 2], 0, 'float');
      const z = w.activation('z', [1, 4, 4, 3]);
      w.op(BuiltinOp.CONV_2D, [padded2, f.id, -1], [z], options.conv2d({ padding: 'SAME', stride: [1, 1] }));
      return {
        out: z,
        oracle: (input) => {
          const a = ref.depthwise(ref.zeroPad(input, 0, 1, 0, 1), d.values, [1, 3, 3, 2], null, [2, 2], 'VALID');
          return ref.conv2d(ref.zeroPad(a, 1, 1, 1, 1), f.values, [3, 3, 3, 2], null, [1, 1], 'SAME');
        },
      };
    });
    expect(g.nodes.map((n) => n.op)).toEqual(['conv2d', 'conv2d']);
    expect(convNodes(g)[0].attrs.pads).toEqual([0, 0, 1, 1]);
    expect(convNodes(g)[1].attrs.pads).toEqual([2, 2, 2, 2]); // explicit 1 + SAME 1 on the padded 4x4
  });

  it('folds a zero PAD into a VALID average pool, counting the padded zeros', () => {
    const g = single([1, 3, 3, 2], (w, _rng, x) => {
      const p = w.int32('p', [4, 2], [0, 0, 1, 1, 1, 1, 0, 0]);
      const padded = w.activation('padded', [1, 5, 5, 2]);
      w.op(BuiltinOp.PAD, [x, p], [padded], options.empty(OptionsType.PadOptions));
      const y = w.activation('y', [1, 2, 2, 2]);
      w.op(BuiltinOp.AVERAGE_POOL_2D, [padded], [y], options.pool({ padding: 'VALID', stride: [2, 2], filter: [3, 3] }));
      return { out: y, oracle: (input) => ref.pool(ref.zeroPad(input, 1, 1, 1, 1), 'avg', [3, 3], [2, 2], 'VALID') };
    });
    const avg = g.nodes[0].attrs as PoolAttrs;
    expect(avg.pads).toEqual([1, 1, 1, 1]);
    expect(avg.countIncludePad).toBe(true);
  });

  it('refuses a PAD it cannot fold, saying why', () => {
    const padInto = (consumer: (w: TfliteWriter, padded: number) => void, paddings = [0, 0, 1, 1, 1, 1, 0, 0]) => {
      const w = new TfliteWriter();
      const x = w.input('x', [1, 4, 4, 2]);
      const p = w.int32('p', [4, 2], paddings);
      const c = paddings[6] + paddings[7];
      const padded = w.activation('padded', [1, 4 + paddings[2] + paddings[3], 4 + paddings[4] + paddings[5], 2 + c]);
      w.op(BuiltinOp.PAD, [x, p], [padded], options.empty(OptionsType.PadOptions));
      consumer(w, padded);
      return () => loadTflite(w.build());
    };
    const maxPool = padInto((w, padded) => {
      const y = w.activation('y', [1, 3, 3, 2]);
      w.op(BuiltinOp.MAX_POOL_2D, [padded], [y], options.pool({ padding: 'VALID', stride: [2, 2], filter: [2, 2] }));
      w.output(y);
    });
    expect(maxPool).toThrow(UnsupportedOpError);
    expect(maxPool).toThrow(/operator 0 \(PAD\).*MAX_POOL_2D/);
    const twoUsers = padInto((w, padded) => {
      const a = w.activation('a', [1, 3, 3, 2]);
      const b = w.activation('b', [1, 3, 3, 2]);
      w.op(BuiltinOp.AVERAGE_POOL_2D, [padded], [a], options.pool({ padding: 'VALID', stride: [2, 2], filter: [2, 2] }));
      w.op(BuiltinOp.AVERAGE_POOL_2D, [padded], [b], options.pool({ padding: 'VALID', stride: [2, 2], filter: [2, 2] }));
      w.output(a);
      w.output(b);
    });
    expect(twoUsers).toThrow(/feeds 2 operators/);
    const asOutput = padInto((w, padded) => w.output(padded));
    expect(asOutput).toThrow(/model output/);
    const channels = padInto((w, padded) => {
      const f = w.float32('f', [1, 1, 1, 3], [1, 1, 1]);
      const y = w.activation('y', [1, 6, 6, 1]);
      w.op(BuiltinOp.CONV_2D, [padded, f, -1], [y], options.conv2d({ padding: 'VALID', stride: [1, 1] }));
      w.output(y);
    }, [0, 0, 1, 1, 1, 1, 0, 1]);
    expect(channels).toThrow(/batch or channel axis/);
  });

  it('refuses PADV2 with a non-zero pad value', () => {
    const w = new TfliteWriter();
    const x = w.input('x', [1, 4, 4, 1]);
    const p = w.int32('p', [4, 2], [0, 0, 1, 1, 1, 1, 0, 0]);
    const v = w.float32('v', [], [-1]);
    const padded = w.activation('padded', [1, 6, 6, 1]);
    w.op(BuiltinOp.PADV2, [x, p, v], [padded], options.empty(OptionsType.PadV2Options));
    const f = w.float32('f', [1, 3, 3, 1], new Array(9).fill(1));
    const y = w.activation('y', [1, 4, 4, 1]);
    w.op(BuiltinOp.CONV_2D, [padded, f, -1], [y], options.conv2d({ padding: 'VALID', stride: [1, 1] }));
    w.output(y);
    expect(() => loadTflite(w.build())).toThrow(/PADV2 with pad value -1/);
  });
});

describe('TFLite loader: layout rules', () => {
  it('maps NHWC dims to the IR', () => {
    expect(irShapeFromDims([1, 224, 224, 3])).toEqual([1, 3, 224, 224]);
    expect(irShapeFromDims([1, 1001])).toEqual([1, 1001, 1, 1]);
    expect(irShapeFromDims([1, 1, 1001])).toEqual([1, 1001, 1, 1]);
    expect(irShapeFromDims([1, 49, 8])).toBeNull();
    expect(irShapeFromDims([1, -1, 4, 3])).toBeNull();
  });

  it('makes QUANTIZE, DEQUANTIZE, SQUEEZE and RESHAPE of [n, c] tensors aliases (no nodes)', () => {
    const w = new TfliteWriter();
    const x = w.input('x', [1, 2, 2, 3], TensorType.FLOAT32);
    const q = w.activation('q', [1, 2, 2, 3], TensorType.UINT8, { scale: [0.1], zeroPoint: [128] });
    w.op(BuiltinOp.QUANTIZE, [x], [q], options.empty(OptionsType.QuantizeOptions));
    const axes = w.int32('axes', [2], [1, 2]);
    const m = w.activation('m', [1, 1, 1, 3], TensorType.UINT8, { scale: [0.1], zeroPoint: [128] });
    w.op(BuiltinOp.MEAN, [q, axes], [m], options.reducer(true));
    const s = w.activation('s', [1, 3], TensorType.UINT8, { scale: [0.1], zeroPoint: [128] });
    w.op(BuiltinOp.SQUEEZE, [m], [s], options.empty(OptionsType.SqueezeOptions));
    const r = w.activation('r', [1, 1, 3], TensorType.UINT8, { scale: [0.1], zeroPoint: [128] });
    w.op(BuiltinOp.RESHAPE, [s], [r]);
    const d = w.activation('d', [1, 3]);
    w.op(BuiltinOp.DEQUANTIZE, [r], [d], options.empty(OptionsType.DequantizeOptions));
    w.output(d);
    const model = loadTflite(w.build());
    expect(model.graph.nodes.map((n) => n.op)).toEqual(['globalAvgPool']);
    expect(model.outputsProbabilities).toBe(false);
    const input = randomInput([1, 2, 2, 3], 5);
    expect(ref.relativeError(runIr(model.graph, input), ref.meanHW(input).data)).toBeLessThan(1e-6);
  });

  it('REDUCE_MAX over H and W (keep_dims 0 and 1) is a global max pool; other axes are refused', () => {
    for (const keep of [true, false]) {
      const w = new TfliteWriter();
      const x = w.input('x', [1, 3, 4, 5]);
      const axes = w.int32('axes', [2], [1, -2]);
      const m = w.activation('m', keep ? [1, 1, 1, 5] : [1, 5]);
      w.op(BuiltinOp.REDUCE_MAX, [x, axes], [m], options.reducer(keep));
      w.output(m);
      const model = loadTflite(w.build());
      expect(model.graph.nodes.map((n) => n.op)).toEqual(['maxPool']);
      const input = randomInput([1, 3, 4, 5], 11);
      const want = Array.from({ length: 5 }, (_, c) => Math.max(...Array.from({ length: 12 }, (_, p) => input.data[p * 5 + c])));
      expect(ref.relativeError(runIr(model.graph, input), Float32Array.from(want))).toBe(0);
    }
  });

  it('MEAN without keep_dims and a fully connected layer on its [n, c] result', () => {
    const w = new TfliteWriter();
    const rng = new Rng(3);
    const x = w.input('x', [1, 3, 3, 4]);
    const axes = w.int32('axes', [2], [2, -3]);
    const m = w.activation('m', [1, 4]);
    w.op(BuiltinOp.MEAN, [x, axes], [m], options.reducer(false));
    const f = addWeights(w, rng, 'fc', [5, 4], 0, 'uint8');
    const y = w.activation('y', [1, 5]);
    w.op(BuiltinOp.FULLY_CONNECTED, [m, f.id, -1], [y], options.fullyConnected('RELU'));
    w.output(y);
    const model = loadTflite(w.build());
    const input = randomInput([1, 3, 3, 4], 9);
    const want = ref.fullyConnected(ref.meanHW(input), f.values, 5, null, 'RELU');
    expect(ref.relativeError(runIr(model.graph, input), want.data)).toBeLessThan(1e-5);
  });

  it('flattens a C = 1 spatial map for FULLY_CONNECTED (NHWC and NCHW orders agree)', () => {
    const w = new TfliteWriter();
    const rng = new Rng(4);
    const x = w.input('x', [1, 2, 3, 1]);
    const f = addWeights(w, rng, 'fc', [2, 6], 0, 'float');
    const y = w.activation('y', [1, 2]);
    w.op(BuiltinOp.FULLY_CONNECTED, [x, f.id, -1], [y], options.fullyConnected());
    w.output(y);
    const model = loadTflite(w.build());
    expect(model.graph.nodes.map((n) => n.op)).toEqual(['flatten', 'linear']);
    const input = randomInput([1, 2, 3, 1], 2);
    expect(ref.relativeError(runIr(model.graph, input), ref.fullyConnected(input, f.values, 2, null).data)).toBeLessThan(1e-6);
  });

  it('grouped CONV_2D (filter with fewer input channels than the input)', () => {
    const w = new TfliteWriter();
    const rng = new Rng(8);
    const x = w.input('x', [1, 3, 3, 4]);
    const f = addWeights(w, rng, 'f', [6, 3, 3, 2], 0, 'int8');
    const y = w.activation('y', [1, 3, 3, 6]);
    w.op(BuiltinOp.CONV_2D, [x, f.id, -1], [y], options.conv2d({ padding: 'SAME', stride: [1, 1], act: 'RELU_N1_TO_1' }));
    w.output(y);
    const model = loadTflite(w.build());
    expect(convNodes(model.graph)[0].attrs.groups).toBe(2);
    const input = randomInput([1, 3, 3, 4], 2);
    const want = ref.conv2d(input, f.values, [6, 3, 3, 2], null, [1, 1], 'SAME', 'RELU_N1_TO_1');
    expect(ref.relativeError(runIr(model.graph, input), ref.toNchw(want))).toBeLessThan(1e-5);
  });
});

describe('TFLite loader: preprocessing, labels and metadata', () => {
  const classifier = (inputType: number, quant: WriterQuant | undefined, metadata: { name: string; data: Uint8Array }[] = []) =>
    loadTflite(tinyClassifier(inputType, quant, metadata));

  it('uint8 input: mean = z/255, std = 1/(255 s); stretch to the input size', () => {
    const model = classifier(TensorType.UINT8, { scale: [1 / 128], zeroPoint: [128] });
    expect(model.preprocessing).toEqual({ size: [8, 6], resize: 'stretch', cropFraction: 1, mean: [128 / 255, 128 / 255, 128 / 255], std: [128 / 255, 128 / 255, 128 / 255] });
    expect(model.metadata.inputScale).toBe(1 / 128);
    expect(model.metadata.inputZeroPoint).toBe(128);
    expect(model.outputsProbabilities).toBe(true);
  });

  it('int8 input: the pixel is shifted by 128 first', () => {
    const model = classifier(TensorType.INT8, { scale: [1 / 255], zeroPoint: [-128] });
    expect(model.preprocessing!.mean[0]).toBeCloseTo(0, 12);
    expect(model.preprocessing!.std[0]).toBeCloseTo(1, 6); // the scale is stored as float32
  });

  it('float input: assumes [-1, 1] and says so', () => {
    const model = classifier(TensorType.FLOAT32, undefined);
    expect(model.preprocessing!.mean).toEqual([0.5, 0.5, 0.5]);
    expect(model.preprocessing!.std).toEqual([0.5, 0.5, 0.5]);
    expect(String(model.metadata.preprocessingNote)).toMatch(/assumed/);
  });

  it('reads min_runtime_version and a label list from the metadata buffers', () => {
    const enc = new TextEncoder();
    const labels = Array.from({ length: 10 }, (_, i) => `class ${i}`);
    const model = classifier(TensorType.FLOAT32, undefined, [
      { name: 'min_runtime_version', data: new Uint8Array([...enc.encode('1.5.0'), 0, 0, 0]) },
      { name: 'labels', data: enc.encode(`${labels.join('\n')}\n`) },
    ]);
    expect(model.labels).toEqual(labels);
    expect(model.metadata.minRuntimeVersion).toBe('1.5.0');
    expect(model.metadata.labelsSource).toBe('metadata:labels');
    // A list of the wrong length is not taken for labels.
    const nine = classifier(TensorType.FLOAT32, undefined, [{ name: 'labels', data: enc.encode(labels.slice(1).join('\n')) }]);
    expect(nine.labels).toBeUndefined();
  });
});

describe('TFLite loader: unsupported models', () => {
  const oneOp = (build: (w: TfliteWriter, x: number) => void, inShape = [1, 4, 4, 2]) => {
    const w = new TfliteWriter();
    const x = w.input('x', inShape);
    build(w, x);
    return () => loadTflite(w.build());
  };

  it('names an unsupported op with its operator index and subgraph', () => {
    const load = oneOp((w, x) => {
      const a = w.activation('a', [1, 4, 4, 2]);
      w.op(BuiltinOp.RELU, [x], [a]);
      const b = w.activation('b', [1, 4, 4, 2]);
      w.op(84 /* LOGICAL_OR */, [a, a], [b]);
      const c = w.activation('c', [1, 4, 4, 2]);
      w.op(105 /* REVERSE_V2 */, [b], [c]);
      w.output(c);
    });
    expect(load).toThrow(UnsupportedOpError);
    expect(load).toThrow(/tflite subgraph 0 operator 1: op LOGICAL_OR is not supported \(2 unsupported operators in all, also REVERSE_V2\)/);
  });

  it('names custom ops and extended op codes', () => {
    expect(oneOp((w, x) => {
      const a = w.activation('a', [1, 4, 4, 2]);
      w.op({ custom: 'TFLite_Detection_PostProcess' }, [x], [a]);
      w.output(a);
    })).toThrow(/operator 0: op CUSTOM 'TFLite_Detection_PostProcess' is not supported/);
    expect(oneOp((w, x) => {
      const a = w.activation('a', [1, 4, 4, 2]);
      w.op(151, [x], [a]);
      w.output(a);
    })).toThrow(/op DYNAMIC_UPDATE_SLICE is not supported/);
  });

  it('refuses TANH fused activations, softmax beta != 1', () => {
    expect(oneOp((w, x) => {
      const f = w.float32('f', [2, 1, 1, 2], [1, 0, 0, 1]);
      const a = w.activation('a', [1, 4, 4, 2]);
      w.op(BuiltinOp.CONV_2D, [x, f, -1], [a], options.conv2d({ padding: 'SAME', stride: [1, 1], act: 'TANH' }));
      w.output(a);
    })).toThrow(/operator 0 \(CONV_2D\): fused activation TANH/);
    expect(oneOp((w, x) => {
      const a = w.activation('a', [1, 4]);
      w.op(BuiltinOp.SOFTMAX, [x], [a], options.softmax(0.5));
      w.output(a);
    }, [1, 4])).toThrow(/SOFTMAX with beta 0.5/);
    // Broadcasting and constant operands of ADD are supported now (binary.test.ts).
  });

  it('refuses reshapes that reorder a spatial map, and NHWC flattening into FULLY_CONNECTED', () => {
    const reshape = oneOp((w, x) => {
      const s = w.int32('s', [2], [1, 32]);
      const a = w.activation('a', [1, 32]);
      w.op(BuiltinOp.RESHAPE, [x, s], [a]);
      w.output(a);
    });
    expect(reshape).toThrow(UnsupportedOpError);
    expect(reshape).toThrow(/RESHAPE from \[1, 4, 4, 2\] \(NHWC\) to \[1, 32\] would reorder elements/);
    expect(oneOp((w, x) => {
      const f = w.float32('f', [3, 32], new Array(96).fill(0.5));
      const a = w.activation('a', [1, 3]);
      w.op(BuiltinOp.FULLY_CONNECTED, [x, f, -1], [a], options.fullyConnected());
      w.output(a);
    })).toThrow(/FULLY_CONNECTED on the spatial map \[1, 4, 4, 2\]/);
    expect(oneOp((w, x) => {
      const axes = w.int32('axes', [1], [3]);
      const a = w.activation('a', [1, 4, 4]);
      w.op(BuiltinOp.MEAN, [x, axes], [a], options.reducer(false));
      w.output(a);
    })).toThrow(/MEAN over axes \[3\]/);
    expect(oneOp((w, x) => {
      const axes = w.int32('axes', [1], [3]);
      const a = w.activation('a', [1, 4, 4]);
      w.op(BuiltinOp.REDUCE_MAX, [x, axes], [a], options.reducer(false));
      w.output(a);
    })).toThrow(/REDUCE_MAX over axes \[3\]/);
  });
});

describe('TFLite loader: malformed files', () => {
  const valid = buildNet('uint8').bytes;

  it('rejects a wrong identifier, and isTflite says no', () => {
    const bad = valid.slice();
    bad[4] = 0x58;
    expect(isTflite(bad)).toBe(false);
    expect(() => loadTflite(bad)).toThrow(ModelFormatError);
    expect(() => loadTflite(bad)).toThrow(/file identifier "XFL3" is not "TFL3"/);
    expect(isTflite(new Uint8Array([1, 2, 3]))).toBe(false);
    expect(() => loadTflite(new Uint8Array(0))).toThrow(ModelFormatError);
  });

  it('rejects every truncation with a ModelFormatError', () => {
    const messages = new Set<string>();
    // The builder writes from the end, so the last few bytes may be alignment padding nothing refers to.
    let padding = 0;
    while (valid[valid.length - 1 - padding] === 0) padding++;
    expect(padding).toBeLessThan(16);
    for (let len = 0; len < valid.length - padding; len++) {
      let error: unknown = null;
      try {
        loadTflite(valid.subarray(0, len));
      } catch (e) {
        error = e;
      }
      expect(error, `truncated to ${len} bytes`).toBeInstanceOf(ModelFormatError);
      messages.add((error as Error).message.replace(/\d+/g, 'N'));
    }
    expect([...messages].some((m) => m.includes('lie outside the N-byte file'))).toBe(true);
  });

  it('rejects out-of-range offsets and lengths, naming the field', () => {
    const rootOff = valid.slice();
    new DataView(rootOff.buffer).setUint32(0, 0x7ffffff0, true);
    expect(() => loadTflite(rootOff)).toThrow(/tflite: model root offset: .* outside the \d+-byte file/);

    // Find the subgraphs vector through the reader, then corrupt its length.
    const root = new FlatReader(valid).root('model');
    const subgraphs = root.vector(2, 'subgraphs', 4)!;
    const longVec = valid.slice();
    new DataView(longVec.buffer).setUint32(subgraphs.start - 4, 1_000_000, true);
    expect(() => loadTflite(longVec)).toThrow(/tflite: model\.subgraphs \(1000000 element\(s\) of 4 byte\(s\)\)/);

    // Point the first subgraph's table offset past the end.
    const badTable = valid.slice();
    new DataView(badTable.buffer).setUint32(subgraphs.start, valid.length, true);
    expect(() => loadTflite(badTable)).toThrow(/model\.subgraphs\[0\]/);

    // A tensor referring to a buffer that does not exist.
    const sg = root.tables(2, 'subgraphs')[0];
    const tensor = sg.tables(0, 'tensors')[1];
    const bufferField = tensor.uint32(2, 'buffer');
    expect(bufferField).toBeGreaterThan(0);
    let pos = -1;
    for (let p = tensor.pos; p < tensor.pos + 64; p += 4) {
      if (new DataView(valid.buffer, valid.byteOffset).getUint32(p, true) === bufferField) {
        pos = p;
        break;
      }
    }
    const badBuffer = valid.slice();
    new DataView(badBuffer.buffer).setUint32(pos, 9999, true);
    expect(() => loadTflite(badBuffer)).toThrow(/refers to buffer 9999, out of range/);
  });

  it('never throws anything but a WebcnnError on corrupted bytes', () => {
    const rng = new Rng(123);
    const kinds = new Map<string, number>();
    for (let trial = 0; trial < 600; trial++) {
      const bad = valid.slice();
      const flips = rng.int(1, 4);
      for (let k = 0; k < flips; k++) bad[rng.int(8, Math.min(bad.length - 1, 2048))] = rng.int(0, 255);
      try {
        const m = loadTflite(bad);
        runGraphReference(m.graph, [new Float32Array(50)]);
        kinds.set('ok', (kinds.get('ok') ?? 0) + 1);
      } catch (e) {
        if (!(e instanceof WebcnnError)) throw new Error(`trial ${trial}: ${(e as Error).name}: ${(e as Error).message}`);
        kinds.set(e.name, (kinds.get(e.name) ?? 0) + 1);
      }
    }
    expect(kinds.get('ModelFormatError')).toBeGreaterThan(0);
  });

  it('rejects a wrong schema version, inconsistent declared shapes, and options of the wrong type', () => {
    const w = new TfliteWriter();
    w.version = 2;
    const x = w.input('x', [1, 4]);
    const y = w.activation('y', [1, 4]);
    w.op(BuiltinOp.SOFTMAX, [x], [y], options.softmax());
    w.output(y);
    expect(() => loadTflite(w.build())).toThrow(/schema version 2 is not supported/);

    const w2 = new TfliteWriter();
    const x2 = w2.input('x', [1, 4, 4, 1]);
    const f = w2.float32('f', [1, 3, 3, 1], new Array(9).fill(1));
    const y2 = w2.activation('y', [1, 4, 4, 1]); // VALID gives 2x2
    w2.op(BuiltinOp.CONV_2D, [x2, f, -1], [y2], options.conv2d({ padding: 'VALID', stride: [1, 1] }));
    w2.output(y2);
    expect(() => loadTflite(w2.build())).toThrow(/declared \[1, 4, 4, 1\] but the op computes \[1, 2, 2, 1\]/);

    const w3 = new TfliteWriter();
    const x3 = w3.input('x', [1, 4]);
    const y3 = w3.activation('y', [1, 4]);
    w3.op(BuiltinOp.SOFTMAX, [x3], [y3], options.add());
    w3.output(y3);
    expect(() => loadTflite(w3.build())).toThrow(/builtin options of union type 11, expected 9/);

    const w4 = new TfliteWriter();
    const x4 = w4.input('x', [1, 4, 4, 1]);
    const f4 = w4.tensor({ name: 'f', shape: [1, 3, 3, 1], type: TensorType.FLOAT32, data: new Uint8Array(20) });
    const y4 = w4.activation('y', [1, 2, 2, 1]);
    w4.op(BuiltinOp.CONV_2D, [x4, f4, -1], [y4], options.conv2d({ padding: 'VALID', stride: [1, 1] }));
    w4.output(y4);
    expect(() => loadTflite(w4.build())).toThrow(/needs 36 bytes, its buffer 1 has 20/);
  });
});
