/**
 * CONCATENATION, SPLIT, SPLIT_V and STRIDED_SLICE on the channel axis (the last axis of NHWC, `[n, c]` and the
 * other shapes `irShapeFromDims` maps): IR concat and sliceChannels nodes.
 */
import { ModelFormatError, UnsupportedOpError } from '../../../errors.ts';
import type { TensorId } from '../../../graph/ir.ts';
import type { OpSite, TfliteConverter, TfliteOpConverter } from '../converter.ts';
import { dimsToString } from '../dims.ts';
import type { Table } from '../reader.ts';
import type { TfliteOperator } from '../schema.ts';
import { FusedActivation } from '../schema.ts';

/** `axis` of a rank-`rank` tensor normalized, refused unless it is the channel (last) axis. */
function channelAxis(axis: number, dims: readonly number[], { where, opName }: OpSite): number {
  const rank = dims.length;
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw new ModelFormatError(`${where}: axis ${axis} is out of range for ${dimsToString(dims)}`);
  if (a !== rank - 1) {
    throw new UnsupportedOpError(`${where}: ${opName} along axis ${axis} of ${dimsToString(dims)} is not supported; webcnn handles the channel axis (the last) only`);
  }
  return a;
}

/** One channel slice per output, in order, bound to the op's outputs. */
function bindParts(tc: TfliteConverter, op: TfliteOperator, x: TensorId, sizes: readonly number[], site: OpSite): void {
  const channels = tc.b.shape(x)[1];
  if (sizes.length !== op.outputs.length) {
    throw new ModelFormatError(`${site.where}: ${sizes.length} parts for ${op.outputs.length} outputs`);
  }
  if (sizes.some((s) => !Number.isSafeInteger(s) || s < 1) || sizes.reduce((a, s) => a + s, 0) !== channels) {
    throw new ModelFormatError(`${site.where}: parts [${sizes.join(', ')}] do not split ${channels} channels`);
  }
  let start = 0;
  sizes.forEach((size, k) => {
    const part = size === channels ? x : tc.b.sliceChannels(x, start, size, `${site.name}:${k}`);
    tc.bindOutput(op, part, site.where, k);
    start += size;
  });
}

const scalarInt = (tc: TfliteConverter, idx: number, role: string, where: string): number => {
  const v = tc.intConstant(idx, role, where);
  if (v.length !== 1) throw new ModelFormatError(`${where}: the ${role} must hold one value, got ${v.length}`);
  return v[0];
};

export const concatenation: TfliteOpConverter = (tc, op, site) => {
  const options: Table | null = op.options;
  const axis = options?.int32(0, 'axis') ?? 0;
  const activation = tc.fusedActivation(options?.int8(1, 'fused_activation_function') ?? FusedActivation.NONE, site.where);
  const first = tc.tensor(op.inputs[0], site.where);
  channelAxis(axis, first.shape, site);
  const xs = op.inputs.map((idx) => tc.activation(idx, site.where));
  let y = xs.length === 1 ? xs[0] : tc.b.concat(xs, site.name);
  if (activation.kind !== 'none') y = tc.b.activation(y, activation, `${site.name}:act`);
  tc.bindOutput(op, y, site.where);
};

/** SPLIT: inputs `[axis, x]`, `num_splits` equal parts. */
export const split: TfliteOpConverter = (tc, op, site) => {
  if (op.inputs.length !== 2) throw new ModelFormatError(`${site.where}: SPLIT takes 2 inputs (axis, tensor), got ${op.inputs.length}`);
  const t = tc.tensor(op.inputs[1], site.where);
  channelAxis(scalarInt(tc, op.inputs[0], 'axis', site.where), t.shape, site);
  const x = tc.activation(op.inputs[1], site.where);
  const parts = op.options?.int32(0, 'num_splits') ?? op.outputs.length;
  const channels = tc.b.shape(x)[1];
  if (parts !== op.outputs.length || channels % parts !== 0) {
    throw new ModelFormatError(`${site.where}: ${channels} channels do not split into num_splits ${parts} equal parts for ${op.outputs.length} outputs`);
  }
  bindParts(tc, op, x, new Array<number>(parts).fill(channels / parts), site);
};

