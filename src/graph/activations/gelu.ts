import { erf, erfWgsl } from './erf.ts';
import type { ActivationEntry } from './types.ts';

/**
 * Exact GELU, `x / 2 * (1 + erf(x / sqrt(2)))` (ONNX Gelu opset 20 with approximate 'none'; below it, PyTorch
 * exports it as Div, Erf, Add, Mul, Mul, which the ONNX importer recognises as this function).
 */
export const gelu: ActivationEntry = {
  name: 'gelu',
  params: [],
  defaults: [],
  onnxOp: 'Gelu',
  reference: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
  wgsl: (v) => `(0.5 * ${v} * (1.0 + ${erfWgsl(`(${v} * ${Math.SQRT1_2})`)}))`,
};
