import type { ActivationEntry } from './types.ts';

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/**
 * GELU's tanh approximation, `x / 2 * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 x^3)))` (ONNX Gelu with approximate
 * 'tanh', opset 20; TFLite GELU with approximate true). The tanh argument is clamped as in `tanh.ts`.
 */
export const geluTanh: ActivationEntry = {
  name: 'gelu-tanh',
  params: [],
  defaults: [],
  onnxOp: 'Gelu',
  onnxStringAttrs: { approximate: 'tanh' },
  reference: (x) => 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))),
  wgsl: (v) => `0.5 * ${v} * (1.0 + tanh(clamp(${SQRT_2_OVER_PI} * (${v} + 0.044715 * ${v} * ${v} * ${v}), vec4<f32>(-10.0), vec4<f32>(10.0))))`,
};
