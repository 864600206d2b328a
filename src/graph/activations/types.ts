/**
 * An activation function as data: one table entry (`index.ts`) gives its name, its parameters, the CPU
 * reference and the WGSL the standalone activation kernel and every fused epilogue apply. This module imports
 * nothing of the IR's, so that `ir.ts` can name these types without an import cycle.
 */

/** A table activation with its parameter values, in the entry's `params` order. Plain data (JSON-safe). */
export interface ActivationFunction {
  readonly name: string;
  readonly params: readonly number[];
}

export interface ActivationEntry {
  /** Table key, as `ActivationFunction.name`. */
  readonly name: string;
  /**
   * Parameter names in order, as ONNX names the op's float attributes (e.g. `['alpha']`); their values are
   * compiled into the WGSL as constants.
   */
  readonly params: readonly string[];
  /** Default parameter values (ONNX's attribute defaults), in `params` order. */
  readonly defaults: readonly number[];
  /** The ONNX op that computes exactly this (the graph exporter writes it), with `params` as its attributes. */
  readonly onnxOp: string;
  /**
   * String attributes the ONNX op must carry with exactly these values (Gelu's `approximate: 'tanh'`); the
   * converter refuses other values, the exporter writes them.
   */
  readonly onnxStringAttrs?: Readonly<Record<string, string>>;
  /**
   * Inputs the GPU cases draw from, when not every value suits: `'nonNegative'` where the function is undefined
   * below 0 (Sqrt; WGSL leaves those values indeterminate), `'positive'` where it is ill-conditioned near 0
   * (Reciprocal: a convolution's last-bit rounding differences would blow up there).
   */
  readonly domain?: 'nonNegative' | 'positive';
  /** The CPU reference, one value at a time (f64 arithmetic; the caller stores f32). */
  reference(x: number, params: readonly number[]): number;
  /**
   * WGSL of the activation applied to the `vec4<f32>` expression `v` (a plain identifier); `params` are WGSL
   * f32 literals (`wgslF32`).
   */
  wgsl(v: string, params: readonly string[]): string;
}
