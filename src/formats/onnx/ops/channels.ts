/** Concat, Split and Slice on the channel axis (ONNX axis 1 of ranks 2 to 4; axis 0 of a rank-1 value). */
import type { Converter, NodeContext } from '../context.ts';
import type { RuntimeValue } from '../values.ts';
import { fmt, irAxis } from '../values.ts';
import { allInputsConstant, foldConcat, foldSlice, sliceArguments } from './shape.ts';

/** The normalized axis, refused unless it is the channel axis of `x`. */
function channelAxis(ctx: NodeContext, x: RuntimeValue, axis: number): number {
  const rank = x.dims.length;
  if (rank === 0) throw ctx.invalid('input is a scalar');
  const a = ctx.axis(axis, rank, 'axis');
  if (irAxis(rank, a) !== 1) {
    throw ctx.unsupported(`${ctx.opType} along axis ${axis} of ${fmt(x.dims)} is not supported; webcnn ${ctx.opType === 'Concat' ? 'concatenates' : 'splits'} along the channel axis (1) only`);
  }
  return a;
}

const withAxis = (dims: readonly number[], axis: number, size: number): number[] => dims.map((d, i) => (i === axis ? size : d));

export const Concat: Converter = (ctx) => {
  const count = ctx.node.input.length;
  if (count === 0) throw ctx.invalid('has no inputs');
  if (allInputsConstant(ctx)) return foldConcat(ctx);
  const xs = Array.from({ length: count }, (_, k) => ctx.runtime(k, `input ${k}`));
  if (!ctx.hasAttr('axis')) throw ctx.invalid("attribute 'axis' is missing");
  const axis = channelAxis(ctx, xs[0], ctx.attrInt('axis', 1));
  for (const [k, x] of xs.entries()) {
    if (x.dims.length !== xs[0].dims.length || x.dims.some((d, i) => i !== axis && d !== xs[0].dims[i])) {
      throw ctx.invalid(`input ${k} ${fmt(x.dims)} does not match input 0 ${fmt(xs[0].dims)} outside axis ${axis}`);
    }
  }
  if (count === 1) {
    ctx.setOutput(xs[0]);
    return;
  }
  const channels = xs.reduce((sum, x) => sum + x.dims[axis], 0);
  ctx.runtimeOut(ctx.b.concat(xs.map((x) => x.id), ctx.name), withAxis(xs[0].dims, axis, channels));
};

export const Split: Converter = (ctx) => {
  const x = ctx.runtime(0, 'input');
  const axis = channelAxis(ctx, x, ctx.attrInt('axis', 0));
  const channels = x.dims[axis];
  const outputs = ctx.node.output.length;
  if (outputs === 0) throw ctx.invalid('has no outputs');
  let sizes: number[];
  const given = ctx.opset < 13 ? ctx.attrInts('split') : ctx.optionalConstant(1, 'split') && ctx.ints(ctx.constant(1, 'split'), 'split');
  if (given) {
    sizes = given;
  } else if (ctx.opset >= 18 && ctx.hasAttr('num_outputs')) {
    // Opset 18: equal parts of ceil(channels / num_outputs), the last one smaller.
    const parts = ctx.attrInt('num_outputs', outputs);
    if (parts !== outputs) throw ctx.invalid(`num_outputs ${parts} differs from the ${outputs} outputs`);
    const chunk = Math.ceil(channels / parts);
    sizes = Array.from({ length: parts }, (_, i) => Math.max(0, Math.min(chunk, channels - i * chunk)));
  } else {
    if (channels % outputs !== 0) throw ctx.invalid(`${channels} channels do not split into ${outputs} equal parts`);
    sizes = new Array<number>(outputs).fill(channels / outputs);
  }
  if (sizes.length !== outputs) throw ctx.invalid(`split ${fmt(sizes)} has ${sizes.length} parts for ${outputs} outputs`);
  if (!sizes.every((s) => Number.isSafeInteger(s) && s >= 0) || sizes.reduce((a, s) => a + s, 0) !== channels) {
    throw ctx.invalid(`split ${fmt(sizes)} does not add up to the ${channels} channels of ${fmt(x.dims)}`);
  }
  let start = 0;
  sizes.forEach((size, k) => {
    if (size === 0) throw ctx.unsupported(`output ${k} would be empty (split ${fmt(sizes)}); webcnn tensors have at least one element`);
    const part = size === channels ? x : { kind: 'runtime' as const, dims: withAxis(x.dims, axis, size), id: ctx.b.sliceChannels(x.id, start, size, `${ctx.name}:${k}`) };
    ctx.setOutput(part, k);
    start += size;
  });
};

export const Slice: Converter = (ctx) => {
  const data = ctx.requireInput(0, 'data');
  if (data.kind === 'constant') return foldSlice(ctx, data);
  const x = ctx.runtime(0, 'data');
  const rank = x.dims.length;
  const { starts, ends, axes: axisList, steps } = sliceArguments(ctx, (a) => ctx.axis(a, rank, 'axes entry'));
  const dims = [...x.dims];
  let channelRange: [number, number] | null = null;
  axisList.forEach((axis, i) => {
    const step = steps[i];
    if (step === 0) throw ctx.invalid('a step is 0');
    const dim = x.dims[axis];
    // ONNX clamps: negative indices count from the end, then starts to [0, dim], ends to [0, dim].
    const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + dim : v, 0), dim);
    const [begin, end] = [clamp(starts[i]), clamp(ends[i])];
    if (step === 1 && begin === 0 && end === dim) return;
    if (irAxis(rank, axis) !== 1 || step !== 1) {
      throw ctx.unsupported(`slicing axis ${axis} of ${fmt(x.dims)} from ${starts[i]} to ${ends[i]} step ${step} is not supported; webcnn slices a channel range (axis 1, step 1) only`);
    }
    if (end <= begin) throw ctx.unsupported(`the slice of axis ${axis} is empty; webcnn tensors have at least one element`);
    channelRange = [begin, end];
    dims[axis] = end - begin;
  });
  const range = channelRange as [number, number] | null;
  if (!range) {
    ctx.setOutput(x);
    return;
  }
  ctx.runtimeOut(ctx.b.sliceChannels(x.id, range[0], range[1] - range[0], ctx.name), dims);
};
