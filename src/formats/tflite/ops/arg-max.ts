/**
 * ARG_MAX over the channels (the last axis of NHWC). The output `[n, h, w]` (int32 or int64 in the file) is the
 * IR's `[n, 1, h, w]` map of exact f32 indices (docs/decisions/argmax-output.md).
 */
import { ModelFormatError, UnsupportedOpError } from '../../../errors.ts';
import type { TfliteOpConverter } from '../converter.ts';
import { dimsToString } from '../dims.ts';

export const argMax: TfliteOpConverter = (tc, op, { where, name }) => {
  const t = tc.tensor(op.inputs[0], where);
  const x = tc.activation(op.inputs[0], where);
  const rank = t.shape.length;
  const axis = tc.intConstant(op.inputs[1], 'axis', where);
  const a = axis.length === 1 ? (axis[0] < 0 ? axis[0] + rank : axis[0]) : -1;
  if (rank !== 4 || a !== 3) {
    throw new UnsupportedOpError(`${where}: ARG_MAX over axis [${axis.join(', ')}] of ${dimsToString(t.shape)}; only over the channels (axis 3 of NHWC)`);
  }
  const id = tc.b.argMax(x, name);
  const outIdx = op.outputs[0];
  const out = tc.tensor(outIdx, where);
  const [n, , h, w] = tc.b.shape(id);
  const declared = out.shape;
  const fits = (declared.length === 3 && declared[0] === n && declared[1] === h && declared[2] === w) ||
    (declared.length === 4 && declared[0] === n && declared[1] === h && declared[2] === w && declared[3] === 1);
  if (!fits) throw new ModelFormatError(`${where}: output is declared ${dimsToString(declared)} but ARG_MAX computes [${n}, ${h}, ${w}]`);
  tc.checkFreshOutput(outIdx, where);
  tc.irOf.set(outIdx, id);
};
