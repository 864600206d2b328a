import type { ActivationEntry } from './types.ts';

/**
 * `1 / x` (ONNX Reciprocal); infinite at 0, in the reference as on the GPU. The GPU cases feed it positive
 * inputs (`domain`): near 0 it magnifies any rounding difference of its producer.
 */
export const reciprocal: ActivationEntry = {
  name: 'reciprocal',
  params: [],
  defaults: [],
  onnxOp: 'Reciprocal',
  domain: 'positive',
  reference: (x) => 1 / x,
  wgsl: (v) => `(1.0 / ${v})`,
};
