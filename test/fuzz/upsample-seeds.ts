/**
 * Fuzz seeds with the upsampling ops: ONNX Resize / Upsample / ConvTranspose / ArgMax and a dilated Conv, TFLite
 * RESIZE_BILINEAR / RESIZE_NEAREST_NEIGHBOR / TRANSPOSE_CONV / ARG_MAX and a dilated CONV_2D.
 */
import { DataType } from '../../src/formats/onnx/proto.ts';
import type { NodeInit, TensorInit } from '../../src/formats/onnx/writer.ts';
import { attr, encodeModel, makeGraph, makeModel, makeNode, makeTensor, makeValueInfo } from '../../src/formats/onnx/writer.ts';
import { BuiltinOp, OptionsType, TensorType } from '../../src/formats/tflite/schema.ts';
import { options, TfliteWriter } from '../helpers/tflite-writer.ts';
import { Rng } from '../../src/util/random.ts';

const f32 = (rng: Rng, n: number) => Array.from({ length: n }, () => rng.uniform(-1, 1));

function onnx(nodes: NodeInit[], input: [string, number[]], output: [string, number[]], inits: TensorInit[], opset: number): Uint8Array {
  return encodeModel(makeModel({
    opset,
    graph: makeGraph({ nodes, inputs: [makeValueInfo(input[0], input[1])], outputs: [makeValueInfo(output[0], output[1], DataType.INT64)], initializers: inits }),
  }));
}

/** Conv (dilation 2) -> Resize (linear, sizes) -> ConvTranspose (stride 2) -> Resize (nearest, scales) -> ArgMax (keepdims 0). */
export function onnxUpsampleNet(seed: number): Uint8Array {
  const rng = new Rng(seed);
  return onnx(
    [
      makeNode('Conv', ['x', 'w'], ['c'], { kernel_shape: attr.ints([3, 3]), pads: attr.ints([2, 2, 2, 2]), dilations: attr.ints([2, 2]) }, 'atrous'),
      makeNode('Resize', ['c', '', '', 'sizes'], ['r'], { mode: attr.string('linear'), coordinate_transformation_mode: attr.string('half_pixel') }, 'resize'),
      makeNode('ConvTranspose', ['r', 'tw', 'tb'], ['t'], { strides: attr.ints([2, 2]), pads: attr.ints([1, 1, 1, 1]), output_padding: attr.ints([1, 1]) }, 'up'),
      makeNode('Resize', ['t', '', 'scales'], ['n'], { mode: attr.string('nearest'), coordinate_transformation_mode: attr.string('asymmetric'), nearest_mode: attr.string('floor') }, 'nearest'),
      makeNode('ArgMax', ['n'], ['out'], { axis: attr.int(1), keepdims: attr.int(0) }, 'argmax'),
    ],
    ['x', [1, 2, 5, 5]],
    ['out', [1, 28, 28]],
    [
      makeTensor('w', [4, 2, 3, 3], f32(rng, 72)),
      makeTensor('sizes', [4], [1, 4, 7, 7], DataType.INT64),
      makeTensor('tw', [4, 3, 3, 3], f32(rng, 108)),
      makeTensor('tb', [3], f32(rng, 3)),
      makeTensor('scales', [4], [1, 1, 2, 2]),
    ],
    13,
  );
}

/** Upsample (opset 9, scales input) -> ArgMax (keepdims 1). */
export function onnxUpsampleOld(): Uint8Array {
  return onnx(
    [
      makeNode('Upsample', ['x', 'scales'], ['u'], { mode: attr.string('linear') }, 'upsample'),
      makeNode('ArgMax', ['u'], ['out'], { axis: attr.int(1) }, 'argmax'),
    ],
    ['x', [1, 3, 4, 4]],
    ['out', [1, 1, 8, 12]],
    [makeTensor('scales', [4], [1, 1, 2, 3])],
    9,
  );
}

/** CONV_2D (dilation 2) -> RESIZE_BILINEAR (half pixel) -> TRANSPOSE_CONV -> RESIZE_NEAREST_NEIGHBOR (align corners) -> ARG_MAX. */
export function tfliteUpsampleNet(seed: number): Uint8Array {
  return tfliteUpsampleNetWriter(seed).build();
}

/** The writer behind `tfliteUpsampleNet`, before `build()` (the structured mutations edit it). */
export function tfliteUpsampleNetWriter(seed: number): TfliteWriter {
  const rng = new Rng(seed);
  const w = new TfliteWriter();
  const x = w.input('x', [1, 6, 6, 2]);
  const f = w.float32('conv/w', [4, 3, 3, 2], f32(rng, 72));
  const c = w.activation('conv', [1, 6, 6, 4]);
  w.op(BuiltinOp.CONV_2D, [x, f, -1], [c], options.conv2d({ padding: 'SAME', stride: [1, 1], dilation: [2, 2], act: 'RELU' }));
  const size = w.int32('size', [2], [9, 9]);
  const r = w.activation('bilinear', [1, 9, 9, 4]);
  w.op(BuiltinOp.RESIZE_BILINEAR, [c, size], [r], { type: OptionsType.ResizeBilinearOptions, fields: [[3, 'bool', true]] });
  const shape = w.int32('tshape', [4], [1, 18, 18, 3]);
  const tf = w.float32('tconv/w', [3, 3, 3, 4], f32(rng, 108));
  const t = w.activation('tconv', [1, 18, 18, 3]);
  w.op(BuiltinOp.TRANSPOSE_CONV, [shape, tf, r, -1], [t], { type: OptionsType.TransposeConvOptions, fields: [[0, 'int8', 0], [1, 'int32', 2], [2, 'int32', 2]] });
  const size2 = w.int32('size2', [2], [20, 19]);
  const nn = w.activation('nearest', [1, 20, 19, 3]);
  w.op(BuiltinOp.RESIZE_NEAREST_NEIGHBOR, [t, size2], [nn], { type: OptionsType.ResizeNearestNeighborOptions, fields: [[0, 'bool', true]] });
  const axis = w.int32('axis', [1], [3]);
  const out = w.activation('argmax', [1, 20, 19], TensorType.INT64);
  w.op(BuiltinOp.ARG_MAX, [nn, axis], [out], { type: OptionsType.ArgMaxOptions, fields: [[0, 'int8', TensorType.INT64]] });
  w.output(out);
  return w;
}
