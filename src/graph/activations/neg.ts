import type { ActivationEntry } from './types.ts';

/** `-x` (ONNX Neg, TFLite NEG). */
export const neg: ActivationEntry = {
  name: 'neg',
  params: [],
  defaults: [],
  onnxOp: 'Neg',
  reference: (x) => -x,
  wgsl: (v) => `(-${v})`,
};
