import type { ActivationEntry } from './types.ts';

/** `|x|` (ONNX Abs, TFLite ABS). */
export const abs: ActivationEntry = {
  name: 'abs',
  params: [],
  defaults: [],
  onnxOp: 'Abs',
  reference: (x) => Math.abs(x),
  wgsl: (v) => `abs(${v})`,
};
