/** ADD of two run-time tensors of one shape. */
import { ModelFormatError, UnsupportedOpError } from '../../../errors.ts';
import { sameShape } from '../../../graph/ir.ts';
import type { TfliteOpConverter } from '../converter.ts';
import { nhwc } from '../dims.ts';
import { addOptions } from '../schema.ts';

export const add: TfliteOpConverter = (tc, op, { where, name }) => {
  const activation = tc.fusedActivation(addOptions(op.options).activation, where);
  if (op.inputs.length !== 2) throw new ModelFormatError(`${where}: ADD has ${op.inputs.length} inputs, expected 2`);
  const a = tc.activation(op.inputs[0], where, 'input 0');
  const b = tc.activation(op.inputs[1], where, 'input 1');
  const sa = tc.b.shape(a);
  const sb = tc.b.shape(b);
  if (!sameShape(sa, sb)) {
    throw new UnsupportedOpError(`${where}: ADD of ${nhwc(sa)} and ${nhwc(sb)} needs broadcasting, which is not supported`);
  }
  tc.bindOutput(op, tc.b.add(a, b, name, activation), where);
};
