/** TFLite dims and padding rules the converter and its op modules share. */
import type { Shape4 } from '../../graph/ir.ts';

/** TF's SAME rule: output `ceil(in / stride)`, the extra row/column of padding goes at the end. */
export function samePadding(inSize: number, kernel: number, stride: number, dilation: number): [number, number] {
  const out = Math.ceil(inSize / stride);
  const total = Math.max((out - 1) * stride + (kernel - 1) * dilation + 1 - inSize, 0);
  const begin = Math.floor(total / 2);
  return [begin, total - begin];
}

/**
 * The IR shape a TFLite tensor's dims stand for: `[n, h, w, c]` → `[n, c, h, w]`, `[n, c]` → `[n, c, 1, 1]`,
 * `[c]` → `[1, c, 1, 1]`, other ranks only when every middle dim is 1 (`[n, 1, .., 1, c]`); else null.
 */
export function irShapeFromDims(dims: readonly number[]): Shape4 | null {
  if (!dims.every((d) => Number.isInteger(d) && d >= 1)) return null;
  switch (dims.length) {
    case 0:
      return [1, 1, 1, 1];
    case 1:
      return [1, dims[0], 1, 1];
    case 2:
      return [dims[0], dims[1], 1, 1];
    case 4:
      return [dims[0], dims[3], dims[1], dims[2]];
    default:
      return dims.slice(1, -1).every((d) => d === 1) ? [dims[0], dims[dims.length - 1], 1, 1] : null;
  }
}

export function dimsToString(dims: readonly number[]): string {
  return `[${dims.join(', ')}]`;
}

export function nhwc(s: Shape4): string {
  return `[${s[0]}, ${s[2]}, ${s[3]}, ${s[1]}]`;
}
