/** RELU, RELU6 and RELU_N1_TO_1 as standalone operators. */
import type { Activation } from '../../../graph/ir.ts';
import { RELU, RELU6 } from '../../../graph/ir.ts';
import type { TfliteOpConverter } from '../converter.ts';
import { BuiltinOp } from '../schema.ts';

export const activation: TfliteOpConverter = (tc, op, { code, where, name }) => {
  const activation: Activation =
    code === BuiltinOp.RELU ? RELU : code === BuiltinOp.RELU6 ? RELU6 : { kind: 'clip', min: -1, max: 1 };
  const x = tc.activation(op.inputs[0], where);
  tc.bindOutput(op, tc.b.activation(x, activation, name), where);
};
