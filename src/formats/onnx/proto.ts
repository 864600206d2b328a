/**
 * The ONNX protobuf schema and its codec.
 *
 * Package choice: `protobufjs` (maintained, one dependency: `long`) with the schema below, rather than
 * `onnx-proto` (generated protobufjs code for onnx.proto). `onnx-proto` pins the old protobufjs 6 line (a second,
 * unmaintained copy of the runtime next to ours), ships CommonJS static code for one frozen onnx.proto
 * revision and is a single-maintainer package; the schema it would save us is the ~150 lines below, copied
 * from onnx/onnx.proto (proto2, so optional fields keep their presence: a missing `ir_version` is told apart
 * from 0). The same package encodes, for the ONNX writer. Fields this reader has no use for are left out;
 * protobuf skips unknown fields, so newer files decode all the same. Decoding walks the schema's reflection
 * (`decodeMessage`) instead of protobufjs's generated decoders, which need `new Function` (see there).
 */
import protobuf from 'protobufjs';
import { ModelFormatError, ResourceLimitError, WebcnnError } from '../../errors.ts';
import { LOAD_BUDGET_BASE, LOAD_BUDGET_PER_BYTE } from '../limits.ts';

export const ONNX_SCHEMA = `
syntax = "proto2";
package onnx;

message AttributeProto {
  enum AttributeType {
    UNDEFINED = 0; FLOAT = 1; INT = 2; STRING = 3; TENSOR = 4; GRAPH = 5; SPARSE_TENSOR = 11; TYPE_PROTO = 13;
    FLOATS = 6; INTS = 7; STRINGS = 8; TENSORS = 9; GRAPHS = 10; SPARSE_TENSORS = 12; TYPE_PROTOS = 14;
  }
  optional string name = 1;
  optional string ref_attr_name = 21;
  optional string doc_string = 13;
  optional AttributeType type = 20;
  optional float f = 2;
  optional int64 i = 3;
  optional bytes s = 4;
  optional TensorProto t = 5;
  optional GraphProto g = 6;
  optional SparseTensorProto sparse_tensor = 22;
  repeated float floats = 7;
  repeated int64 ints = 8;
  repeated bytes strings = 9;
  repeated TensorProto tensors = 10;
  repeated GraphProto graphs = 11;
  repeated SparseTensorProto sparse_tensors = 23;
}

message ValueInfoProto {
  optional string name = 1;
  optional TypeProto type = 2;
  optional string doc_string = 3;
}

message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  optional string name = 3;
  optional string op_type = 4;
  optional string domain = 7;
  repeated AttributeProto attribute = 5;
  optional string doc_string = 6;
}

message ModelProto {
  optional int64 ir_version = 1;
  repeated OperatorSetIdProto opset_import = 8;
  optional string producer_name = 2;
  optional string producer_version = 3;
  optional string domain = 4;
  optional int64 model_version = 5;
  optional string doc_string = 6;
  optional GraphProto graph = 7;
  repeated StringStringEntryProto metadata_props = 14;
}

message StringStringEntryProto {
  optional string key = 1;
  optional string value = 2;
}

message GraphProto {
  repeated NodeProto node = 1;
  optional string name = 2;
  repeated TensorProto initializer = 5;
  repeated SparseTensorProto sparse_initializer = 15;
  optional string doc_string = 10;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
  repeated ValueInfoProto value_info = 13;
}

message TensorProto {
  enum DataType {
    UNDEFINED = 0; FLOAT = 1; UINT8 = 2; INT8 = 3; UINT16 = 4; INT16 = 5; INT32 = 6; INT64 = 7; STRING = 8;
    BOOL = 9; FLOAT16 = 10; DOUBLE = 11; UINT32 = 12; UINT64 = 13; COMPLEX64 = 14; COMPLEX128 = 15;
    BFLOAT16 = 16;
  }
  message Segment {
    optional int64 begin = 1;
    optional int64 end = 2;
  }
  repeated int64 dims = 1;
  optional int32 data_type = 2;
  optional Segment segment = 3;
  repeated float float_data = 4 [packed = true];
  repeated int32 int32_data = 5 [packed = true];
  repeated bytes string_data = 6;
  repeated int64 int64_data = 7 [packed = true];
  optional string name = 8;
  optional string doc_string = 12;
  optional bytes raw_data = 9;
  repeated StringStringEntryProto external_data = 13;
  enum DataLocation {
    DEFAULT = 0;
    EXTERNAL = 1;
  }
  optional DataLocation data_location = 14;
  repeated double double_data = 10 [packed = true];
  repeated uint64 uint64_data = 11 [packed = true];
}

message SparseTensorProto {
  optional TensorProto values = 1;
  optional TensorProto indices = 2;
  repeated int64 dims = 3;
}

message TensorShapeProto {
  message Dimension {
    oneof value {
      int64 dim_value = 1;
      string dim_param = 2;
    };
    optional string denotation = 3;
  };
  repeated Dimension dim = 1;
}

message TypeProto {
  message Tensor {
    optional int32 elem_type = 1;
    optional TensorShapeProto shape = 2;
  }
  message Sequence {
    optional TypeProto elem_type = 1;
  };
  message Map {
    optional int32 key_type = 1;
    optional TypeProto value_type = 2;
  };
  oneof value {
    Tensor tensor_type = 1;
    Sequence sequence_type = 4;
    Map map_type = 5;
  }
  optional string denotation = 6;
}

message OperatorSetIdProto {
  optional string domain = 1;
  optional int64 version = 2;
}
`;

