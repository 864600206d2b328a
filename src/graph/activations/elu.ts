import type { ActivationEntry } from './types.ts';

/** `x` where `x > 0`, else `alpha * (e^x - 1)` (ONNX Elu, TFLite ELU with alpha 1). */
export const elu: ActivationEntry = {
  name: 'elu',
  params: ['alpha'],
  defaults: [1],
  onnxOp: 'Elu',
  reference: (x, [alpha]) => (x > 0 ? x : alpha * (Math.exp(x) - 1)),
  // `select` picks `v` where exp(v) overflowed, so the infinity never reaches the output.
  wgsl: (v, [alpha]) => `select(${alpha} * (exp(${v}) - 1.0), ${v}, ${v} > vec4<f32>(0.0))`,
};
