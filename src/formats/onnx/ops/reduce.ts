/**
 * ReduceMean and ReduceMax as pools. Over the spatial axes: global (or one-axis) pooling of the map itself.
 * Over the channel axis alone: one `reduceChannels` kernel (a pixel's channels per invocation). Over a run of
 * adjacent axes that includes the batch or channel axis: a pool over a reshaped view (a gather
 * in front of it on the GPU, and one behind where the result's channels differ). Axes of size 1 reduce to themselves and cost nothing.
 * Axes come as an attribute up to opset 17 and as the optional constant input 1 from opset 18 (both ops
 * kept their semantics otherwise since opset 1).
 */
import type { Converter, NodeContext } from '../context.ts';
import type { RuntimeValue } from '../values.ts';
import { fmt } from '../values.ts';

export const ReduceMean: Converter = reduceConverter('mean');
export const ReduceMax: Converter = reduceConverter('max');

function reduceConverter(kind: 'mean' | 'max'): Converter {
  return (ctx) => {
    const x = ctx.runtime(0, 'data');
    const rank = x.dims.length;
    const axes = reducedAxes(ctx, rank);
    if (axes === undefined) {
      ctx.setOutput(x); // noop_with_empty_axes with no axes: the identity
      return;
    }
    const keepDims = ctx.attrInt('keepdims', 1) !== 0;
    const dims = x.dims.flatMap((d, a) => (!axes.has(a) ? [d] : keepDims ? [1] : []));
    // Only axes longer than 1 need work; the others change the dims alone.
    const work = [...axes].filter((a) => x.dims[a] > 1).sort((p, q) => p - q);
    if (work.length === 0) {
      ctx.setOutput(ctx.imp.reshapeTo(x, dims, ctx.name));
      return;
    }
    const reduced =
      work.every((a) => a >= 2) ? pooled(ctx, x, kind, new Set(work))
      : work.length === 1 && work[0] === 1 && !x.channelsLast ? overChannels(ctx, x, kind)
      : pooledRun(ctx, x, kind, work);
    ctx.setOutput(ctx.imp.reshapeTo(reduced, dims, `${ctx.name}/reshape`));
  };
}

/**
 * Reduced axes that include the batch or channel axis and are contiguous (size-1 axes between them aside):
 * the tensor viewed as `[outer, 1, reduced, inner]` (same element order) and pooled down its H axis.
 */
function pooledRun(ctx: NodeContext, x: RuntimeValue, kind: 'mean' | 'max', work: readonly number[]): RuntimeValue {
  const first = work[0];
  const last = work[work.length - 1];
  for (let a = first; a <= last; a++) {
    if (!work.includes(a) && x.dims[a] > 1) {
      throw ctx.unsupported(`${ctx.opType} over the non-adjacent axes ${fmt(work)} of ${fmt(x.dims)} is not supported`);
    }
  }
  const size = (from: number, to: number): number => x.dims.slice(from, to).reduce((p, d) => p * d, 1);
  const outer = size(0, first);
  const run = size(first, last + 1);
  const inner = size(last + 1, x.dims.length);
  const view = ctx.imp.reshapeTo(x, [outer, 1, run, inner], `${ctx.name}/view`);
  const options = { kernel: [run, 1] as [number, number], stride: 1 };
  const id = kind === 'max' ? ctx.b.maxPool(view.id, options, ctx.name) : ctx.b.avgPool(view.id, options, ctx.name);
  return { kind: 'runtime', dims: [outer, 1, 1, inner], id };
}

/** Over the channel axis alone: one `reduceChannels` kernel, no reshaped view. */
function overChannels(ctx: NodeContext, x: RuntimeValue, kind: 'mean' | 'max'): RuntimeValue {
  return { kind: 'runtime', dims: x.dims.map((d, a) => (a === 1 ? 1 : d)), id: ctx.b.reduceChannels(x.id, kind, ctx.name) };
}

/** The set of normalised axes, or undefined for "reduce nothing" (opset 18's noop_with_empty_axes). */
function reducedAxes(ctx: NodeContext, rank: number): Set<number> | undefined {
  let listed: number[] | undefined;
  if (ctx.opset >= 18) {
    const input = ctx.optionalConstant(1, 'axes');
    listed = input ? ctx.ints(input, 'axes') : undefined;
  } else {
    listed = ctx.attrInts('axes');
  }
  if (!listed || listed.length === 0) {
    if (ctx.opset >= 18 && ctx.attrInt('noop_with_empty_axes', 0) !== 0) return undefined;
    listed = Array.from({ length: rank }, (_, i) => i);
  }
  const axes = new Set<number>();
  for (const a of listed) {
    const n = ctx.axis(a, rank, 'axes entry');
    if (axes.has(n)) throw ctx.invalid(`axes ${fmt(listed)} lists axis ${n} twice`);
    axes.add(n);
  }
  return axes;
}

/** A pool whose window spans the reduced spatial axes; its IR output keeps every axis (size 1 where reduced). */
function pooled(ctx: NodeContext, x: RuntimeValue, kind: 'mean' | 'max', axes: Set<number>): RuntimeValue {
  const [, , h, w] = ctx.b.shape(x.id);
  const kept = x.dims.map((d, a) => (axes.has(a) ? 1 : d));
  if (kind === 'mean' && axes.has(2) && (axes.has(3) || w === 1)) {
    return { kind: 'runtime', dims: kept, id: ctx.b.globalAvgPool(x.id, ctx.name) };
  }
  const kernel: [number, number] = [axes.has(2) ? h : 1, axes.has(3) ? w : 1];
  const options = { kernel, stride: 1 };
  const id = kind === 'max' ? ctx.b.maxPool(x.id, options, ctx.name) : ctx.b.avgPool(x.id, options, ctx.name);
  return { kind: 'runtime', dims: kept, id };
}
