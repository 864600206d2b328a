/**
 * Load-time folding of constant tensors: the shape arithmetic that exporters emit (`Shape` -> `Gather` /
 * `Slice` -> `Unsqueeze` -> `Concat` / `Cast` -> `Resize` sizes or `Reshape` shape). webcnn's graphs have static
 * shapes, so these subgraphs evaluate once, here, to constants. Pure functions of ONNX semantics on
 * `ConstantTensor`s (any rank); the converters in `ops/shape.ts` call them and report errors with the node.
 */
import { floatToHalf, halfToFloat } from '../half.ts';
import { checkedElementCount } from '../limits.ts';
import { DataType } from './proto.ts';
import type { ConstantTensor } from './tensor.ts';
import { elementCountOf, isFloatType } from './tensor.ts';

/** How a fold reports a bad operand (the converter turns it into a typed error naming the node). */
export type Fail = (message: string) => Error;

/**
 * What a fold needs from its caller: `fail` for bad operands, and `reserve`, called with an output's element
 * count before it is allocated (the load budget: a tiny file must not fold into a huge constant).
 */
export interface FoldEnv {
  readonly fail: Fail;
  readonly reserve: (count: number) => void;
}

/** The element count of `dims`, checked and reserved. */
function allocate(dims: readonly number[], what: string, env: FoldEnv): number {
  const count = checkedElementCount(dims, what);
  env.reserve(count);
  return count;
}

/** The values of `t` as plain numbers, whatever its storage. */
export function valuesOf(t: ConstantTensor): ArrayLike<number> {
  return t.floats ?? t.ints ?? [];
}

/** A tensor of `dataType` holding `values` (floats for floating-point types, ints otherwise). */
export function makeConstant(dims: readonly number[], dataType: number, values: ArrayLike<number>): ConstantTensor {
  return isFloatType(dataType)
    ? { dims: [...dims], dataType, floats: Float32Array.from(values) }
    : { dims: [...dims], dataType, ints: Array.from(values) };
}

/** The int64 vector of `dims[start:end]` (ONNX Shape; opset 15's start/end clamp like Python slices). */
export function shapeTensor(dims: readonly number[], start = 0, end = dims.length): ConstantTensor {
  const rank = dims.length;
  const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + rank : v, 0), rank);
  const picked = dims.slice(clamp(start), Math.max(clamp(start), clamp(end)));
  return { dims: [picked.length], dataType: DataType.INT64, ints: picked };
}

/** Row-major strides of `dims`. */
function strides(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length);
  let acc = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= dims[i];
  }
  return s;
}

/** Normalizes `axis` into [0, rank). */
export function normalizeAxis(axis: number, rank: number, what: string, fail: Fail): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw fail(`${what} ${axis} is out of range for rank ${rank}`);
  return a;
}

/** ONNX Gather: `data` indexed along `axis` by `indices` (negative indices count from the end). */
export function gatherTensor(data: ConstantTensor, indices: ConstantTensor, axis: number, env: FoldEnv): ConstantTensor {
  const fail = env.fail;
  const rank = data.dims.length;
  if (rank === 0) throw fail('data is a scalar; Gather needs rank 1 or more');
  const a = normalizeAxis(axis, rank, 'axis', fail);
  if (!indices.ints) throw fail('indices must be an integer tensor');
  const dim = data.dims[a];
  const idx = indices.ints.map((i) => {
    const j = i < 0 ? i + dim : i;
    if (!Number.isInteger(j) || j < 0 || j >= dim) throw fail(`index ${i} is out of range for axis ${a} of size ${dim}`);
    return j;
  });
  const outer = elementCountOf(data.dims.slice(0, a));
  const inner = elementCountOf(data.dims.slice(a + 1));
  const dims = [...data.dims.slice(0, a), ...indices.dims, ...data.dims.slice(a + 1)];
  const src = valuesOf(data);
  const out = new Array<number>(allocate(dims, 'Gather output', env));
  let o = 0;
  for (let i = 0; i < outer; i++) {
    for (const j of idx) {
      const base = (i * dim + j) * inner;
      for (let k = 0; k < inner; k++) out[o++] = src[base + k];
    }
  }
  return makeConstant(dims, data.dataType, out);
}

/** One axis of a slice after ONNX's clamping: first index, step and element count. */
export interface SliceAxis {
  readonly start: number;
  readonly step: number;
  readonly count: number;
}

