/**
 * GPU cases of every function in the activation table (`src/graph/activations/`), at its default parameters:
 * standalone (the elementwise kernel), and fused into each epilogue that can carry it: a dense 3x3 conv, a
 * pointwise conv with a residual, a depthwise conv, a linear layer, a same-shape and a broadcast add. A new
 * table entry gets all of them without an edit here.
 */
import { ACTIVATION_FUNCTIONS, activationEntry } from '../src/graph/activations/index.ts';
import { BuiltinOp, OptionsType } from '../src/formats/tflite/schema.ts';
import type { ActivationName, GpuCase } from './gpu-cases.ts';
import type { WriterOptions } from './helpers/tflite-writer.ts';

function casesFor(name: string): GpuCase[] {
  const activation: ActivationName = `fn:${name}`;
  const domain = activationEntry(name).domain;
  if (domain) {
    // Convolution outputs take both signs, so a function with a domain runs standalone and fused into adds of
    // operands from it (the epilogue code is the same for every table function).
    const lo = domain === 'positive' ? 0.25 : 0;
    return [
      { kind: 'activation', n: 2, c: 7, h: 3, w: 5, activation, range: [2 * lo, 8] },
      { kind: 'add', n: 1, c: 6, h: 4, w: 3, activation, range: [lo, 1] },
      { kind: 'broadcastAdd', a: [2, 5, 3, 3], b: [2, 1, 3, 3], activation, range: [lo, 1] },
    ];
  }
  return [
    { kind: 'activation', n: 2, c: 7, h: 3, w: 5, activation },
    { kind: 'conv', n: 1, inC: 8, h: 6, w: 5, outC: 12, kernel: 3, stride: 1, pad: 1, groups: 1, bias: true, activation, residual: false },
    { kind: 'conv', n: 2, inC: 12, h: 4, w: 4, outC: 12, kernel: 1, stride: 1, pad: 0, groups: 1, bias: true, activation, residual: true },
    { kind: 'conv', n: 1, inC: 9, h: 7, w: 6, outC: 9, kernel: 3, stride: 2, pad: 1, groups: 9, bias: true, activation, residual: false },
    { kind: 'linear', n: 3, inF: 33, outF: 7, activation },
    { kind: 'add', n: 1, c: 6, h: 4, w: 3, activation },
    { kind: 'broadcastAdd', a: [2, 5, 3, 3], b: [2, 1, 3, 3], activation },
  ];
}

export const ACTIVATION_CASES: readonly GpuCase[] = [...ACTIVATION_FUNCTIONS.keys()].flatMap((name) => casesFor(name));

/**
 * TFLite operators that convert to a table function: opcode, the function and parameters the converter must
 * give, and the options table to write. The converter tests and the fuzz seed (`test/fuzz/activation-seeds.ts`)
 * read it.
 */
export interface TfliteActivationCase {
  readonly code: number;
  readonly fn: string;
  readonly params: readonly number[];
  readonly options?: WriterOptions;
}

export const TFLITE_ACTIVATION_CASES: readonly TfliteActivationCase[] = [
  { code: BuiltinOp.LOGISTIC, fn: 'sigmoid', params: [] },
  { code: BuiltinOp.TANH, fn: 'tanh', params: [] },
  { code: BuiltinOp.HARD_SWISH, fn: 'hard-swish', params: [] },
  { code: BuiltinOp.LEAKY_RELU, fn: 'leaky-relu', params: [0.2], options: { type: OptionsType.LeakyReluOptions, fields: [[0, 'float32', 0.2]] } },
  { code: BuiltinOp.ELU, fn: 'elu', params: [1] },
  { code: BuiltinOp.GELU, fn: 'gelu-tanh', params: [], options: { type: OptionsType.GeluOptions, fields: [[0, 'bool', true]] } },
  { code: BuiltinOp.EXP, fn: 'exp', params: [] },
  { code: BuiltinOp.SQRT, fn: 'sqrt', params: [] },
  { code: BuiltinOp.NEG, fn: 'neg', params: [] },
  { code: BuiltinOp.ABS, fn: 'abs', params: [] },
];
