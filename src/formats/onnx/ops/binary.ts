/** Add / Sub / Mul / Div / Pow / Min / Max. */
import type { BinaryOp as IrBinaryOp } from '../../../graph/ir.ts';
import { checkedElementCount } from '../../limits.ts';
import { DataType } from '../proto.ts';
import type { ConstantTensor } from '../tensor.ts';
import type { Converter, NodeContext } from '../context.ts';
import type { ConstantValue, RuntimeValue, Value } from '../values.ts';
import { broadcastDims, fmt, irShapeOf, sameDims } from '../values.ts';
import { checkLegacyBroadcast } from './legacy.ts';
import { binaryOnViews } from './channels-last.ts';

export const Add: Converter = binaryConverter('Add');
export const Sub: Converter = binaryConverter('Sub');
export const Mul: Converter = binaryConverter('Mul');
export const Div: Converter = binaryConverter('Div');
export const Pow: Converter = binaryConverter('Pow');
export const Min: Converter = variadicConverter('Min');
export const Max: Converter = variadicConverter('Max');

type BinaryOp = 'Add' | 'Sub' | 'Mul' | 'Div' | 'Pow' | 'Min' | 'Max';

const BINARY: Record<BinaryOp, (a: number, b: number) => number> = {
  Add: (a, b) => a + b,
  Sub: (a, b) => a - b,
  Mul: (a, b) => a * b,
  Div: (a, b) => a / b,
  Pow: (a, b) => Math.pow(a, b),
  Min: (a, b) => Math.min(a, b),
  Max: (a, b) => Math.max(a, b),
};

const IR_OP: Record<BinaryOp, IrBinaryOp> = { Add: 'add', Sub: 'sub', Mul: 'mul', Div: 'div', Pow: 'pow', Min: 'min', Max: 'max' };

/**
 * Add / Sub / Mul / Div / Pow. Two constants: folded. Two computed tensors: Add as the residual `add` (it fuses
 * into convolutions), the others as `binary` nodes (operands reshaped to their right-aligned rank first). A
 * computed tensor and a per-channel (or scalar) constant Add / Sub / Mul / Div: a per-channel affine map, i.e. a
 * depthwise 1x1 convolution `scale * x + shift` (which `mergeAffine` folds into a neighbouring convolution).
 * `x ^ 2` is `x * x`. Any other constant operand: a `binary` node with the constant embedded.
 */
function binaryConverter(op: BinaryOp): Converter {
  return (ctx) => {
    const a = ctx.requireInput(0, 'input A');
    const b = ctx.requireInput(1, 'input B');
    checkLegacyBroadcast(ctx, a.dims, b.dims);
    ctx.setOutput(binaryOnViews(ctx, a, b, (x, y) => binaryValue(ctx, op, x, y, '')) ?? binaryValue(ctx, op, a, b, ''));
  };
}

/** Min / Max of one or more inputs, combined left to right (constants among them folded where adjacent). */
function variadicConverter(op: 'Min' | 'Max'): Converter {
  return (ctx) => {
    const count = ctx.node.input.length;
    if (count === 0) throw ctx.invalid('has no inputs');
    let acc = ctx.requireInput(0, 'input 0');
    for (let k = 1; k < count; k++) acc = binaryValue(ctx, op, acc, ctx.requireInput(k, `input ${k}`), count > 2 ? `/${k}` : '');
    ctx.setOutput(acc);
  };
}

/** `a op b` as a value: folded, a node added to the graph, or (one input of a variadic op) `a` itself. */
function binaryValue(ctx: NodeContext, op: BinaryOp, a: Value, b: Value, tag: string): Value {
  const out = broadcastDims(a.dims, b.dims);
  if (!out) throw ctx.invalid(`operands ${fmt(a.dims)} and ${fmt(b.dims)} do not broadcast`);
  if (a.kind === 'constant' && b.kind === 'constant') return foldBinary(ctx, op, a, b, out);
  const name = `${ctx.name}${tag}`;
  const align = (v: RuntimeValue, side: string): RuntimeValue =>
    ctx.imp.reshapeTo(v, [...new Array<number>(out.length - v.dims.length).fill(1), ...v.dims], `${name}/align_${side}`);
  if (a.kind !== 'constant' && b.kind !== 'constant') {
    const [ia, ib] = [align(a, 'a').id, align(b, 'b').id];
    const id = op === 'Add' ? ctx.b.add(ia, ib, name) : ctx.b.binary(IR_OP[op], ia, ib, name);
    return { kind: 'runtime', dims: out, id };
  }
  const xIsA = a.kind !== 'constant';
  const x = (xIsA ? a : b) as RuntimeValue;
  const c = (xIsA ? b : a) as ConstantValue;
  if (op === 'Pow' && xIsA && isScalar(ctx, c, 2) && sameDims(out, x.dims)) {
    return { kind: 'runtime', dims: out, id: ctx.b.binary('mul', x.id, x.id, name) };
  }
  const affine = (op === 'Add' || op === 'Sub' || op === 'Mul' || (op === 'Div' && xIsA)) && sameDims(out, x.dims);
  const channels = ctx.b.shape(x.id)[1];
  const values = affine ? perChannel(ctx, c, x.dims, channels) : null;
  if (!values) {
    const k = { shape: irShapeOf(alignedDims(c.dims, out.length)), values: ctx.floats(c, 'constant operand') };
    const xa = align(x, xIsA ? 'a' : 'b').id;
    return { kind: 'runtime', dims: out, id: xIsA ? ctx.b.binary(IR_OP[op], xa, k, name) : ctx.b.binary(IR_OP[op], k, xa, name) };
  }
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
  } else for (let i = 0; i < channels; i++) scale[i] = 1 / values[i];
  const id = ctx.b.conv2d(x.id, { outChannels: channels, kernel: 1, groups: channels, weight: scale, bias: shift }, name);
  ctx.imp.affineOutputs.add(id);
  return { kind: 'runtime', dims: x.dims, id };
}

/** `dims` with leading 1s up to `rank` (NumPy's right alignment). */
function alignedDims(dims: readonly number[], rank: number): number[] {
  return [...new Array<number>(Math.max(0, rank - dims.length)).fill(1), ...dims];
}

/** Whether constant `c` holds the single value `v`. */
function isScalar(ctx: NodeContext, c: ConstantValue, v: number): boolean {
  const values = c.tensor.ints ?? ctx.floats(c, 'constant operand');
  return values.length === 1 && Number(values[0]) === v;
}

/**
 * The per-channel values of constant `c` broadcast against a value of `dims` (scalars repeat), or null when it
 * is neither a scalar nor one value per channel.
 */
function perChannel(ctx: NodeContext, c: ConstantValue, dims: readonly number[], channels: number): Float32Array | null {
  const v = ctx.floats(c, 'constant operand');
  if (v.length === 1) return ctx.imp.budget.floats(channels, `${ctx.where}: constant operand`).fill(v[0]);
  const s = irShapeOf(alignedDims(c.dims, dims.length));
  if (s[0] === 1 && s[2] === 1 && s[3] === 1 && s[1] === channels) return v;
  return null;
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
