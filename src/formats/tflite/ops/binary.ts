/**
 * ADD, SUB, MUL, DIV (with their fused activation), MAXIMUM, MINIMUM, POW, SQUARED_DIFFERENCE, PRELU: NumPy-style
 * broadcasting of two tensors, either of which may be a constant. ADD of two run-time tensors is the IR's
 * residual `add` (it fuses into convolutions); everything else is a `binary` node, constants embedded.
 */
import { ModelFormatError, UnsupportedOpError } from '../../../errors.ts';
import type { BinaryOperand } from '../../../graph/builder.ts';
import type { Activation, BinaryOp, Shape4 } from '../../../graph/ir.ts';
import { NO_ACTIVATION, sameShape } from '../../../graph/ir.ts';
import type { TfliteConverter, TfliteOpConverter } from '../converter.ts';
import { dimsToString, irShapeFromDims, nhwc } from '../dims.ts';
import { arithmeticOptions } from '../schema.ts';
import { functionActivation } from '../../../graph/activations/index.ts';

/** A converter for `op`; `fused` when the op's options carry a fused activation. */
function binaryConverter(op: BinaryOp, opName: string, fused: boolean): TfliteOpConverter {
  return (tc, top, { where, name }) => {
    const activation: Activation = fused ? tc.fusedActivation(arithmeticOptions(top.options).activation, where) : NO_ACTIVATION;
    if (top.inputs.length !== 2) throw new ModelFormatError(`${where}: ${opName} has ${top.inputs.length} inputs, expected 2`);
    const rank = tc.tensor(top.outputs[0], where).shape.length;
    const [a, b] = top.inputs.map((idx, k) => operand(tc, idx, rank, where, `input ${k}`));
    if (typeof a !== 'number' && typeof b !== 'number') {
      throw new UnsupportedOpError(`${where}: ${opName} of two constants is not supported (nothing computes it at run time)`);
    }
    const out = op === 'add' && typeof a === 'number' && typeof b === 'number' ? tc.b.add(a, b, name, activation) : tc.b.binary(op, a, b, name, activation);
    tc.bindOutput(top, out, where);
  };
}

/**
 * Input `idx` as a binary operand. Operands align to the output's rank from the right (NumPy); a run-time
 * tensor's IR shape must then be what its aligned dims stand for, a constant is transposed from NHWC to NCHW.
 */
function operand(tc: TfliteConverter, idx: number, rank: number, where: string, role: string): BinaryOperand {
  const t = tc.tensor(idx, where);
  const aligned = [...new Array<number>(Math.max(0, rank - t.shape.length)).fill(1), ...t.shape];
  const shape = irShapeFromDims(aligned);
  if (!shape) throw new UnsupportedOpError(`${where}: ${role} of ${dimsToString(t.shape)} on a rank-${rank} output has no NCHW equivalent`);
  if (!tc.isConstant(idx, where)) {
    const id = tc.activation(idx, where, role);
    if (!sameShape(tc.b.shape(id), shape)) {
      throw new UnsupportedOpError(`${where}: ${role} ${nhwc(tc.b.shape(id))} does not broadcast as ${dimsToString(t.shape)} against a rank-${rank} output`);
    }
    return id;
  }
  const { data } = tc.constant(idx, role, where);
  return { shape, values: aligned.length === 4 ? nhwcToNchw(data, shape) : data };
}

/** Values of an NHWC tensor reordered to the NCHW order of `shape` (`[n, c, h, w]`). */
function nhwcToNchw(data: Float32Array, shape: Shape4): Float32Array {
  const [N, C, H, W] = shape;
  if (C === 1 || H * W === 1) return data;
  const out = new Float32Array(data.length);
  for (let n = 0; n < N; n++)
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++)
        for (let c = 0; c < C; c++) out[((n * C + c) * H + y) * W + x] = data[((n * H + y) * W + x) * C + c];
  return out;
}

export const add = binaryConverter('add', 'ADD', true);
export const sub = binaryConverter('sub', 'SUB', true);
export const mul = binaryConverter('mul', 'MUL', true);
export const div = binaryConverter('div', 'DIV', true);
export const maximum = binaryConverter('max', 'MAXIMUM', false);
export const minimum = binaryConverter('min', 'MINIMUM', false);
export const pow = binaryConverter('pow', 'POW', false);
export const squaredDifference = binaryConverter('squaredDifference', 'SQUARED_DIFFERENCE', false);
/**
 * PRELU(input, alpha): alpha (usually a constant per channel) broadcasts to the input. A constant alpha whose
 * values are all equal is the table's leaky-relu, which fuses into the producer's epilogue.
 */
const binaryPrelu = binaryConverter('prelu', 'PRELU', false);
export const prelu: TfliteOpConverter = (tc, top, site) => {
  const alpha = top.inputs[1];
  if (top.inputs.length === 2 && alpha >= 0 && tc.isConstant(alpha, site.where)) {
    const { data } = tc.constant(alpha, 'alpha', site.where);
    if (data.length > 0 && data.every((v) => v === data[0]) && Number.isFinite(data[0])) {
      const x = tc.activation(top.inputs[0], site.where);
      const out = irShapeFromDims(tc.tensor(top.outputs[0], site.where).shape);
      if (out && sameShape(tc.b.shape(x), out)) {
        tc.bindOutput(top, tc.b.activation(x, functionActivation('leaky-relu', [data[0]]), site.name), site.where);
        return;
      }
    }
  }
  binaryPrelu(tc, top, site);
};