/** int64 fields: numbers from `decodeModelProto`; `Long` objects where protobufjs decodes (tests, tools). */
export type Int64 = number | { low: number; high: number; unsigned?: boolean; toNumber?: () => number };

/** The decoded messages, as far as the loader reads them (plain objects, snake_case names; see `decodeMessage`). */
export interface AttributeProto {
  name?: string;
  type?: number;
  f?: number;
  i?: Int64;
  s?: Uint8Array;
  t?: TensorProto;
  g?: unknown;
  sparse_tensor?: unknown;
  floats: number[];
  ints: Int64[];
  strings: Uint8Array[];
  tensors: TensorProto[];
  graphs: unknown[];
  ref_attr_name?: string;
}

export interface TensorProto {
  dims: Int64[];
  data_type?: number;
  segment?: unknown;
  float_data: number[];
  int32_data: number[];
  string_data: Uint8Array[];
  int64_data: Int64[];
  name?: string;
  raw_data?: Uint8Array;
  external_data: StringStringEntryProto[];
  data_location?: number;
  double_data: number[];
  uint64_data: Int64[];
}

export interface StringStringEntryProto {
  key?: string;
  value?: string;
}

export interface DimensionProto {
  dim_value?: Int64;
  dim_param?: string;
  denotation?: string;
}

export interface TypeProto {
  tensor_type?: { elem_type?: number; shape?: { dim: DimensionProto[] } };
  sequence_type?: unknown;
  map_type?: unknown;
  denotation?: string;
}

export interface ValueInfoProto {
  name?: string;
  type?: TypeProto;
  doc_string?: string;
}

export interface NodeProto {
  input: string[];
  output: string[];
  name?: string;
  op_type?: string;
  domain?: string;
  attribute: AttributeProto[];
  doc_string?: string;
}

export interface GraphProto {
  node: NodeProto[];
  name?: string;
  initializer: TensorProto[];
  sparse_initializer: unknown[];
  doc_string?: string;
  input: ValueInfoProto[];
  output: ValueInfoProto[];
  value_info: ValueInfoProto[];
}

export interface OperatorSetIdProto {
  domain?: string;
  version?: Int64;
}

export interface ModelProto {
  ir_version?: Int64;
  opset_import: OperatorSetIdProto[];
  producer_name?: string;
  producer_version?: string;
  domain?: string;
  model_version?: Int64;
  doc_string?: string;
  graph?: GraphProto;
  metadata_props: StringStringEntryProto[];
}

/** TensorProto.DataType values. */
export const DataType = {
  UNDEFINED: 0,
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  COMPLEX64: 14,
  COMPLEX128: 15,
  BFLOAT16: 16,
} as const;

