/**
 * PAD and PADV2 with zeros: a pad node, which the `absorbPads` pass folds into the single convolution (or VALID
 * average pool) that reads it; anything else is refused here, naming why.
 */
import { ModelFormatError, UnsupportedOpError } from '../../../errors.ts';
import type { Pads, Shape4 } from '../../../graph/ir.ts';
import { sameShape } from '../../../graph/ir.ts';
import type { TfliteConverter, TfliteOpConverter } from '../converter.ts';
import { dimsToString, irShapeFromDims, nhwc } from '../dims.ts';
import { BuiltinOp, builtinOpName, Padding, pool2dOptions } from '../schema.ts';

export const pad: TfliteOpConverter = (tc, op, { code, opName, where, name }) => {
  const src = op.inputs[0];
  const srcT = tc.tensor(src, where);
  if (tc.pendingPads.has(src)) throw new UnsupportedOpError(`${where}: ${opName} of a PAD output cannot be folded`);
  const x = tc.activation(src, where);
  const [n, c, h, w] = tc.b.shape(x);
  const p = tc.intConstant(op.inputs[1], 'paddings', where);
  if (srcT.shape.length !== 4 || p.length !== 8) {
    throw new UnsupportedOpError(`${where}: ${opName} of a rank-${srcT.shape.length} tensor; only NHWC images are supported`);
  }
  if (p.some((v) => v < 0)) throw new ModelFormatError(`${where}: negative paddings [${p.join(', ')}]`);
  if (p[0] || p[1] || p[6] || p[7]) {
    throw new UnsupportedOpError(`${where}: ${opName} of the batch or channel axis ([${p.join(', ')}]) cannot be folded into a convolution`);
  }
  if (code === BuiltinOp.PADV2 && op.inputs.length > 2 && op.inputs[2] >= 0) {
    const value = tc.constant(op.inputs[2], 'pad value', where).data;
    if (value.length !== 1 || value[0] !== 0) {
      throw new UnsupportedOpError(`${where}: ${opName} with pad value ${value[0]} (only zero padding folds into a convolution)`);
    }
  }
  const out = op.outputs[0];
  const outT = tc.tensor(out, where);
  const why = padFoldProblem(tc, out, [p[2], p[4], p[3], p[5]]);
  if (why) throw new UnsupportedOpError(`${where}: ${opName} cannot be folded: ${why}`);
  const declared = irShapeFromDims(outT.shape);
  const expected: Shape4 = [n, c, h + p[2] + p[3], w + p[4] + p[5]];
  if (!declared || !sameShape(declared, expected)) {
    throw new ModelFormatError(`${where}: output ${tc.tensorLabel(outT)} is declared ${dimsToString(outT.shape)}, padding gives ${nhwc(expected)}`);
  }
  tc.checkFreshOutput(out, where);
  const pads: Pads = [p[2], p[4], p[3], p[5]];
  tc.pendingPads.set(out, { padded: tc.b.pad(x, { pads, value: 0 }, name), pads });
  tc.foldedPads++;
};

/** Why a PAD output cannot fold into its consumer, or null when it can. */
function padFoldProblem(tc: TfliteConverter, out: number, pads: Pads): string | null {
  if (tc.sg.outputs.includes(out)) return 'its result is a model output';
  const users = tc.consumers[out] ?? [];
  if (users.length !== 1) return `its result feeds ${users.length} operators; it folds only into a single convolution`;
  const user = tc.sg.operators[users[0]];
  const code = tc.model.operatorCodes[user.opcodeIndex]?.builtin ?? -1;
  const userName = builtinOpName(code);
  if (user.inputs[0] !== out || user.inputs.slice(1).includes(out)) return `it feeds ${userName} (operator ${user.index}) as a non-data input`;
  if (code === BuiltinOp.CONV_2D || code === BuiltinOp.DEPTHWISE_CONV_2D) return null;
  if (code === BuiltinOp.AVERAGE_POOL_2D) {
    const o = pool2dOptions(user.options);
    if (o.padding !== Padding.VALID) return `the following AVERAGE_POOL_2D (operator ${user.index}) also pads (SAME), which averages differently`;
    if (pads[0] >= o.filterH || pads[2] >= o.filterH || pads[1] >= o.filterW || pads[3] >= o.filterW) {
      return `pads [${pads.join(', ')}] reach past the ${o.filterH}x${o.filterW} window of AVERAGE_POOL_2D (operator ${user.index})`;
    }
    return null;
  }
  return `the following ${userName} (operator ${user.index}) is not a convolution (zero padding differs from its own semantics)`;
}
