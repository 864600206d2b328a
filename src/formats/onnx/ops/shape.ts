/**
 * Shape and the integer ops exporters chain after it (Gather, Unsqueeze, Squeeze, Cast, ConstantOfShape, Range;
 * Concat and Slice of constants are in `channels.ts`, which calls `foldConcat` / `foldSlice` here). Shapes are
 * static in webcnn, so `Shape` of any value is a constant and these ops fold at load time (`../const-fold.ts`).
 * Each converter dispatches on its inputs: all constant -> fold; a computed tensor -> `onRuntime`, which for
 * refuses with a one-line error, except Gather / Unsqueeze / Squeeze, whose computed forms are in `gather.ts`.
 */
import type { Converter, NodeContext } from '../context.ts';
import type { Fail, FoldEnv } from '../const-fold.ts';
import {
  castable,
  castTensor,
  concatTensors,
  constantOfShape,
  gatherTensor,
  normalizeAxis,
  rangeTensor,
  shapeTensor,
  sliceTensor,
  squeezeDims,
  unsqueezeDims,
} from '../const-fold.ts';
import { DataType } from '../proto.ts';
import type { ConstantTensor } from '../tensor.ts';
import { dataTypeName } from '../tensor.ts';
import type { ConstantValue, Value } from '../values.ts';
import { fmt } from '../values.ts';
import { gatherRuntime, reshapeRuntime } from './gather.ts';

const failFor = (ctx: NodeContext): Fail => (message) => ctx.invalid(message);

/** Folds report errors with the node and charge their outputs (8 bytes a value) to the load budget. */
const envFor = (ctx: NodeContext): FoldEnv => ({
  fail: failFor(ctx),
  reserve: (count) => ctx.imp.budget.charge(count * 8, `${ctx.where}: folded constant`),
});

/** Binds output 0 to a folded constant (already charged by the fold). */
function setConstant(ctx: NodeContext, tensor: ConstantTensor): void {
  ctx.setOutput({ kind: 'constant', dims: tensor.dims, tensor });
}

/** The node's present inputs, or null when one of them is computed at run time. */
function constantInputs(ctx: NodeContext): ConstantValue[] | null {
  const out: ConstantValue[] = [];
  for (let k = 0; k < ctx.node.input.length; k++) {
    const v = ctx.input(k);
    if (!v) continue;
    if (v.kind !== 'constant') return null;
    out.push(v);
  }
  return out;
}

/** Whether every present input of the node is a constant (the fold applies). */
export function allInputsConstant(ctx: NodeContext): boolean {
  return constantInputs(ctx) !== null;
}

/** The refusal for a computed input where only constants fold. */
function onRuntime(ctx: NodeContext, what: string, x: Value): never {
  throw ctx.unsupported(`${ctx.opType} of a computed tensor (${what} ${fmt(x.dims)}) is not supported; webcnn folds ${ctx.opType} of constants only`);
}

export const Shape: Converter = (ctx) => {
  const x = ctx.requireInput(0, 'data');
  const start = ctx.opset >= 15 ? ctx.attrInt('start', 0) : 0;
  const end = ctx.opset >= 15 ? ctx.attrInt('end', x.dims.length) : x.dims.length;
  setConstant(ctx, shapeTensor(x.dims, start, end));
};

export const Gather: Converter = (ctx) => {
  const data = ctx.requireInput(0, 'data');
  const indices = ctx.requireInput(1, 'indices');
  if (indices.kind !== 'constant') onRuntime(ctx, 'indices', indices);
  if (data.kind !== 'constant') return gatherRuntime(ctx, data);
  setConstant(ctx, gatherTensor(data.tensor, indices.tensor, ctx.attrInt('axis', 0), envFor(ctx)));
};

/** Unsqueeze / Squeeze axes: an attribute before opset 13, input 1 from then on. */
function axesOf(ctx: NodeContext): number[] | undefined {
  if (ctx.opset < 13) return ctx.attrInts('axes');
  const a = ctx.optionalConstant(1, 'axes');
  return a && ctx.ints(a, 'axes');
}

export const Unsqueeze: Converter = (ctx) => {
  const x = ctx.requireInput(0, 'data');
  const axes = axesOf(ctx);
  if (!axes) throw ctx.invalid('axes are missing');
  const dims = unsqueezeDims(x.dims, axes, failFor(ctx));
  if (x.kind !== 'constant') return reshapeRuntime(ctx, x, dims);
  ctx.setOutput({ kind: 'constant', dims, tensor: { ...x.tensor, dims } });
};