export const DATA_TYPE_NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(DataType).map(([k, v]) => [v, k]),
);

/** AttributeProto.AttributeType values. */
export const AttributeType = {
  UNDEFINED: 0,
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
  GRAPHS: 10,
  SPARSE_TENSOR: 11,
  SPARSE_TENSORS: 12,
} as const;

let modelType: protobuf.Type | undefined;

/** The `onnx.ModelProto` message type (the schema is parsed once, on first use). */
export function modelProtoType(): protobuf.Type {
  if (!modelType) {
    const root = protobuf.parse(ONNX_SCHEMA, { keepCase: true }).root;
    root.resolveAll();
    modelType = root.lookupType('onnx.ModelProto');
  }
  return modelType;
}

/** Deepest message nesting accepted (a model, its graph, a node, an attribute, a subgraph, ... type protos). */
export const MAX_MESSAGE_DEPTH = 64;

/** Heap bytes charged per decoded message, repeated-field array, scalar value, string and bytes field. */
const COST = { message: 96, array: 48, value: 16, string: 32, bytes: 64 } as const;

type Scalar =
  | 'int32' | 'uint32' | 'sint32' | 'int64' | 'uint64' | 'sint64' | 'bool' | 'enum'
  | 'fixed32' | 'sfixed32' | 'float' | 'fixed64' | 'sfixed64' | 'double' | 'string' | 'bytes';

/** Wire type of each scalar type. */
const WIRE: Readonly<Record<Scalar, number>> = {
  int32: 0, uint32: 0, sint32: 0, int64: 0, uint64: 0, sint64: 0, bool: 0, enum: 0,
  fixed64: 1, sfixed64: 1, double: 1, fixed32: 5, sfixed32: 5, float: 5, string: 2, bytes: 2,
};

interface FieldPlan {
  readonly name: string;
  readonly repeated: boolean;
  readonly message: protobuf.Type | null;
  readonly scalar: Scalar;
}

interface MessagePlan {
  readonly byId: ReadonlyMap<number, FieldPlan>;
  readonly repeated: readonly string[];
}

const plans = new WeakMap<protobuf.Type, MessagePlan>();

function planOf(type: protobuf.Type): MessagePlan {
  let plan = plans.get(type);
  if (!plan) {
    const byId = new Map<number, FieldPlan>();
    for (const f of type.fieldsArray) {
      f.resolve();
      const message = f.resolvedType instanceof protobuf.Type ? f.resolvedType : null;
      const scalar = (f.resolvedType instanceof protobuf.Enum ? 'enum' : f.type) as Scalar;
      if (!message && !(scalar in WIRE)) throw new Error(`unsupported field type ${f.type}`);
      byId.set(f.id, { name: f.name, repeated: f.repeated, message, scalar });
    }
    plan = { byId, repeated: type.fieldsArray.filter((f) => f.repeated).map((f) => f.name) };
    plans.set(type, plan);
  }
  return plan;
}

/** Repeated fields that never occur share this (frozen) array; decoded messages are read-only. */
const EMPTY: readonly never[] = Object.freeze([]);

/**
 * Decodes `bytes` as a message of `type` into plain objects (snake_case field names; a singular field is an own
 * property only when present, so `has()` tells presence; repeated fields are arrays), driven by the schema's
 * reflection rather than protobufjs's generated decoders, which are built with `new Function` at run time and
 * so fail under a Content-Security-Policy without `unsafe-eval` (the demo page has none). It is also built for
 * hostile input: iterative (an explicit stack, nesting at most `MAX_MESSAGE_DEPTH`), every length checked
 * against its enclosing message, wire types checked against the schema, and the objects it builds charged
 * against the loaders' memory budget (`LOAD_BUDGET_BASE + LOAD_BUDGET_PER_BYTE x file size`), so that a 2 MB
 * file of a million empty nodes is refused instead of becoming 160 MB of objects.
 */
