/** CPU reference of `binary` nodes: `act(a op b)` with NumPy-style broadcasting over the four NCHW axes. */
import { ShapeError } from '../errors.ts';
import { BINARY_OPS } from '../graph/binary-ops.ts';
import type { Activation, BinaryOp, Shape4 } from '../graph/ir.ts';
import { activationBounds, elementCount, shapeToString } from '../graph/ir.ts';
import { broadcastShapes } from '../graph/shapes.ts';
import { broadcastCombine } from './broadcast.ts';
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
  const out = broadcastCombine(a, aShape, b, bShape, shape, (x, y) => Math.fround(f(x, y)), activationBounds(act));
  return { data: out, shape };
}