/**
 * ONNX Slice's index arithmetic for one axis of size `dim`: negative starts / ends count from the end, then
 * starts clamp to [0, dim] ([0, dim - 1] for negative steps) and ends to [0, dim] ([-1, dim - 1]).
 */
export function sliceAxis(dim: number, start: number, end: number, step: number, fail: Fail): SliceAxis {
  if (step === 0 || !Number.isInteger(step)) throw fail(`step ${step} is not a non-zero integer`);
  const s0 = start < 0 ? start + dim : start;
  const e0 = end < 0 ? end + dim : end;
  const [s, e] = step > 0 ? [Math.min(Math.max(s0, 0), dim), Math.min(Math.max(e0, 0), dim)] : [Math.min(Math.max(s0, 0), dim - 1), Math.min(Math.max(e0, -1), dim - 1)];
  const count = Math.max(0, Math.ceil((e - s) / step));
  return { start: s, step, count };
}

/** ONNX Slice on a constant: `starts`, `ends`, `steps` per entry of `axes` (already normalized, distinct). */
export function sliceTensor(
  data: ConstantTensor,
  starts: readonly number[],
  ends: readonly number[],
  axes: readonly number[],
  steps: readonly number[],
  env: FoldEnv,
): ConstantTensor {
  const ranges: SliceAxis[] = data.dims.map((d) => ({ start: 0, step: 1, count: d }));
  axes.forEach((axis, i) => {
    ranges[axis] = sliceAxis(data.dims[axis], starts[i], ends[i], steps[i], env.fail);
  });
  const dims = ranges.map((r) => r.count);
  const count = allocate(dims, 'Slice output', env);
  const inStrides = strides(data.dims);
  const src = valuesOf(data);
  const out = new Array<number>(count);
  const coord = new Array<number>(dims.length).fill(0);
  for (let o = 0; o < count; o++) {
    let at = 0;
    for (let d = 0; d < dims.length; d++) at += (ranges[d].start + coord[d] * ranges[d].step) * inStrides[d];
    out[o] = src[at];
    for (let d = dims.length - 1; d >= 0; d--) {
      if (++coord[d] < dims[d]) break;
      coord[d] = 0;
    }
  }
  return makeConstant(dims, data.dataType, out);
}

/** ONNX Concat of constants along `axis` (all inputs of one rank, equal outside the axis). */
export function concatTensors(parts: readonly ConstantTensor[], axis: number, env: FoldEnv): ConstantTensor {
  const fail = env.fail;
  if (parts.length === 0) throw fail('has no inputs');
  const first = parts[0];
  const rank = first.dims.length;
  if (rank === 0) throw fail('inputs are scalars; Concat needs rank 1 or more');
  const a = normalizeAxis(axis, rank, 'axis', fail);
  for (const [k, p] of parts.entries()) {
    if (p.dims.length !== rank || p.dims.some((d, i) => i !== a && d !== first.dims[i])) {
      throw fail(`input ${k} [${p.dims.join(', ')}] does not match input 0 [${first.dims.join(', ')}] outside axis ${a}`);
    }
  }
  const dims = first.dims.map((d, i) => (i === a ? parts.reduce((sum, p) => sum + p.dims[a], 0) : d));
  const outer = elementCountOf(first.dims.slice(0, a));
  const out = new Array<number>(allocate(dims, 'Concat output', env));
  let o = 0;
  for (let i = 0; i < outer; i++) {
    for (const p of parts) {
      const block = elementCountOf(p.dims.slice(a));
      const src = valuesOf(p);
      for (let k = 0; k < block; k++) out[o++] = src[i * block + k];
    }
  }
  const floating = parts.some((p) => p.floats);
  return makeConstant(dims, floating && !isFloatType(first.dataType) ? DataType.FLOAT : first.dataType, out);
}

/** Dims after ONNX Unsqueeze: 1s inserted at `axes` (relative to the output rank, negative allowed). */
export function unsqueezeDims(dims: readonly number[], axes: readonly number[], fail: Fail): number[] {
  const rank = dims.length + axes.length;
  const at = axes.map((a) => normalizeAxis(a, rank, 'axes entry', fail));
  if (new Set(at).size !== at.length) throw fail(`axes [${axes.join(', ')}] repeat an axis`);
  const out: number[] = [];
  let next = 0;
  for (let i = 0; i < rank; i++) out.push(at.includes(i) ? 1 : dims[next++]);
  return out;
}