/** SPLIT_V: inputs `[x, size_splits, axis]`; one size may be -1 (the rest). */
export const splitV: TfliteOpConverter = (tc, op, site) => {
  if (op.inputs.length !== 3) throw new ModelFormatError(`${site.where}: SPLIT_V takes 3 inputs (tensor, size_splits, axis), got ${op.inputs.length}`);
  const t = tc.tensor(op.inputs[0], site.where);
  channelAxis(scalarInt(tc, op.inputs[2], 'axis', site.where), t.shape, site);
  const x = tc.activation(op.inputs[0], site.where);
  const sizes = tc.intConstant(op.inputs[1], 'size_splits', site.where);
  const unknown = sizes.filter((s) => s === -1).length;
  if (unknown > 1) throw new ModelFormatError(`${site.where}: size_splits [${sizes.join(', ')}] has more than one -1`);
  if (unknown === 1) {
    const known = sizes.reduce((a, s) => (s === -1 ? a : a + s), 0);
    sizes[sizes.indexOf(-1)] = tc.b.shape(x)[1] - known;
  }
  bindParts(tc, op, x, sizes, site);
};

/** STRIDED_SLICE with stride 1, a range of the channel axis only (the other axes whole). */
export const stridedSlice: TfliteOpConverter = (tc, op, site) => {
  const { where } = site;
  if (op.inputs.length !== 4) throw new ModelFormatError(`${where}: STRIDED_SLICE takes 4 inputs (tensor, begin, end, strides), got ${op.inputs.length}`);
  const o = op.options;
  const beginMask = o?.int32(0, 'begin_mask') ?? 0;
  const endMask = o?.int32(1, 'end_mask') ?? 0;
  const ellipsis = o?.int32(2, 'ellipsis_mask') ?? 0;
  const newAxis = o?.int32(3, 'new_axis_mask') ?? 0;
  const shrink = o?.int32(4, 'shrink_axis_mask') ?? 0;
  const offset = o?.bool(5, 'offset') ?? false;
  if (ellipsis || newAxis || shrink) {
    throw new UnsupportedOpError(`${where}: STRIDED_SLICE with ellipsis, new-axis or shrink-axis masks (${ellipsis}, ${newAxis}, ${shrink}) is not supported`);
  }
  const dims = tc.tensor(op.inputs[0], where).shape;
  const x = tc.activation(op.inputs[0], where);
  const begin = tc.intConstant(op.inputs[1], 'begin', where);
  const end = tc.intConstant(op.inputs[2], 'end', where);
  const strides = tc.intConstant(op.inputs[3], 'strides', where);
  const rank = dims.length;
  if (begin.length !== rank || end.length !== rank || strides.length !== rank) {
    throw new ModelFormatError(`${where}: begin, end and strides must have ${rank} values for ${dimsToString(dims)}`);
  }
  let range: [number, number] = [0, dims[rank - 1]];
  for (let a = 0; a < rank; a++) {
    const dim = dims[a];
    const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + dim : v, 0), dim);
    const b = beginMask & (1 << a) ? 0 : clamp(begin[a]);
    const e = endMask & (1 << a) ? dim : clamp(offset ? begin[a] + end[a] : end[a]);
    if (strides[a] === 1 && b === 0 && e === dim) continue;
    if (a !== rank - 1 || strides[a] !== 1) {
      throw new UnsupportedOpError(
        `${where}: STRIDED_SLICE of axis ${a} of ${dimsToString(dims)} from ${begin[a]} to ${end[a]} stride ${strides[a]} is not supported; webcnn slices a channel range (the last axis, stride 1) only`,
      );
    }
    if (e <= b) throw new UnsupportedOpError(`${where}: the slice of the channel axis is empty`);
    range = [b, e];
  }
  const whole = range[0] === 0 && range[1] === dims[rank - 1];
  tc.bindOutput(op, whole ? x : tc.b.sliceChannels(x, range[0], range[1] - range[0], site.name), where);
};
