import type { ActivationEntry } from './types.ts';

/** `e^x` (ONNX Exp, TFLite EXP). Overflows to infinity past about 88.7, in the reference as on the GPU. */
export const exp: ActivationEntry = {
  name: 'exp',
  params: [],
  defaults: [],
  onnxOp: 'Exp',
  reference: (x) => Math.exp(x),
  wgsl: (v) => `exp(${v})`,
};
