import type { ActivationEntry } from './types.ts';

/** `x` where `x >= 0`, else `alpha * x` (ONNX LeakyRelu, TFLite LEAKY_RELU). */
export const leakyRelu: ActivationEntry = {
  name: 'leaky-relu',
  params: ['alpha'],
  defaults: [0.01],
  onnxOp: 'LeakyRelu',
  reference: (x, [alpha]) => (x >= 0 ? x : alpha * x),
  wgsl: (v, [alpha]) => `select(${alpha} * ${v}, ${v}, ${v} >= vec4<f32>(0.0))`,
};
