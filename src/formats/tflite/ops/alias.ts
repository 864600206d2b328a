/** RESHAPE, SQUEEZE, QUANTIZE, DEQUANTIZE: no node, the output is the input's IR tensor (or constant). */
import { ModelFormatError, UnsupportedOpError } from '../../../errors.ts';
import { sameShape } from '../../../graph/ir.ts';
import type { TfliteOpConverter } from '../converter.ts';
import { dimsToString, irShapeFromDims, nhwc } from '../dims.ts';

export const alias: TfliteOpConverter = (tc, op, { opName, where }) => {
  const src = op.inputs[0];
  const out = op.outputs[0];
  const outT = tc.tensor(out, where);
  if (src === undefined) throw new ModelFormatError(`${where}: ${opName} has no input`);
  tc.checkFreshOutput(out, where);
  if (out === src) throw new ModelFormatError(`${where}: ${opName} reads and writes ${tc.tensorLabel(outT)}`);
  if (!tc.irOf.has(src) && !tc.pendingPads.has(src) && tc.isConstant(src, where)) {
    const count = tc.elementCount(tc.tensor(src, where), where);
    if (count !== tc.elementCount(outT, where)) {
      throw new ModelFormatError(`${where}: ${opName} of a constant changes its element count`);
    }
    // Chains of aliases point at the tensor that holds the data, so reading one never recurses.
    tc.constAlias.set(out, tc.constAlias.get(src) ?? src);
    return;
  }
  const x = tc.activation(src, where);
  const s = tc.b.shape(x);
  const target = irShapeFromDims(outT.shape);
  if (target && sameShape(target, s)) {
    tc.irOf.set(out, x);
    return;
  }
  const count = s[0] * s[1] * s[2] * s[3];
  if (tc.elementCount(outT, where) !== count) {
    throw new ModelFormatError(`${where}: ${opName} from ${nhwc(s)} to ${dimsToString(outT.shape)} changes the element count`);
  }
  throw new UnsupportedOpError(
    `${where}: ${opName} from ${nhwc(s)} (NHWC) to ${dimsToString(outT.shape)} would reorder elements of a spatial map; ` +
      'only reshapes that add or drop unit dims of [n, c] tensors are supported',
  );
};
