/**
 * Operators that are one function of the activation table (`src/graph/activations/`) at fixed parameters, or
 * at parameters read from the op's options table (`params`): an activation node the compiler later fuses into
 * its producer. `TFLITE_OPS` maps the opcode to `tableActivation(name)`.
 */
import { activationEntry, functionActivation } from '../../../graph/activations/index.ts';
import type { TfliteOpConverter } from '../converter.ts';
import type { TfliteOperator } from '../schema.ts';

export function tableActivation(name: string, params: (op: TfliteOperator) => readonly number[] = () => activationEntry(name).defaults): TfliteOpConverter {
  return (tc, op, { where, name: nodeName }) => {
    const x = tc.activation(op.inputs[0], where);
    tc.bindOutput(op, tc.b.activation(x, functionActivation(name, params(op)), nodeName), where);
  };
}
