import type { ActivationEntry } from './types.ts';

/**
 * `tanh(x)` (ONNX Tanh, TFLite TANH). The GPU's argument is clamped to [-10, 10]: tanh(10) is 1 in f32, and
 * some `tanh` implementations return NaN for large arguments.
 */
export const tanh: ActivationEntry = {
  name: 'tanh',
  params: [],
  defaults: [],
  onnxOp: 'Tanh',
  reference: (x) => Math.tanh(x),
  wgsl: (v) => `tanh(clamp(${v}, vec4<f32>(-10.0), vec4<f32>(10.0)))`,
};
