/**
 * The ONNX op converter table: op type -> converter. Adding an op is one module in this folder plus one entry
 * here; `SUPPORTED_ONNX_OPS` (error messages, the fuzzer) follows from the table.
 */
import type { Converter } from '../context.ts';
import { Clip, Relu } from './activation.ts';
import { tableActivation } from './activation-function.ts';
import { BatchNormalization } from './batch-norm.ts';
import { Add, Div, Max, Min, Mul, Pow, Sub } from './binary.ts';
import { Constant } from './constant.ts';
import { Conv } from './conv.ts';
import { Gemm } from './gemm.ts';
import { GlobalAveragePool, GlobalMaxPool } from './global-pool.ts';
import { Dropout, Identity } from './identity.ts';
import { MatMul } from './matmul.ts';
import { Pad } from './pad.ts';
import { AveragePool, MaxPool } from './pool.ts';
import { Flatten, Reshape } from './reshape.ts';
import { Softmax } from './softmax.ts';
import { ArgMax } from './argmax.ts';
import { ConvTranspose } from './conv-transpose.ts';
import { Resize, Upsample } from './resize.ts';
import { ReduceMax, ReduceMean } from './reduce.ts';
import { Concat, Slice, Split } from './channels.ts';
import { Cast, ConstantOfShape, Gather, Range, Shape, Squeeze, Unsqueeze } from './shape.ts';
import { Gelu } from './gelu.ts';
import { LayerNormalization } from './layer-norm.ts';
import { Transpose } from './transpose.ts';
import { PRelu } from './prelu.ts';

export const CONVERTERS: Readonly<Record<string, Converter>> = {
  Add,
  AveragePool,
  BatchNormalization,
  Clip,
  Constant,
  Conv,
  Div,
  Dropout,
  Flatten,
  Gemm,
  GlobalAveragePool,
  GlobalMaxPool,
  Identity,
  MatMul,
  MaxPool,
  Mul,
  Pad,
  Relu,
  Reshape,
  Softmax,
  Sub,
  ArgMax,
  ConvTranspose,
  Resize,
  Upsample,
  Max,
  Min,
  Pow,
  ReduceMean,
  ReduceMax,
  // Functions of the activation table (src/graph/activations/).
  Sigmoid: tableActivation('sigmoid'),
  Tanh: tableActivation('tanh'),
  HardSigmoid: tableActivation('hard-sigmoid'),
  HardSwish: tableActivation('hard-swish'),
  LeakyRelu: tableActivation('leaky-relu'),
  Elu: tableActivation('elu'),
  Softplus: tableActivation('softplus'),
  Gelu,
  Concat,
  Slice,
  Split,
  // Shape arithmetic folded at load time (const-fold.ts).
  Shape,
  Gather,
  Unsqueeze,
  Squeeze,
  Cast,
  ConstantOfShape,
  Range,
  Erf: tableActivation('erf'),
  LayerNormalization,
  Transpose,
  Exp: tableActivation('exp'),
  Sqrt: tableActivation('sqrt'),
  Neg: tableActivation('neg'),
  Reciprocal: tableActivation('reciprocal'),
  Abs: tableActivation('abs'),
  PRelu,
  Swish: tableActivation('silu'),
};

/** Op types `loadOnnx` converts, sorted. */
export const SUPPORTED_ONNX_OPS: readonly string[] = Object.keys(CONVERTERS).sort();
