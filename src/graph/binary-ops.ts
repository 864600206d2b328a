/**
 * The element-wise binary ops of `binary` nodes as data: per op its CPU rule (the reference) and its WGSL
 * expression over the operand vec4s `a` and `b` (the GPU kernel). Adding an op is one entry here plus its name in
 * `BinaryOp` (ir.ts) and the frontends' converters.
 */
import type { BinaryOp } from './ir.ts';

export interface BinaryOpSpec {
  /** The CPU reference of one element (f64 arithmetic, the result stored as f32). */
  readonly reference: (a: number, b: number) => number;
  /** WGSL expression of `vec4<f32>` type in the vec4s `a` and `b`. */
  readonly wgsl: string;
  /** WGSL functions the expression calls, declared once in the kernel. */
  readonly helpers?: string;
}

/**
 * WGSL's `pow` is `exp2(b * log2(a))`, undefined for `a < 0`; NumPy (and ONNX, TFLite) define integer powers of
 * negative bases, so those take `|a|` and the sign of an odd power. `b == 0` gives 1 (also for `a == 0`).
 */
const POW_HELPER = `fn binary_pow(a: vec4<f32>, b: vec4<f32>) -> vec4<f32> {
  let whole = b == floor(b);
  let magnitude = pow(abs(a), b);
  let signed = select(magnitude, -magnitude, whole & (fract(b * 0.5) != vec4<f32>(0.0)) & (a < vec4<f32>(0.0)));
  let defined = select(pow(a, b), signed, whole | (a >= vec4<f32>(0.0)));
  return select(defined, vec4<f32>(1.0), b == vec4<f32>(0.0));
}`;

export const BINARY_OPS: { readonly [K in BinaryOp]: BinaryOpSpec } = {
  add: { reference: (a, b) => a + b, wgsl: 'a + b' },
  sub: { reference: (a, b) => a - b, wgsl: 'a - b' },
  mul: { reference: (a, b) => a * b, wgsl: 'a * b' },
  div: { reference: (a, b) => a / b, wgsl: 'a / b' },
  pow: { reference: (a, b) => Math.pow(a, b), wgsl: 'binary_pow(a, b)', helpers: POW_HELPER },
  min: { reference: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.min(a, b)), wgsl: 'min(a, b)' },
  max: { reference: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b)), wgsl: 'max(a, b)' },
  squaredDifference: { reference: (a, b) => Math.fround(a - b) * Math.fround(a - b), wgsl: '(a - b) * (a - b)' },
  // `a` where it is not negative, else `a` times the slope `b` (ONNX PRelu, TFLite PRELU).
  prelu: { reference: (a, b) => (a < 0 ? a * b : a), wgsl: 'select(a * b, a, a >= vec4<f32>(0.0))' },
};

export const BINARY_OP_NAMES = Object.keys(BINARY_OPS) as BinaryOp[];
