/**
 * RSQRT, `1 / sqrt(x)`: the table's sqrt (which fuses into the producer's epilogue) then its reciprocal. Two
 * table functions, since a function composes with nothing and ONNX has no single op to export it as.
 */
import { functionActivation } from '../../../graph/activations/index.ts';
import type { TfliteOpConverter } from '../converter.ts';

export const rsqrt: TfliteOpConverter = (tc, op, { where, name }) => {
  const x = tc.activation(op.inputs[0], where);
  const root = tc.b.activation(x, functionActivation('sqrt'), `${name}/sqrt`);
  tc.bindOutput(op, tc.b.activation(root, functionActivation('reciprocal'), name), where);
};
