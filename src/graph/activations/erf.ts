import type { ActivationEntry } from './types.ts';

/**
 * `erf(x)` in f64: the Maclaurin series below |x| = 3 (terms stay under 1e4, so cancellation costs at most
 * about 1e-12), Lentz's continued fraction for erfc above (converges fast there), and +-1 past 6.
 */
export function erf(x: number): number {
  const a = Math.abs(x);
  if (Number.isNaN(x)) return NaN;
  if (a >= 6) return Math.sign(x);
  if (a < 3) {
    let term = x;
    let sum = x;
    for (let n = 1; n < 200; n++) {
      term *= (-x * x) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(a) = exp(-a^2) / sqrt(pi) * 1 / (a + (1/2) / (a + 1 / (a + (3/2) / (a + ...)))), evaluated bottom up.
  let f = a;
  for (let k = 60; k >= 1; k--) f = a + k / 2 / f;
  const erfc = Math.exp(-a * a) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

/**
 * WGSL `erf` of a vec4 expression (no builtin): Abramowitz and Stegun 7.1.26, absolute error below 1.5e-7,
 * `sign(v) * (1 - poly(t) * exp(-v^2))` with `t = 1 / (1 + 0.3275911 |v|)`; `exp` underflows to 0 for large
 * |v|, which gives +-1.
 */
export function erfWgsl(v: string): string {
  const t = `(1.0 / (1.0 + 0.3275911 * abs(${v})))`;
  const poly = `(${t} * (0.254829592 + ${t} * (-0.284496736 + ${t} * (1.421413741 + ${t} * (-1.453152027 + ${t} * 1.061405429)))))`;
  return `(sign(${v}) * (1.0 - ${poly} * exp(-(${v}) * (${v}))))`;
}

/** `erf(x)` (ONNX Erf). */
export const erfActivation: ActivationEntry = {
  name: 'erf',
  params: [],
  defaults: [],
  onnxOp: 'Erf',
  reference: (x) => erf(x),
  wgsl: (v) => erfWgsl(v),
};
