/** Constant: a constant value (tensor, float(s) or int(s) attribute). */
import { DataType } from '../proto.ts';
import type { Converter } from '../context.ts';

export const Constant: Converter = (ctx) => {
  let tensor = ctx.attrTensor('value');
  if (!tensor) {
    const f = ctx.hasAttr('value_float') ? [ctx.attrFloat('value_float', 0)] : undefined;
    const fs = ctx.attrFloats('value_floats');
    const i = ctx.hasAttr('value_int') ? [ctx.attrInt('value_int', 0)] : undefined;
    const is = ctx.attrInts('value_ints');
    if (f) tensor = { dims: [], dataType: DataType.FLOAT, floats: Float32Array.from(f) };
    else if (fs) tensor = { dims: [fs.length], dataType: DataType.FLOAT, floats: Float32Array.from(fs) };
    else if (i) tensor = { dims: [], dataType: DataType.INT64, ints: i };
    else if (is) tensor = { dims: [is.length], dataType: DataType.INT64, ints: is };
  }
  if (!tensor) {
    const names = ctx.attrNames();
    if (names.length) throw ctx.unsupported(`Constant with attribute '${names[0]}' is not supported`);
    throw ctx.invalid('has no value attribute');
  }
  ctx.setOutput({ kind: 'constant', dims: tensor.dims, tensor });
};
