import type { ActivationEntry } from './types.ts';

/**
 * `sqrt(x)` (ONNX Sqrt, TFLite SQRT). Defined for `x >= 0` only: the reference gives NaN below, and WGSL leaves
 * the value there indeterminate, so the GPU cases feed it non-negative inputs (`domain`).
 */
export const sqrt: ActivationEntry = {
  name: 'sqrt',
  params: [],
  defaults: [],
  onnxOp: 'Sqrt',
  domain: 'nonNegative',
  reference: (x) => Math.sqrt(x),
  wgsl: (v) => `sqrt(${v})`,
};
