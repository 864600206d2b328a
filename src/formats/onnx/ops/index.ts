/**
 * The ONNX op converter table: op type -> converter. Adding an op is one module in this folder plus one entry
 * here; `SUPPORTED_ONNX_OPS` (error messages, the fuzzer) follows from the table.
 */
import type { Converter } from '../context.ts';
import { Clip, Relu } from './activation.ts';
import { BatchNormalization } from './batch-norm.ts';
import { Add, Div, Mul, Sub } from './binary.ts';
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
import { Concat, Slice, Split } from './channels.ts';

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
  Concat,
  Slice,
  Split,
};

/** Op types `loadOnnx` converts, sorted. */
export const SUPPORTED_ONNX_OPS: readonly string[] = Object.keys(CONVERTERS).sort();