/** Dims after ONNX Squeeze: the size-1 axes in `axes` removed (every size-1 axis when `axes` is absent). */
export function squeezeDims(dims: readonly number[], axes: readonly number[] | undefined, fail: Fail): number[] {
  if (!axes) return dims.filter((d) => d !== 1);
  const at = axes.map((a) => normalizeAxis(a, dims.length, 'axes entry', fail));
  for (const a of at) if (dims[a] !== 1) throw fail(`axis ${a} has size ${dims[a]}, not 1, and cannot be squeezed`);
  return dims.filter((_, i) => !at.includes(i));
}

/** Bit widths of the integer types a cast wraps into (two's complement for the signed ones). */
const INT_WIDTHS: Readonly<Record<number, { bits: number; signed: boolean }>> = {
  [DataType.INT8]: { bits: 8, signed: true },
  [DataType.UINT8]: { bits: 8, signed: false },
  [DataType.INT16]: { bits: 16, signed: true },
  [DataType.UINT16]: { bits: 16, signed: false },
  [DataType.INT32]: { bits: 32, signed: true },
  [DataType.UINT32]: { bits: 32, signed: false },
};

const CASTABLE: ReadonlySet<number> = new Set([
  DataType.FLOAT, DataType.DOUBLE, DataType.FLOAT16, DataType.BFLOAT16, DataType.INT64, DataType.UINT64, DataType.BOOL,
  ...Object.keys(INT_WIDTHS).map(Number),
]);

/** Whether `castTensor` converts to data type `to`. */
export function castable(to: number): boolean {
  return CASTABLE.has(to);
}

/** One value converted to type `to` as ONNX Cast does (floats to integers truncate toward zero). */
function castValue(v: number, to: number): number {
  switch (to) {
    case DataType.FLOAT:
    case DataType.DOUBLE:
      return Math.fround(v);
    case DataType.FLOAT16:
      return halfToFloat(floatToHalf(v));
    case DataType.BFLOAT16:
      // Truncation, as ONNX's own Cast node tests (onnx 1.12) compute it.
      return new Float32Array(new Uint32Array([new Uint32Array(new Float32Array([v]).buffer)[0] & 0xffff0000]).buffer)[0];
    case DataType.BOOL:
      return v !== 0 ? 1 : 0;
  }
  const t = Number.isFinite(v) ? Math.trunc(v) : 0;
  const w = INT_WIDTHS[to];
  if (!w) return t;
  const span = 2 ** w.bits;
  const u = ((t % span) + span) % span;
  return w.signed && u >= span / 2 ? u - span : u;
}

/** ONNX Cast of a constant to data type `to` (see `castable`). */
export function castTensor(t: ConstantTensor, to: number, env: FoldEnv): ConstantTensor {
  if (!castable(to)) throw env.fail(`cast to data type ${to} is not supported`);
  const src = valuesOf(t);
  env.reserve(src.length);
  const out = new Array<number>(src.length);
  for (let i = 0; i < src.length; i++) out[i] = castValue(src[i], to);
  return makeConstant(t.dims, to, out);
}

/** ONNX ConstantOfShape: a tensor of `shape` filled with the one value of `value` (float 0 by default). */
export function constantOfShape(shape: readonly number[], value: ConstantTensor | undefined, env: FoldEnv): ConstantTensor {
  const fail = env.fail;
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw fail(`shape [${shape.join(', ')}] has a negative or non-integer dim`);
  const fill = value ? valuesOf(value) : [0];
  if (fill.length !== 1) throw fail(`value must hold one element, got ${fill.length}`);
  const count = allocate(shape, 'ConstantOfShape output', env);
  return makeConstant(shape, value?.dataType ?? DataType.FLOAT, new Array<number>(count).fill(fill[0]));
}

/** ONNX Range: `start, start + delta, ...` up to (excluding) `limit`, of `dataType`. */
export function rangeTensor(start: number, limit: number, delta: number, dataType: number, env: FoldEnv): ConstantTensor {
  if (delta === 0 || !Number.isFinite(delta)) throw env.fail(`delta ${delta} must be finite and non-zero`);
  const count = Math.max(Math.ceil((limit - start) / delta), 0);
  if (!Number.isSafeInteger(count)) throw env.fail(`Range from ${start} to ${limit} by ${delta} has no finite length`);
  allocate([count], 'Range output', env);
  const out = Array.from({ length: count }, (_, i) => start + i * delta);
  return makeConstant([count], dataType, out);
}
