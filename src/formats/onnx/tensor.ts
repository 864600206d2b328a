/**
 * TensorProto -> typed values: floating-point tensors (float32, float64, float16, bfloat16) become a
 * `Float32Array`, integer and boolean tensors a `number[]` (shapes, pads, axes). Data comes from `raw_data`
 * (little-endian, any alignment), an external file (same layout as `raw_data`) or the typed repeated fields, and
 * must match the dims.
 */
import { ExternalDataError, ModelFormatError, UnsupportedOpError } from '../../errors.ts';
import { decodeBF16, decodeF16 } from '../half.ts';
import { checkedElementCount, LoadBudget } from '../limits.ts';
import type { ExternalFiles } from './external-data.ts';
import { isExternal } from './external-data.ts';
import type { TensorProto } from './proto.ts';
import { DATA_TYPE_NAMES, DataType, has, int64 } from './proto.ts';

export interface ConstantTensor {
  readonly dims: readonly number[];
  readonly dataType: number;
  /** Floating-point tensors. */
  readonly floats?: Float32Array;
  /** Integer and boolean tensors. */
  readonly ints?: readonly number[];
}

export function dataTypeName(t: number | undefined): string {
  return DATA_TYPE_NAMES[t ?? 0] ?? `data type ${t}`;
}

export function elementCountOf(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

const FLOAT_TYPES: ReadonlySet<number> = new Set([DataType.FLOAT, DataType.DOUBLE, DataType.FLOAT16, DataType.BFLOAT16]);

export function isFloatType(t: number): boolean {
  return FLOAT_TYPES.has(t);
}

/** Bytes per element in `raw_data`, for the types this reader decodes. */
const RAW_SIZE: Readonly<Record<number, number>> = {
  [DataType.FLOAT]: 4,
  [DataType.DOUBLE]: 8,
  [DataType.FLOAT16]: 2,
  [DataType.BFLOAT16]: 2,
  [DataType.INT64]: 8,
  [DataType.UINT64]: 8,
  [DataType.INT32]: 4,
  [DataType.UINT32]: 4,
  [DataType.INT16]: 2,
  [DataType.UINT16]: 2,
  [DataType.INT8]: 1,
  [DataType.UINT8]: 1,
  [DataType.BOOL]: 1,
};

/**
 * Decodes a TensorProto; `what` names it in errors (e.g. `initializer 'conv1.weight'`). The element count is
 * checked (`checkedElementCount`) and the decoded values charged to `budget` before anything is allocated. An
 * external tensor's bytes come from `external` (the files the model names, resolved by `ExternalFiles.resolve`).
 */
export function decodeTensor(t: TensorProto, what: string, budget: LoadBudget = new LoadBudget(0), external?: ExternalFiles): ConstantTensor {
  if (t.dims.length > 64) throw new ModelFormatError(`${what} has ${t.dims.length} dims`);
  const dims = t.dims.map((d) => int64(d));
  if (!dims.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new ModelFormatError(`${what} has invalid dims [${dims.join(', ')}]`);
  }
  const dataType = t.data_type ?? DataType.UNDEFINED;
  if (has(t, 'segment')) throw new UnsupportedOpError(`${what} is stored in segments, which webcnn does not read`);
  const size = RAW_SIZE[dataType];
  if (size === undefined) {
    throw new UnsupportedOpError(`${what} has data type ${dataTypeName(dataType)}, which webcnn does not read`);
  }
  const count = checkedElementCount(dims, what);
  if (isExternal(t)) {
    if (!external) throw new ExternalDataError(`${what} keeps its data in an external file, which webcnn does not read here`);
    const raw = external.slice(t, what, count * size, `${count} ${dataTypeName(dataType)} values (dims [${dims.join(', ')}])`);
    budget.charge(count * (isFloatType(dataType) ? 4 : 8), what);
    return { dims, dataType, ...decodeRaw(raw, dataType, count) };
  }
  const raw = t.raw_data && t.raw_data.length > 0 ? t.raw_data : null;
  if (raw) {
    if (raw.length !== count * size) {
      throw new ModelFormatError(
        `${what}: raw_data has ${raw.length} bytes, expected ${count * size} for ${count} ${dataTypeName(dataType)} values (dims [${dims.join(', ')}])`,
      );
    }
    budget.charge(count * (isFloatType(dataType) ? 4 : 8), what);
    return { dims, dataType, ...decodeRaw(raw, dataType, count) };
  }
  const typed = typedField(t, dataType);
  if (typed.length !== count) {
    throw new ModelFormatError(
      `${what} holds ${typed.length} values, expected ${count} for dims [${dims.join(', ')}]`,
    );
  }
  budget.charge(count * (isFloatType(dataType) ? 4 : 8), what);
  switch (dataType) {
    case DataType.FLOAT:
    case DataType.DOUBLE:
      return { dims, dataType, floats: Float32Array.from(typed as number[]) };
    case DataType.FLOAT16:
    case DataType.BFLOAT16: {
      // int32_data holds the 16-bit patterns.
      const bytes = new Uint8Array(count * 2);
      (typed as number[]).forEach((v, i) => {
        bytes[2 * i] = v & 0xff;
        bytes[2 * i + 1] = (v >> 8) & 0xff;
      });
      return { dims, dataType, floats: dataType === DataType.FLOAT16 ? decodeF16(bytes, 0, count) : decodeBF16(bytes, 0, count) };
    }
    default:
      return { dims, dataType, ints: (typed as Parameters<typeof int64>[0][]).map((v) => int64(v)) };
  }
}

function typedField(t: TensorProto, dataType: number): readonly unknown[] {
  switch (dataType) {
    case DataType.FLOAT:
      return t.float_data;
    case DataType.DOUBLE:
      return t.double_data;
    case DataType.INT64:
      return t.int64_data;
    case DataType.UINT32:
    case DataType.UINT64:
      return t.uint64_data;
    default:
      return t.int32_data;
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function decodeRaw(raw: Uint8Array, dataType: number, count: number): { floats?: Float32Array; ints?: number[] } {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  switch (dataType) {
    case DataType.FLOAT: {
      // A copy is aligned; on little-endian hosts (all of them, in practice) its bytes are the values.
      if (LITTLE_ENDIAN) return { floats: new Float32Array(new Uint8Array(raw).buffer, 0, count) };
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
      return { floats: out };
    }
    case DataType.DOUBLE: {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(8 * i, true);
      return { floats: out };
    }
    case DataType.FLOAT16:
      return { floats: decodeF16(raw, 0, count) };
    case DataType.BFLOAT16:
      return { floats: decodeBF16(raw, 0, count) };
  }
  const ints = new Array<number>(count);
  for (let i = 0; i < count; i++) {
    switch (dataType) {
      case DataType.INT64:
        ints[i] = Number(view.getBigInt64(8 * i, true));
        break;
      case DataType.UINT64:
        ints[i] = Number(view.getBigUint64(8 * i, true));
        break;
      case DataType.INT32:
        ints[i] = view.getInt32(4 * i, true);
        break;
      case DataType.UINT32:
        ints[i] = view.getUint32(4 * i, true);
        break;
      case DataType.INT16:
        ints[i] = view.getInt16(2 * i, true);
        break;
      case DataType.UINT16:
        ints[i] = view.getUint16(2 * i, true);
        break;
      case DataType.INT8:
        ints[i] = view.getInt8(i);
        break;
      default:
        ints[i] = view.getUint8(i);
    }
  }
  return { ints };
}