export function decodeMessage(bytes: Uint8Array, type: protobuf.Type): Record<string, unknown> {
  const limit = LOAD_BUDGET_BASE + LOAD_BUDGET_PER_BYTE * bytes.length;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const utf8 = new TextDecoder();
  let pos = 0;
  let cost = 0;
  let lo = 0;
  let hi = 0;
  const fail = (message: string): never => {
    throw new ModelFormatError(`not an ONNX model: the protobuf does not decode (${message} at byte ${pos})`);
  };
  const charge = (n: number): void => {
    cost += n;
    if (cost > limit) {
      throw new ResourceLimitError(
        `ONNX protobuf: decoding this ${bytes.length}-byte file would take more than ${limit} bytes of memory ` +
          `(too many messages or values for its size; at byte ${pos})`,
      );
    }
  };
  /** Reads a varint into `lo` / `hi` (unsigned 32-bit halves). */
  const varint = (end: number): void => {
    lo = 0;
    hi = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      if (pos >= end) fail('truncated varint');
      const b = bytes[pos++];
      lo |= (b & 0x7f) << shift;
      if (b < 0x80) {
        lo >>>= 0;
        return;
      }
    }
    if (pos >= end) fail('truncated varint');
    let b = bytes[pos++];
    lo = (lo | ((b & 0x7f) << 28)) >>> 0;
    hi = (b & 0x7f) >> 4;
    if (b < 0x80) return;
    for (let shift = 3; shift < 32; shift += 7) {
      if (pos >= end) fail('truncated varint');
      b = bytes[pos++];
      hi |= (b & 0x7f) << shift;
      if (b < 0x80) {
        hi >>>= 0;
        return;
      }
    }
    fail('varint longer than 10 bytes');
  };
  const length = (end: number): number => {
    varint(end);
    if (hi !== 0 || pos + lo > end) fail(`a ${hi ? 'huge' : lo}-byte field runs past the end of its message`);
    return lo;
  };
  const fixed = (n: number, end: number): number => {
    if (pos + n > end) fail('truncated fixed-size value');
    const at = pos;
    pos += n;
    return at;
  };
  const scalar = (kind: Scalar, end: number): unknown => {
    switch (kind) {
      case 'int32':
      case 'enum':
        varint(end);
        return lo | 0;
      case 'uint32':
        varint(end);
        return lo;
      case 'sint32':
        varint(end);
        return (lo >>> 1) ^ -(lo & 1);
      case 'int64':
        varint(end);
        return (hi | 0) * 4294967296 + lo;
      case 'uint64':
        varint(end);
        return hi * 4294967296 + lo;
      case 'sint64': {
        varint(end);
        const v = (BigInt(hi) << 32n) | BigInt(lo);
        return Number((v >> 1n) ^ -(v & 1n));
      }
      case 'bool':
        varint(end);
        return lo !== 0 || hi !== 0;
      case 'fixed32':
        return view.getUint32(fixed(4, end), true);
      case 'sfixed32':
        return view.getInt32(fixed(4, end), true);
      case 'float':
        return view.getFloat32(fixed(4, end), true);
      case 'fixed64':
        return Number(view.getBigUint64(fixed(8, end), true));
      case 'sfixed64':
        return Number(view.getBigInt64(fixed(8, end), true));
      case 'double':
        return view.getFloat64(fixed(8, end), true);
      case 'string': {
        const n = length(end);
        charge(COST.string + n);
        pos += n;
        return utf8.decode(bytes.subarray(pos - n, pos));
      }
      case 'bytes': {
        const n = length(end);
        charge(COST.bytes);
        pos += n;
        return bytes.subarray(pos - n, pos);
      }
    }
  };
  const skip = (wire: number, end: number): void => {
    switch (wire) {
      case 0:
        varint(end);
        return;
      case 1:
        fixed(8, end);
        return;
      case 2: {
        const n = length(end);
        pos += n;
        return;
      }
      case 5:
        fixed(4, end);
        return;
      default:
        fail(`wire type ${wire} (${wire === 3 || wire === 4 ? 'a protobuf group, which ONNX never uses' : 'invalid'})`);
    }
  };
  const create = (plan: MessagePlan): Record<string, unknown> => {
    charge(COST.message);
    const obj: Record<string, unknown> = {};
    for (const name of plan.repeated) obj[name] = EMPTY;
    return obj;
  };
  const add = (obj: Record<string, unknown>, f: FieldPlan, value: unknown): void => {
    if (!f.repeated) {
      obj[f.name] = value;
      return;
    }
    let list = obj[f.name] as unknown[];
    if ((list as readonly unknown[]) === EMPTY) {
      charge(COST.array);
      obj[f.name] = list = [];
    }
    charge(COST.value);
    list.push(value);
  };

  const rootPlan = planOf(type);
  const root = create(rootPlan);
  const stack: { plan: MessagePlan; obj: Record<string, unknown>; end: number }[] = [{ plan: rootPlan, obj: root, end: bytes.length }];
  while (stack.length > 0) {
    const frame = stack[stack.length - 1];
    if (pos >= frame.end) {
      stack.pop();
      continue;
    }
    varint(frame.end);
    if (hi !== 0) fail('invalid field tag');
    const fieldNo = lo >>> 3;
    const wire = lo & 7;
    if (fieldNo === 0) fail('invalid field number 0');
    const f = frame.plan.byId.get(fieldNo);
    if (!f) {
      skip(wire, frame.end);
      continue;
    }
    if (f.message) {
      if (wire !== 2) fail(`field ${f.name} is a message but has wire type ${wire}`);
      const n = length(frame.end);
      const end = pos + n;
      if (stack.length >= MAX_MESSAGE_DEPTH) {
        throw new ModelFormatError(`ONNX protobuf: messages nest deeper than ${MAX_MESSAGE_DEPTH} levels (at byte ${pos})`);
      }
      const plan = planOf(f.message);
      const child = create(plan);
      add(frame.obj, f, child);
      stack.push({ plan, obj: child, end });
      continue;
    }
    const expected = WIRE[f.scalar];
    if (wire === 2 && expected !== 2) {
      // Packed repeated scalars.
      if (!f.repeated) fail(`field ${f.name} is a single ${f.scalar} but has wire type 2`);
      const n = length(frame.end);
      const end = pos + n;
      while (pos < end) add(frame.obj, f, scalar(f.scalar, end));
      continue;
    }
    if (wire !== expected) fail(`field ${f.name} (${f.scalar}) has wire type ${wire}`);
    add(frame.obj, f, scalar(f.scalar, frame.end));
  }
  return root;
}

