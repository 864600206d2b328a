/**
 * Fuzz seeds for the channel ops: ShuffleNet-style split / convolve / concat and a slice, in ONNX and TFLite.
 * Deterministic, small, and each loads as written.
 */
import { DataType } from '../../src/formats/onnx/proto.ts';
import { attr, encodeModel, makeGraph, makeModel, makeNode, makeTensor, makeValueInfo } from '../../src/formats/onnx/writer.ts';
import { BuiltinOp, OptionsType } from '../../src/formats/tflite/schema.ts';
import { Rng } from '../../src/util/random.ts';
import { options, TfliteWriter } from '../helpers/tflite-writer.ts';

const f32 = (rng: Rng, n: number) => Array.from({ length: n }, () => rng.uniform(-1, 1));

/** Conv -> Split (opset 13 input) -> Conv on one half -> Concat -> Slice -> GlobalAveragePool -> Flatten. */
export function onnxChannelNet(seed: number): Uint8Array {
  const rng = new Rng(seed);
  const ints = (name: string, v: number[]) => makeTensor(name, [v.length], v, DataType.INT64);
  const graph = makeGraph({
    nodes: [
      makeNode('Conv', ['x', 'w1'], ['c'], { kernel_shape: attr.ints([1, 1]) }, 'conv1'),
      makeNode('Split', ['c', 'parts'], ['a', 'b'], { axis: attr.int(1) }, 'split'),
      makeNode('Conv', ['b', 'w2'], ['bc'], { kernel_shape: attr.ints([3, 3]), pads: attr.ints([1, 1, 1, 1]) }, 'conv2'),
      makeNode('Concat', ['a', 'bc', 'x'], ['cat'], { axis: attr.int(-3) }, 'concat'),
      makeNode('Slice', ['cat', 'starts', 'ends', 'axes'], ['s'], {}, 'slice'),
      makeNode('GlobalAveragePool', ['s'], ['gap'], {}, 'gap'),
      makeNode('Flatten', ['gap'], ['out'], {}, 'flatten'),
    ],
    inputs: [makeValueInfo('x', [1, 3, 6, 6])],
    outputs: [makeValueInfo('out', [1, 7])],
    initializers: [
      makeTensor('w1', [8, 3, 1, 1], f32(rng, 24)),
      ints('parts', [3, 5]),
      makeTensor('w2', [5, 5, 3, 3], f32(rng, 225)),
      ints('starts', [2]),
      ints('ends', [9]),
      ints('axes', [1]),
    ],
  });
  return encodeModel(makeModel({ opset: 13, graph, metadata: { author: 'webcnn fuzz' } }));
}

/** CONV -> SPLIT -> CONV -> CONCATENATION -> STRIDED_SLICE -> SPLIT_V -> CONCATENATION (RELU) -> MEAN. */
export function tfliteChannelNet(seed: number): Uint8Array {
  return tfliteChannelNetWriter(seed).build();
}

/** The writer behind `tfliteChannelNet`, before `build()` (the structured mutations edit it). */
export function tfliteChannelNetWriter(seed: number): TfliteWriter {
  const rng = new Rng(seed);
  const w = new TfliteWriter();
  const x = w.input('x', [1, 5, 5, 3]);
  const c = w.activation('conv', [1, 5, 5, 6]);
  w.op(BuiltinOp.CONV_2D, [x, w.float32('conv/filter', [6, 1, 1, 3], f32(rng, 18)), -1], [c], options.conv2d({ padding: 'SAME', stride: [1, 1] }));
  const axis = w.int32('axis', [], [3]);
  const [p, q] = [w.activation('p', [1, 5, 5, 3]), w.activation('q', [1, 5, 5, 3])];
  w.op(BuiltinOp.SPLIT, [axis, c], [p, q], { type: OptionsType.SplitOptions, fields: [[0, 'int32', 2]] });
  const qc = w.activation('qc', [1, 5, 5, 3]);
  w.op(BuiltinOp.CONV_2D, [q, w.float32('q/filter', [3, 3, 3, 3], f32(rng, 81)), -1], [qc], options.conv2d({ padding: 'SAME', stride: [1, 1], act: 'RELU' }));
  const cat = w.activation('cat', [1, 5, 5, 6]);
  w.op(BuiltinOp.CONCATENATION, [qc, p], [cat], { type: OptionsType.ConcatenationOptions, fields: [[0, 'int32', -1]] });
  const sl = w.activation('slice', [1, 5, 5, 4]);
  const [b, e, s] = [w.int32('begin', [4], [0, 0, 0, 1]), w.int32('end', [4], [1, 5, 5, 5]), w.int32('strides', [4], [1, 1, 1, 1])];
  w.op(BuiltinOp.STRIDED_SLICE, [cat, b, e, s], [sl], { type: OptionsType.StridedSliceOptions, fields: [] });
  const [u, v] = [w.activation('u', [1, 5, 5, 1]), w.activation('v', [1, 5, 5, 3])];
  w.op(BuiltinOp.SPLIT_V, [sl, w.int32('sizes', [2], [1, -1]), axis], [u, v], { type: OptionsType.SplitVOptions, fields: [[0, 'int32', 2]] });
  const cat2 = w.activation('cat2', [1, 5, 5, 4]);
  w.op(BuiltinOp.CONCATENATION, [v, u], [cat2], { type: OptionsType.ConcatenationOptions, fields: [[0, 'int32', 3], [1, 'int8', 1]] });
  const mean = w.activation('mean', [1, 4]);
  w.op(BuiltinOp.MEAN, [cat2, w.int32('axes', [2], [1, 2])], [mean], options.reducer(false));
  w.output(mean);
  return w;
}
