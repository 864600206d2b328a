/**
 * The TFLite op converter table: builtin opcode -> converter and the options table it must carry. Adding an op
 * is one module in this folder plus one entry here; the table's order is the order error messages list the
 * supported ops in.
 */
import type { TfliteOpEntry } from '../converter.ts';
import { BuiltinOp, OptionsType, leakyReluOptions } from '../schema.ts';
import { activation } from './activation.ts';
import { tableActivation } from './activation-function.ts';
import { alias } from './alias.ts';
import { add, div, maximum, minimum, mul, pow, prelu, squaredDifference, sub } from './binary.ts';
import { conv2d, depthwiseConv2d } from './conv.ts';
import { fullyConnected } from './fully-connected.ts';
import { mean, reduceMax } from './mean.ts';
import { gelu } from './gelu.ts';
import { pad } from './pad.ts';
import { averagePool2d, maxPool2d } from './pool.ts';
import { softmax } from './softmax.ts';
import { argMax } from './arg-max.ts';
import { resizeBilinear, resizeNearestNeighbor } from './resize.ts';
import { transposeConv } from './transpose-conv.ts';
import { concatenation, split, splitV, stridedSlice } from './channels.ts';
import { rsqrt } from './rsqrt.ts';

export const TFLITE_OPS: ReadonlyMap<number, TfliteOpEntry> = new Map<number, TfliteOpEntry>([
  [BuiltinOp.CONV_2D, { convert: conv2d, options: OptionsType.Conv2DOptions }],
  [BuiltinOp.DEPTHWISE_CONV_2D, { convert: depthwiseConv2d, options: OptionsType.DepthwiseConv2DOptions }],
  [BuiltinOp.ADD, { convert: add, options: OptionsType.AddOptions }],
  [BuiltinOp.AVERAGE_POOL_2D, { convert: averagePool2d, options: OptionsType.Pool2DOptions }],
  [BuiltinOp.MAX_POOL_2D, { convert: maxPool2d, options: OptionsType.Pool2DOptions }],
  [BuiltinOp.MEAN, { convert: mean, options: OptionsType.ReducerOptions }],
  [BuiltinOp.FULLY_CONNECTED, { convert: fullyConnected, options: OptionsType.FullyConnectedOptions }],
  [BuiltinOp.RESHAPE, { convert: alias, options: OptionsType.ReshapeOptions }],
  [BuiltinOp.SQUEEZE, { convert: alias, options: OptionsType.SqueezeOptions }],
  [BuiltinOp.SOFTMAX, { convert: softmax, options: OptionsType.SoftmaxOptions }],
  [BuiltinOp.PAD, { convert: pad, options: OptionsType.PadOptions }],
  [BuiltinOp.PADV2, { convert: pad, options: OptionsType.PadV2Options }],
  [BuiltinOp.QUANTIZE, { convert: alias, options: OptionsType.QuantizeOptions }],
  [BuiltinOp.DEQUANTIZE, { convert: alias, options: OptionsType.DequantizeOptions }],
  [BuiltinOp.RELU, { convert: activation }],
  [BuiltinOp.RELU6, { convert: activation }],
  [BuiltinOp.RELU_N1_TO_1, { convert: activation }],
  [BuiltinOp.RESIZE_BILINEAR, { convert: resizeBilinear, options: OptionsType.ResizeBilinearOptions }],
  [BuiltinOp.RESIZE_NEAREST_NEIGHBOR, { convert: resizeNearestNeighbor, options: OptionsType.ResizeNearestNeighborOptions }],
  [BuiltinOp.ARG_MAX, { convert: argMax, options: OptionsType.ArgMaxOptions }],
  [BuiltinOp.TRANSPOSE_CONV, { convert: transposeConv, options: OptionsType.TransposeConvOptions }],
  [BuiltinOp.SUB, { convert: sub, options: OptionsType.SubOptions }],
  [BuiltinOp.MUL, { convert: mul, options: OptionsType.MulOptions }],
  [BuiltinOp.DIV, { convert: div, options: OptionsType.DivOptions }],
  [BuiltinOp.MAXIMUM, { convert: maximum, options: OptionsType.MaximumMinimumOptions }],
  [BuiltinOp.MINIMUM, { convert: minimum, options: OptionsType.MaximumMinimumOptions }],
  [BuiltinOp.POW, { convert: pow, options: OptionsType.PowOptions }],
  [BuiltinOp.SQUARED_DIFFERENCE, { convert: squaredDifference, options: OptionsType.SquaredDifferenceOptions }],
  [BuiltinOp.REDUCE_MAX, { convert: reduceMax, options: OptionsType.ReducerOptions }],
  // Functions of the activation table (src/graph/activations/).
  [BuiltinOp.LOGISTIC, { convert: tableActivation('sigmoid') }],
  [BuiltinOp.TANH, { convert: tableActivation('tanh') }],
  [BuiltinOp.HARD_SWISH, { convert: tableActivation('hard-swish') }],
  [BuiltinOp.LEAKY_RELU, { convert: tableActivation('leaky-relu', (op) => [leakyReluOptions(op.options).alpha]), options: OptionsType.LeakyReluOptions }],
  [BuiltinOp.ELU, { convert: tableActivation('elu', () => [1]) }],
  [BuiltinOp.GELU, { convert: gelu, options: OptionsType.GeluOptions }],
  [BuiltinOp.CONCATENATION, { convert: concatenation, options: OptionsType.ConcatenationOptions }],
  [BuiltinOp.SPLIT, { convert: split, options: OptionsType.SplitOptions, multipleOutputs: true }],
  [BuiltinOp.SPLIT_V, { convert: splitV, options: OptionsType.SplitVOptions, multipleOutputs: true }],
  [BuiltinOp.STRIDED_SLICE, { convert: stridedSlice, options: OptionsType.StridedSliceOptions }],
  [BuiltinOp.EXP, { convert: tableActivation('exp') }],
  [BuiltinOp.SQRT, { convert: tableActivation('sqrt') }],
  [BuiltinOp.RSQRT, { convert: rsqrt }],
  [BuiltinOp.NEG, { convert: tableActivation('neg') }],
  [BuiltinOp.ABS, { convert: tableActivation('abs') }],
  [BuiltinOp.PRELU, { convert: prelu }],
]);