/** An int64 field as a JS number (exact up to 2^53, which covers every dim, attribute and version). */
export function int64(v: Int64 | undefined | null): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return Number(v);
  if (typeof v.toNumber === 'function') return v.toNumber();
  const low = v.low >>> 0;
  return v.unsigned ? (v.high >>> 0) * 4294967296 + low : v.high * 4294967296 + low;
}

export function has(message: object, field: string): boolean {
  return Object.prototype.hasOwnProperty.call(message, field);
}

/**
 * Decodes a ModelProto (`decodeMessage`). Anything the decoder rejects (bad wire types, lengths past the end,
 * nesting too deep, ...) is a one-line `ModelFormatError`, a file that would decode to far more objects than its
 * size justifies a `ResourceLimitError`; whether the result is a plausible model is the loader's business.
 */
export function decodeModelProto(bytes: Uint8Array): ModelProto {
  if (!(bytes instanceof Uint8Array)) {
    throw new ModelFormatError(`an ONNX model must be passed as a Uint8Array, got ${Object.prototype.toString.call(bytes)}`);
  }
  if (bytes.length === 0) throw new ModelFormatError('not an ONNX model: the file is empty');
  try {
    return decodeMessage(bytes, modelProtoType()) as unknown as ModelProto;
  } catch (e) {
    if (e instanceof WebcnnError) throw e;
    const reason = (e instanceof Error ? e.message : String(e)).split('\n')[0];
    throw new ModelFormatError(`not an ONNX model: the protobuf does not decode (${reason})`, { cause: e });
  }
}

/** Encodes a ModelProto given as a plain object with the schema's (snake_case) field names. */
export function encodeModelProto(model: object): Uint8Array {
  const type = modelProtoType();
  const problem = type.verify(model);
  if (problem) throw new ModelFormatError(`cannot encode ONNX model: ${problem}`);
  return type.encode(type.fromObject(model)).finish();
}
