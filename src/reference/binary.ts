/** CPU reference of `binary` nodes: `act(a op b)` with NumPy-style broadcasting over the four NCHW axes. */
import { ShapeError } from '../errors.ts';
import { BINARY_OPS } from '../graph/binary-ops.ts';
import type { Activation, BinaryOp, Shape4 } from '../graph/ir.ts';
import { activationBounds, elementCount, shapeToString } from '../graph/ir.ts';
import { broadcastShapes } from '../graph/shapes.ts';
import type { TensorData } from './ops.ts';

export function binary(
  op: BinaryOp,
  a: Float32Array,
  aShape: Shape4,
  b: Float32Array,
  bShape: Shape4,
  act: Activation,
  where: string = op,
): TensorData {
  for (const [data, shape, what] of [[a, aShape, 'first'], [b, bShape, 'second']] as const) {
    if (data.length !== elementCount(shape)) {
      throw new ShapeError(`${where}: ${what} operand has ${data.length} values, expected ${elementCount(shape)} for shape ${shapeToString(shape)}`);
    }
  }
  const shape = broadcastShapes(aShape, bShape);
  if (!shape) throw new ShapeError(`${where}: ${op} operands ${shapeToString(aShape)} and ${shapeToString(bShape)} do not broadcast`);
  const f = BINARY_OPS[op].reference;
  const [N, C, H, W] = shape;
  // Per-axis strides, zero along broadcast axes.
  const strides = (s: Shape4): number[] => [s[1] * s[2] * s[3], s[2] * s[3], s[3], 1].map((st, i) => (s[i] === 1 ? 0 : st));
  const [an, ac, ah, aw] = strides(aShape);
  const [bn, bc, bh, bw] = strides(bShape);
  const [lo, hi] = activationBounds(act);
  const out = new Float32Array(N * C * H * W);
  let o = 0;
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++) {
          const v = Math.fround(f(a[n * an + c * ac + y * ah + x * aw], b[n * bn + c * bc + y * bh + x * bw]));
          out[o++] = Math.min(Math.max(v, lo), hi);
        }
  return { data: out, shape };
}
