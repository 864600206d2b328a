/** Add / Sub / Mul / Div. */
import { checkedElementCount } from '../../limits.ts';
import { DataType } from '../proto.ts';
import type { ConstantTensor } from '../tensor.ts';
import type { Converter, NodeContext } from '../context.ts';
import type { ConstantValue, RuntimeValue } from '../values.ts';
import { broadcastDims, fmt, irShapeOf, sameDims } from '../values.ts';
import { checkLegacyBroadcast } from './legacy.ts';

export const Add: Converter = binaryConverter('Add');
export const Sub: Converter = binaryConverter('Sub');
export const Mul: Converter = binaryConverter('Mul');
export const Div: Converter = binaryConverter('Div');

type BinaryOp = 'Add' | 'Sub' | 'Mul' | 'Div';

const BINARY: Record<BinaryOp, (a: number, b: number) => number> = {
  Add: (a, b) => a + b,
  Sub: (a, b) => a - b,
  Mul: (a, b) => a * b,
  Div: (a, b) => a / b,
};

/**
 * Add / Sub / Mul / Div. Two computed tensors: Add only, same shape or broadcast (operands reshaped to their
 * right-aligned rank first). A computed tensor and a per-channel (or scalar) constant: a per-channel affine
 * map, i.e. a depthwise 1x1 convolution `scale * x + shift`. Two constants: folded.
 */
function binaryConverter(op: BinaryOp): Converter {
  return (ctx) => {
    const a = ctx.requireInput(0, 'input A');
    const b = ctx.requireInput(1, 'input B');
    checkLegacyBroadcast(ctx, a.dims, b.dims);
    const out = broadcastDims(a.dims, b.dims);
    if (!out) throw ctx.invalid(`operands ${fmt(a.dims)} and ${fmt(b.dims)} do not broadcast`);
    if (a.kind === 'constant' && b.kind === 'constant') {
      ctx.setOutput(foldBinary(ctx, op, a, b, out));
      return;
    }
    if (a.kind !== 'constant' && b.kind !== 'constant') {
      if (op !== 'Add') throw ctx.unsupported(`${op} of two computed tensors is not supported (only Add)`);
      const align = (v: RuntimeValue, tag: string): RuntimeValue =>
        ctx.imp.reshapeTo(v, [...new Array<number>(out.length - v.dims.length).fill(1), ...v.dims], `${ctx.name}/${tag}`);
      const id = ctx.b.add(align(a, 'align_a').id, align(b, 'align_b').id, ctx.name);
      ctx.runtimeOut(id, out);
      return;
    }
    const xIsA = a.kind !== 'constant';
    const x = (xIsA ? a : b) as RuntimeValue;
    const c = (xIsA ? b : a) as ConstantValue;
    if (!sameDims(out, x.dims)) {
      throw ctx.unsupported(`a constant ${fmt(c.dims)} that broadcasts ${fmt(x.dims)} up to ${fmt(out)} is not supported`);
    }
    const channels = ctx.b.shape(x.id)[1];
    const values = perChannel(ctx, c, x.dims, channels);
    const scale = ctx.imp.budget.floats(channels, `${ctx.where}: scale`).fill(1);
    const shift = ctx.imp.budget.floats(channels, `${ctx.where}: shift`);
    if (op === 'Add') shift.set(values);
    else if (op === 'Mul') scale.set(values);
    else if (op === 'Sub') {
      if (xIsA) for (let i = 0; i < channels; i++) shift[i] = -values[i];
      else {
        scale.fill(-1);
        shift.set(values);
      }
    } else {
      if (!xIsA) throw ctx.unsupported('dividing a constant by a computed tensor is not supported');
      for (let i = 0; i < channels; i++) scale[i] = 1 / values[i];
    }
    const id = ctx.b.conv2d(
      x.id,
      { outChannels: channels, kernel: 1, groups: channels, weight: scale, bias: shift },
      ctx.name,
    );
    ctx.imp.affineOutputs.add(id);
    ctx.runtimeOut(id, x.dims);
  };
}

/** The per-channel values of constant `c` broadcast against a value of `dims` (scalars repeat). */
function perChannel(ctx: NodeContext, c: ConstantValue, dims: readonly number[], channels: number): Float32Array {
  const v = ctx.floats(c, 'constant operand');
  if (v.length === 1) return ctx.imp.budget.floats(channels, `${ctx.where}: constant operand`).fill(v[0]);
  const aligned = [...new Array<number>(Math.max(0, dims.length - c.dims.length)).fill(1), ...c.dims];
  const s = irShapeOf(aligned);
  if (s[0] === 1 && s[2] === 1 && s[3] === 1 && s[1] === channels) return v;
  throw ctx.unsupported(
    `a constant operand ${fmt(c.dims)} on ${fmt(dims)} is only supported when it is a scalar or one value per channel`,
  );
}

/** Elementwise op on two constants with NumPy broadcasting. */
function foldBinary(ctx: NodeContext, op: BinaryOp, a: ConstantValue, b: ConstantValue, out: number[]): ConstantValue {
  const f = BINARY[op];
  const ints = Boolean(a.tensor.ints && b.tensor.ints);
  const av = a.tensor.ints ?? Array.from(ctx.floats(a, 'input A'));
  const bv = b.tensor.ints ?? Array.from(ctx.floats(b, 'input B'));
  const count = checkedElementCount(out, `${ctx.where}: folded constant`);
  ctx.imp.budget.charge(count * 12, `${ctx.where}: folded constant`);
  const index = (dims: readonly number[], flat: number): number => {
    // Position `flat` of the output, mapped to an operand of `dims` (right-aligned, size-1 axes broadcast).
    let idx = 0;
    let stride = 1;
    let rest = flat;
    for (let i = out.length - 1; i >= 0; i--) {
      const coord = rest % out[i];
      rest = Math.floor(rest / out[i]);
      const j = i - (out.length - dims.length);
      if (j >= 0) {
        if (dims[j] !== 1) idx += coord * stride;
        stride *= dims[j];
      }
    }
    return idx;
  };
  const result = new Array<number>(count);
  for (let i = 0; i < count; i++) {
    const v = f(av[index(a.dims, i)], bv[index(b.dims, i)]);
    result[i] = ints && op === 'Div' ? Math.trunc(v) : v;
  }
  const tensor: ConstantTensor = ints
    ? { dims: out, dataType: DataType.INT64, ints: result }
    : { dims: out, dataType: DataType.FLOAT, floats: Float32Array.from(result) };
  return { kind: 'constant', dims: out, tensor };
}