export const Squeeze: Converter = (ctx) => {
  const x = ctx.requireInput(0, 'data');
  const dims = squeezeDims(x.dims, axesOf(ctx), failFor(ctx));
  if (x.kind !== 'constant') return reshapeRuntime(ctx, x, dims);
  ctx.setOutput({ kind: 'constant', dims, tensor: { ...x.tensor, dims } });
};

/**
 * Cast: constants convert (integers wrap to their width, floats truncate toward zero). A computed tensor is
 * float32 in webcnn, so a cast of one to FLOAT is the identity; other targets are refused.
 */
export const Cast: Converter = (ctx) => {
  const x = ctx.requireInput(0, 'input');
  if (!ctx.hasAttr('to')) throw ctx.invalid("attribute 'to' is missing");
  const to = ctx.attrInt('to', DataType.FLOAT);
  if (x.kind !== 'constant') {
    if (to === DataType.FLOAT) return ctx.setOutput(x);
    throw ctx.unsupported(`Cast of a computed tensor to ${dataTypeName(to)} is not supported (webcnn computes float32)`);
  }
  if (!castable(to)) throw ctx.unsupported(`Cast to ${dataTypeName(to)} is not supported`);
  setConstant(ctx, castTensor(x.tensor, to, envFor(ctx)));
};

export const ConstantOfShape: Converter = (ctx) => {
  const shape = ctx.ints(ctx.constant(0, 'shape'), 'shape');
  setConstant(ctx, constantOfShape(shape, ctx.attrTensor('value'), envFor(ctx)));
};

export const Range: Converter = (ctx) => {
  const inputs = constantInputs(ctx);
  if (!inputs || inputs.length !== 3) throw ctx.unsupported('Range needs constant start, limit and delta');
  const [start, limit, delta] = inputs.map((c, i) => ctx.scalar(c, ['start', 'limit', 'delta'][i]));
  setConstant(ctx, rangeTensor(start, limit, delta, inputs[0].tensor.dataType, envFor(ctx)));
};

/** Concat of constants along any axis (called by `channels.ts` when every input is constant). */
export function foldConcat(ctx: NodeContext): void {
  if (!ctx.hasAttr('axis')) throw ctx.invalid("attribute 'axis' is missing");
  const parts = (constantInputs(ctx) ?? []).map((c) => c.tensor);
  setConstant(ctx, concatTensors(parts, ctx.attrInt('axis', 0), envFor(ctx)));
}

/** Slice of a constant along any axes and steps (called by `channels.ts` when the data is constant). */
/** Slice's starts, ends, axes (normalised by `axisOf`) and steps, from attributes (opset < 10) or constant inputs. */
export function sliceArguments(
  ctx: NodeContext,
  axisOf: (axis: number) => number,
): { starts: number[]; ends: number[]; axes: number[]; steps: number[] } {
  let starts: number[];
  let ends: number[];
  let axes: number[] | undefined;
  let steps: number[] | undefined;
  if (ctx.opset < 10) {
    const s = ctx.attrInts('starts');
    const e = ctx.attrInts('ends');
    if (!s || !e) throw ctx.invalid("attributes 'starts' and 'ends' are required");
    [starts, ends, axes] = [s, e, ctx.attrInts('axes')];
  } else {
    starts = ctx.ints(ctx.constant(1, 'starts'), 'starts');
    ends = ctx.ints(ctx.constant(2, 'ends'), 'ends');
    const a = ctx.optionalConstant(3, 'axes');
    const st = ctx.optionalConstant(4, 'steps');
    axes = a && ctx.ints(a, 'axes');
    steps = st && ctx.ints(st, 'steps');
  }
  const axisList = (axes ?? starts.map((_, i) => i)).map(axisOf);
  if (starts.length !== axisList.length || ends.length !== axisList.length || (steps && steps.length !== axisList.length)) {
    throw ctx.invalid(`starts ${fmt(starts)}, ends ${fmt(ends)}, axes and steps must have the same length`);
  }
  if (new Set(axisList).size !== axisList.length) throw ctx.invalid(`axes ${fmt(axisList)} repeat an axis`);
  return { starts, ends, axes: axisList, steps: steps ?? axisList.map(() => 1) };
}

/** Slice of a constant along any axes and steps (called by `channels.ts` when the data is constant). */
export function foldSlice(ctx: NodeContext, data: ConstantValue): void {
  const fail = failFor(ctx);
  const rank = data.dims.length;
  const { starts, ends, axes, steps } = sliceArguments(ctx, (a) => normalizeAxis(a, rank, 'axes entry', fail));
  // int64 extremes (INT64_MAX as "to the end") arrive as large doubles; clamping handles them.
  setConstant(ctx, sliceTensor(data.tensor, starts, ends, axes, steps, envFor(ctx)));
}

