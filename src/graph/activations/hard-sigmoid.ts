import type { ActivationEntry } from './types.ts';

/** `max(0, min(1, alpha * x + beta))` (ONNX HardSigmoid; PyTorch's hardsigmoid exports alpha 1/6, beta 0.5). */
export const hardSigmoid: ActivationEntry = {
  name: 'hard-sigmoid',
  params: ['alpha', 'beta'],
  defaults: [0.2, 0.5],
  onnxOp: 'HardSigmoid',
  reference: (x, [alpha, beta]) => Math.max(0, Math.min(1, alpha * x + beta)),
  wgsl: (v, [alpha, beta]) => `clamp(${alpha} * ${v} + ${beta}, vec4<f32>(0.0), vec4<f32>(1.0))`,
};
