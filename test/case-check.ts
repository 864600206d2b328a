/** How a GPU case's outputs are judged against the CPU reference: the fp32 and f16 bars, the comparison, the head check. */
import type { GpuCase } from './gpu-cases.ts';

/**
 * For a pool + FC head case over more than one position: whether the compiled model ran it as one fused launch
 * (a pooled linear kernel, no separate pool); undefined for every other case.
 */
export function headFused(c: GpuCase, kernels: readonly string[]): boolean | undefined {
  if (c.kind !== 'poolLinear' || c.h * c.w === 1) return undefined;
  return kernels.some((k) => /^linear-(pooled|splitk\/pooled)\//.test(k)) && !kernels.some((k) => k.startsWith('pool/'));
}

/**
 * For a pool + FC head case over more than one position: whether the head ran fused exactly when the kernel
 * choice asked for it (`headFusion`); true for every other case.
 */
export function headAsChosen(c: GpuCase, r: { readonly kernels: readonly string[]; readonly headFusion: boolean }): boolean {
  const fused = headFused(c, r.kernels);
  return fused === undefined || fused === r.headFusion;
}

/** The fp32 bar: max |gpu - ref| <= 1e-4 * max|ref| + 1e-5. */
export function tolerance(maxAbsRef: number): number {
  return 1e-4 * maxAbsRef + 1e-5;
}

/**
 * The f16-storage bars (f16 and f16-packed; arithmetic stays f32). Rounding to binary16 keeps 11 significant
 * bits, so each stored value (input, weight, residual, output) is off by at most u = 2^-11 = 4.9e-4 of itself.
 * One kernel: the output's own rounding (u) plus, through the sum, the rounding of its input and weight
 * factors (2u of each product, relative to the sum of |products|, which cancellation can make a few times
 * max|out|): a few u of max|ref|, so a single kernel or a three-layer block gets 4e-3 (8u). A network stacks
 * ~50 such layers whose errors are independent in sign, so they grow like the square root of the depth
 * (sqrt(52) * 3u ~ 1e-2 of the activations' scale): 1e-2 of max|ref| on the logits, as issue #6 asks. An
 * indexing or conversion bug is off by O(max|ref|), far above either bar.
 */
export function f16Tolerance(maxAbsRef: number, scope: 'kernel' | 'network'): number {
  return (scope === 'network' ? 1e-2 : 4e-3) * maxAbsRef + 1e-4;
}

/** The bar a case is held to: fp32's, or f16's for its scope (whole networks, or kernels and blocks). */
export function caseTolerance(c: GpuCase): (maxAbsRef: number) => number {
  if ((c.precision ?? 'f32') === 'f32') return tolerance;
  const network = c.kind === 'mobilenetV2' || c.kind === 'resnet50' || c.kind === 'resnet';
  return (m) => f16Tolerance(m, network ? 'network' : 'kernel');
}

export interface Comparison {
  readonly maxAbsError: number;
  readonly maxAbsRef: number;
  readonly tolerance: number;
  readonly ok: boolean;
  readonly nonFinite: number;
}

export function compareOutputs(gpu: readonly Float32Array[], ref: readonly Float32Array[], bar: (maxAbsRef: number) => number = tolerance): Comparison {
  let maxAbsError = 0;
  let maxAbsRef = 0;
  let nonFinite = 0;
  let lengthsMatch = gpu.length === ref.length;
  ref.forEach((r, k) => {
    const g = gpu[k];
    if (!g || g.length !== r.length) {
      lengthsMatch = false;
      return;
    }
    for (let i = 0; i < r.length; i++) {
      if (!Number.isFinite(g[i])) nonFinite++;
      maxAbsRef = Math.max(maxAbsRef, Math.abs(r[i]));
      const d = Math.abs(g[i] - r[i]);
      if (!(d <= maxAbsError)) maxAbsError = Number.isNaN(d) ? Infinity : d;
    }
  });
  const tol = bar(maxAbsRef);
  return { maxAbsError, maxAbsRef, tolerance: tol, ok: lengthsMatch && nonFinite === 0 && maxAbsError <= tol, nonFinite };
}
