import type { ActivationEntry } from './types.ts';

/**
 * `ln(1 + e^x)` (ONNX Softplus), as `max(x, 0) + ln(1 + e^-|x|)`: the same value without overflowing for
 * large x.
 */
export const softplus: ActivationEntry = {
  name: 'softplus',
  params: [],
  defaults: [],
  onnxOp: 'Softplus',
  reference: (x) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))),
  wgsl: (v) => `max(${v}, vec4<f32>(0.0)) + log(1.0 + exp(-abs(${v})))`,
};
