/** The loop shared by the CPU references of broadcasting binary ops (`add`, the `binary` node family). */
import type { Shape4 } from '../graph/ir.ts';

/**
 * `min(max(f(a, b), lo), hi)` over `shape`, NumPy-style broadcasting over the four NCHW axes: each operand axis
 * equals the output's or is 1 (`shape` is the operands' broadcast shape, checked by the caller).
 */
export function broadcastCombine(
  a: Float32Array,
  aShape: Shape4,
  b: Float32Array,
  bShape: Shape4,
  shape: Shape4,
  f: (x: number, y: number) => number,
  [lo, hi]: readonly [number, number],
): Float32Array {
  const [N, C, H, W] = shape;
  // Per-axis strides, zero along broadcast axes.
  const strides = (s: Shape4): number[] => [s[1] * s[2] * s[3], s[2] * s[3], s[3], 1].map((st, i) => (s[i] === 1 ? 0 : st));
  const [an, ac, ah, aw] = strides(aShape);
  const [bn, bc, bh, bw] = strides(bShape);
  const out = new Float32Array(N * C * H * W);
  let o = 0;
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++) {
          const v = f(a[n * an + c * ac + y * ah + x * aw], b[n * bn + c * bc + y * bh + x * bw]);
          out[o++] = Math.min(Math.max(v, lo), hi);
        }
  return out;
}
