/**
 * PRelu: `x` where `x >= 0`, else `slope * x`, the slope broadcasting to X (unidirectionally). One slope value
 * (or a constant slope whose values are all equal): the table's leaky-relu, which fuses into the producer's
 * epilogue. Any other slope, constant (per channel, or
 * any broadcastable shape) or computed: a `binary` prelu node.
 */
import { functionActivation } from '../../../graph/activations/index.ts';
import type { Converter, NodeContext } from '../context.ts';
import type { RuntimeValue, Value } from '../values.ts';
import { broadcastDims, fmt, irShapeOf, sameDims } from '../values.ts';
import { binaryOnViews } from './channels-last.ts';

export const PRelu: Converter = (ctx) => {
  const x = ctx.runtime(0, 'input X');
  const slope = ctx.requireInput(1, 'input slope');
  const out = broadcastDims(x.dims, slope.dims);
  if (!out || !sameDims(out, x.dims)) throw ctx.invalid(`slope ${fmt(slope.dims)} does not broadcast to X ${fmt(x.dims)}`);
  if (slope.kind === 'constant') {
    const values = ctx.floats(slope, 'input slope');
    if (values.every((v) => v === values[0])) {
      if (!Number.isFinite(values[0])) throw ctx.unsupported(`a non-finite slope ${values[0]} is not supported`);
      ctx.setOutput({ ...x, id: ctx.b.activation(x.id, functionActivation('leaky-relu', [values[0]]), ctx.name) });
      return;
    }
  }
  ctx.setOutput(binaryOnViews(ctx, x, slope, (a, b) => prelu(ctx, a as RuntimeValue, b)) ?? prelu(ctx, x, slope));
};

function prelu(ctx: NodeContext, x: RuntimeValue, slope: Value): RuntimeValue {
  const dims = [...new Array<number>(x.dims.length - slope.dims.length).fill(1), ...slope.dims];
  if (slope.kind === 'constant') {
    const k = { shape: irShapeOf(dims), values: ctx.floats(slope, 'input slope') };
    return { kind: 'runtime', dims: x.dims, id: ctx.b.binary('prelu', x.id, k, ctx.name) };
  }
  const s = ctx.imp.reshapeTo(slope, dims, `${ctx.name}/align_slope`);
  return { kind: 'runtime', dims: x.dims, id: ctx.b.binary('prelu', x.id, s.id, ctx.name) };
}
