/**
 * Fuzz seeds for the reductions and early ONNX opsets: ONNX ReduceMean / ReduceMax over H, W and over C
 * (opset 13 attributes, opset 18 axes input), an opset-1 graph (Pad's `paddings`, legacy broadcast, Reshape's
 * shape attribute), and TFLite REDUCE_MAX. `corpus.ts` lists them with its other seeds.
 */
import { DataType } from '../../src/formats/onnx/proto.ts';
import { attr, encodeModel, makeGraph, makeModel, makeNode, makeTensor, makeValueInfo } from '../../src/formats/onnx/writer.ts';
import type { NodeInit, TensorInit } from '../../src/formats/onnx/writer.ts';
import { BuiltinOp, OptionsType } from '../../src/formats/tflite/schema.ts';
import { options, TfliteWriter } from '../helpers/tflite-writer.ts';
import { Rng } from '../../src/util/random.ts';

const f32 = (rng: Rng, n: number) => Array.from({ length: n }, () => rng.uniform(-1, 1));

function onnx(nodes: NodeInit[], x: number[], outputs: string[], inits: TensorInit[], opset: number): Uint8Array {
  return encodeModel(
    makeModel({
      opset,
      graph: makeGraph({ nodes, inputs: [makeValueInfo('x', x)], outputs: outputs.map((o) => makeValueInfo(o, null)), initializers: inits }),
    }),
  );
}

/** Conv, then ReduceMax over C (kept), ReduceMean over H, W (dropped) and, opset 18, ReduceMean over W by input. */
export function onnxReduceNet(seed: number, opset: 13 | 18): Uint8Array {
  const rng = new Rng(seed);
  const axes = (name: string, v: number[]) =>
    opset >= 18 ? { inputs: [name], init: [makeTensor(name, [v.length], v, DataType.INT64)], attrs: {} } : { inputs: [], init: [], attrs: { axes: attr.ints(v) } };
  const c = axes('axes_c', [1]);
  const hw = axes('axes_hw', [-2, -1]);
  return onnx(
    [
      makeNode('Conv', ['x', 'w'], ['conv'], { kernel_shape: attr.ints([3, 3]), pads: attr.ints([1, 1, 1, 1]) }, 'conv'),
      makeNode('ReduceMax', ['conv', ...c.inputs], ['cmax'], { ...c.attrs, keepdims: attr.int(1) }, 'reduce_c'),
      makeNode('ReduceMean', ['conv', ...hw.inputs], ['gap'], { ...hw.attrs, keepdims: attr.int(0) }, 'reduce_hw'),
    ],
    [1, 3, 6, 5],
    ['cmax', 'gap'],
    [makeTensor('w', [4, 3, 3, 3], f32(rng, 108)), ...c.init, ...hw.init],
    opset,
  );
}

/** Opset 1: Pad with `paddings`, Conv, Add with legacy broadcast, Relu, GlobalAveragePool, Reshape by attribute. */
export function onnxOpset1Net(seed: number): Uint8Array {
  const rng = new Rng(seed);
  return onnx(
    [
      makeNode('Pad', ['x'], ['p'], { paddings: attr.ints([0, 0, 1, 1, 0, 0, 1, 1]) }, 'pad'),
      makeNode('Conv', ['p', 'w'], ['c'], { kernel_shape: attr.ints([3, 3]) }, 'conv'),
      makeNode('Add', ['c', 'b'], ['a'], { broadcast: attr.int(1), axis: attr.int(1) }, 'add'),
      makeNode('Relu', ['a'], ['r'], {}, 'relu'),
      makeNode('GlobalAveragePool', ['r'], ['g'], {}, 'gap'),
      makeNode('Reshape', ['g'], ['out'], { shape: attr.ints([1, 4]) }, 'reshape'),
    ],
    [1, 2, 5, 5],
    ['out'],
    [makeTensor('w', [4, 2, 3, 3], f32(rng, 72)), makeTensor('b', [4, 1, 1], f32(rng, 4))],
    1,
  );
}

/** TFLite: REDUCE_MAX over H, W (dropped), then a reshape. */
export function tfliteReduceMax(): Uint8Array {
  return tfliteReduceMaxWriter().build();
}

/** The writer behind `tfliteReduceMax`, before `build()` (the structured mutations edit it). */
export function tfliteReduceMaxWriter(): TfliteWriter {
  const w = new TfliteWriter();
  const x = w.input('x', [1, 4, 3, 5]);
  const axes = w.int32('axes', [2], [1, 2]);
  const m = w.activation('max', [1, 5]);
  w.op(BuiltinOp.REDUCE_MAX, [x, axes], [m], options.reducer(false));
  const shape = w.int32('shape', [4], [1, 1, 1, 5]);
  const out = w.activation('out', [1, 1, 1, 5]);
  w.op(BuiltinOp.RESHAPE, [m, shape], [out], options.empty(OptionsType.ReshapeOptions));
  w.output(out);
  return w;
}
