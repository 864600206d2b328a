import type { ActivationEntry } from './types.ts';

/** `1 / (1 + e^-x)` (ONNX Sigmoid, TFLite LOGISTIC). `exp(-x)` overflowing to infinity gives exactly 0. */
export const sigmoid: ActivationEntry = {
  name: 'sigmoid',
  params: [],
  defaults: [],
  onnxOp: 'Sigmoid',
  reference: (x) => 1 / (1 + Math.exp(-x)),
  wgsl: (v) => `1.0 / (1.0 + exp(-${v}))`,
};
