import type { ActivationEntry } from './types.ts';

/** `x * max(0, min(1, x / 6 + 1 / 2))` (ONNX HardSwish from opset 14; TFLite HARD_SWISH, `x * relu6(x + 3) / 6`). */
export const hardSwish: ActivationEntry = {
  name: 'hard-swish',
  params: [],
  defaults: [],
  onnxOp: 'HardSwish',
  reference: (x) => x * Math.max(0, Math.min(1, x / 6 + 0.5)),
  wgsl: (v) => `${v} * clamp(${v} / 6.0 + 0.5, vec4<f32>(0.0), vec4<f32>(1.0))`,
};
