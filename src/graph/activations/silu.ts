import type { ActivationEntry } from './types.ts';

/**
 * `x * sigmoid(alpha * x)`: SiLU at alpha 1 (what `fuseSwish` makes of EfficientNet's `Mul(x, Sigmoid(x))`),
 * ONNX Swish in general. `exp` overflowing to infinity gives exactly 0, as the limit does.
 */
export const silu: ActivationEntry = {
  name: 'silu',
  params: ['alpha'],
  defaults: [1],
  onnxOp: 'Swish',
  reference: (x, [alpha]) => x / (1 + Math.exp(-alpha * x)),
  wgsl: (v, [alpha]) => `${v} / (1.0 + exp(-(${alpha} * ${v})))`,
};
