/** Flatten and Reshape: free views, flattens or reshape nodes (constants keep their data). */
import type { Converter, NodeContext } from '../context.ts';
import type { Value } from '../values.ts';
import { fmt, product } from '../values.ts';
import { channelGroups } from './shuffle.ts';

export const Flatten: Converter = (ctx) => {
  const x = ctx.requireInput(0, 'input');
  const rank = x.dims.length;
  const axis = ctx.axis(ctx.attrInt('axis', 1), rank, 'axis', true);
  const dims = [product(x.dims.slice(0, axis)), product(x.dims.slice(axis))];
  ctx.setOutput(reshapeValue(ctx, x, dims));
};

export const Reshape: Converter = (ctx) => {
  const x = ctx.requireInput(0, 'data');
  // Opset < 5 carries the shape as an attribute, later versions as input 1.
  const shape = ctx.opset < 5 ? legacyShape(ctx) : ctx.ints(ctx.constant(1, 'shape'), 'shape');
  const allowZero = ctx.opset >= 14 && ctx.attrInt('allowzero', 0) !== 0;
  const total = product(x.dims);
  let inferred = -1;
  const dims = shape.map((d, i) => {
    if (d === 0 && !allowZero) {
      if (i >= x.dims.length) throw ctx.invalid(`shape ${fmt(shape)}: 0 at axis ${i} has no input dim to copy (input ${fmt(x.dims)})`);
      return x.dims[i];
    }
    if (d === 0) throw ctx.unsupported(`shape ${fmt(shape)} with allowzero=1 makes an empty tensor`);
    if (d === -1) {
      if (inferred >= 0) throw ctx.invalid(`shape ${fmt(shape)} has more than one -1`);
      inferred = i;
      return 1;
    }
    if (!Number.isInteger(d) || d < -1) throw ctx.invalid(`shape ${fmt(shape)} has invalid dim ${d}`);
    return d;
  });
  if (inferred >= 0) {
    const known = product(dims);
    if (known === 0 || total % known !== 0) throw ctx.invalid(`cannot reshape ${fmt(x.dims)} to ${fmt(shape)}`);
    dims[inferred] = total / known;
  }
  if (product(dims) !== total) throw ctx.invalid(`cannot reshape ${fmt(x.dims)} (${total} values) to ${fmt(dims)}`);
  if (dims.length === 5 && x.kind === 'runtime') {
    ctx.setOutput(channelGroups(ctx, x, dims));
    return;
  }
  ctx.setOutput(reshapeValue(ctx, x, dims));
};

/** A value with new dims (same element count): constants keep their data, runtime tensors reshape. */
function reshapeValue(ctx: NodeContext, x: Value, dims: number[]): Value {
  if (x.kind === 'constant') return { kind: 'constant', dims, tensor: { ...x.tensor, dims } };
  return ctx.imp.reshapeTo(x, dims, ctx.name);
}

function legacyShape(ctx: NodeContext): number[] {
  const shape = ctx.attrInts('shape');
  if (!shape) throw ctx.invalid("attribute 'shape' is missing (opset < 5)");
  return shape;
}
