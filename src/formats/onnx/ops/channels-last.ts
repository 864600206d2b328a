/**
 * Channels-last views. ConvNeXt permutes its NCHW maps to NHWC (`Transpose [0, 2, 3, 1]`), runs LayerNorm,
 * Linear layers, GELU and the like on the last axis, and permutes back (`Transpose [0, 3, 1, 2]`). In webcnn's IR
 * those are ops on the NCHW tensor itself: a LayerNorm over the last axis is a layer norm over channels, a MatMul
 * by a constant `[C, K]` a 1x1 convolution, a `[C]` constant a per-channel operand, and both Transposes cost
 * nothing. So Transpose `[0, 2, 3, 1]` yields a view (`RuntimeValue.channelsLast`: ONNX dims `[n, h, w, c]` of IR
 * tensor `[n, c, h, w]`), the converters listed in `CHANNELS_LAST_OPS` read views, and any other op meeting one is
 * refused with a typed error (no silent wrong layout).
 */
import { ACTIVATION_FUNCTIONS } from '../../../graph/activations/index.ts';
import type { NodeContext } from '../context.ts';
import { DataType } from '../proto.ts';
import type { ConstantValue, RuntimeValue, Value } from '../values.ts';
import { fmt } from '../values.ts';

/** Op types whose converters read channels-last views (elementwise functions keep them as they are). */
export const CHANNELS_LAST_OPS: ReadonlySet<string> = new Set([
  'Transpose',
  'LayerNormalization',
  'MatMul',
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Identity',
  'Dropout',
  'Gelu',
  ...[...ACTIVATION_FUNCTIONS.values()].map((e) => e.onnxOp),
]);

export const TO_CHANNELS_LAST = [0, 2, 3, 1] as const;
export const TO_CHANNELS_FIRST = [0, 3, 1, 2] as const;

/** Refuses a node that reads a channels-last view but does not know views. */
export function checkNoChannelsLastInputs(ctx: NodeContext): void {
  if (CHANNELS_LAST_OPS.has(ctx.opType)) return;
  ctx.node.input.forEach((name, k) => {
    const v = name ? ctx.imp.values.get(name) : undefined;
    if (v?.kind === 'runtime' && v.channelsLast) {
      throw ctx.unsupported(`input ${k} '${name}' is a channels-last view (after Transpose [0, 2, 3, 1]), which ${ctx.opType} does not read; webcnn reads such views in ${[...CHANNELS_LAST_OPS].slice(0, 10).join(', ')} and table activations`);
    }
  });
}

/** The NCHW value a channels-last view shows (same tensor). */
export function nchwOf(v: RuntimeValue): RuntimeValue {
  const [n, h, w, c] = v.dims;
  return { kind: 'runtime', dims: [n, c, h, w], id: v.id };
}

/** The channels-last view of a rank-4 NCHW value (same tensor). */
export function channelsLastOf(v: RuntimeValue): RuntimeValue {
  const [n, c, h, w] = v.dims;
  return { kind: 'runtime', dims: [n, h, w, c], id: v.id, channelsLast: true };
}

/**
 * A constant operand of an op on a channels-last view, moved into NCHW order: its dims right-aligned to rank 4
 * (`[a, b, c, d]`, ONNX's broadcast), then permuted to `[a, d, b, c]` with its values.
 */
export function constantToNchw(ctx: NodeContext, k: ConstantValue): ConstantValue {
  if (k.dims.length > 4) throw ctx.unsupported(`a constant of rank ${k.dims.length} ${fmt(k.dims)} with a channels-last view is not supported`);
  const [a, b, c, d] = [...new Array<number>(4 - k.dims.length).fill(1), ...k.dims];
  const src = ctx.floats(k, 'constant operand');
  const out = ctx.imp.budget.floats(src.length, `${ctx.where}: constant operand`);
  for (let i0 = 0; i0 < a; i0++)
    for (let i1 = 0; i1 < b; i1++)
      for (let i2 = 0; i2 < c; i2++)
        for (let i3 = 0; i3 < d; i3++) out[((i0 * d + i3) * b + i1) * c + i2] = src[((i0 * b + i1) * c + i2) * d + i3];
  const dims = [a, d, b, c];
  return { kind: 'constant', dims, tensor: { dims, dataType: DataType.FLOAT, floats: out } };
}

/**
 * A binary op with a channels-last view among its operands, run on the NCHW tensors: `run` gets the operands in
 * NCHW order and returns the NCHW result, which comes back as a view. Returns null when no operand is a view.
 */
export function binaryOnViews(ctx: NodeContext, a: Value, b: Value, run: (a: Value, b: Value) => Value): Value | null {
  const view = (v: Value): boolean => v.kind === 'runtime' && Boolean(v.channelsLast);
  if (!view(a) && !view(b)) return null;
  const other = view(a) ? b : a;
  const self = (view(a) ? a : b) as RuntimeValue;
  if (other.kind === 'runtime' && !view(other)) {
    if (other.dims.length > 0 && !(other.dims.length === 1 && other.dims[0] === 1)) {
      throw ctx.unsupported(`mixing a channels-last view ${fmt(self.dims)} with an NCHW tensor ${fmt(other.dims)} is not supported`);
    }
  }
  const move = (v: Value): Value => (v.kind === 'constant' ? constantToNchw(ctx, v) : v.channelsLast ? nchwOf(v) : v);
  const out = run(move(a), move(b));
  if (out.kind !== 'runtime' || out.dims.length !== 4) throw ctx.unsupported(`the result of a channels-last ${ctx.opType} must be a rank-4 tensor`);
  return channelsLastOf(out);
}
