/**
 * Building ONNX ModelProtos by hand: nodes, attributes, initializers, graph inputs/outputs and the model with
 * its opset, encoded with the same protobuf schema the loader decodes. Used by the tests (tiny one-op models)
 * and by `exportOnnx`.
 *
 *   const bytes = encodeModel(makeModel({
 *     opset: 13,
 *     graph: makeGraph({
 *       nodes: [makeNode('Relu', ['x'], ['y'])],
 *       inputs: [makeValueInfo('x', [1, 3, 4, 4])],
 *       outputs: [makeValueInfo('y', [1, 3, 4, 4])],
 *     }),
 *   }));
 */
import { AttributeType, DataType, encodeModelProto } from './proto.ts';

/** Plain-object forms of the messages, with the schema's snake_case field names. */
export interface TensorInit {
  name?: string;
  dims: number[];
  data_type: number;
  raw_data?: Uint8Array;
  float_data?: number[];
  int32_data?: number[];
  int64_data?: number[];
  double_data?: number[];
  data_location?: number;
  external_data?: { key: string; value: string }[];
}

export interface AttributeInit {
  name?: string;
  type: number;
  i?: number;
  f?: number;
  s?: Uint8Array;
  t?: TensorInit;
  ints?: number[];
  floats?: number[];
  strings?: Uint8Array[];
}

export interface NodeInit {
  name?: string;
  op_type: string;
  domain?: string;
  input: string[];
  output: string[];
  attribute: AttributeInit[];
}

export interface ValueInfoInit {
  name: string;
  type?: {
    tensor_type: {
      elem_type: number;
      shape?: { dim: { dim_value?: number; dim_param?: string }[] };
    };
  };
}

export interface GraphInit {
  name?: string;
  node: NodeInit[];
  initializer: TensorInit[];
  input: ValueInfoInit[];
  output: ValueInfoInit[];
}

export interface ModelInit {
  ir_version?: number;
  opset_import: { domain?: string; version: number }[];
  producer_name?: string;
  producer_version?: string;
  graph?: GraphInit;
  metadata_props?: { key: string; value: string }[];
}

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Typed attribute values (ONNX tells an int from a float by the attribute type). */
export const attr = {
  int: (v: number): AttributeInit => ({ type: AttributeType.INT, i: v }),
  ints: (v: readonly number[]): AttributeInit => ({ type: AttributeType.INTS, ints: [...v] }),
  float: (v: number): AttributeInit => ({ type: AttributeType.FLOAT, f: v }),
  floats: (v: readonly number[]): AttributeInit => ({ type: AttributeType.FLOATS, floats: [...v] }),
  string: (v: string): AttributeInit => ({ type: AttributeType.STRING, s: utf8(v) }),
  tensor: (t: TensorInit): AttributeInit => ({ type: AttributeType.TENSOR, t }),
};

export function makeNode(
  opType: string,
  inputs: readonly string[],
  outputs: readonly string[],
  /** Attributes by name; undefined entries are left out. */
  attributes: Readonly<Record<string, AttributeInit | undefined>> = {},
  name?: string,
  domain?: string,
): NodeInit {
  return {
    ...(name !== undefined ? { name } : {}),
    ...(domain !== undefined ? { domain } : {}),
    op_type: opType,
    input: [...inputs],
    output: [...outputs],
    attribute: Object.entries(attributes)
      .filter((e): e is [string, AttributeInit] => e[1] !== undefined)
      .map(([n, a]) => ({ ...a, name: n })),
  };
}

/**
 * A tensor: float data goes to `raw_data` (little-endian float32) unless `raw` is false (then `float_data`);
 * integer types to `int64_data` / `int32_data`.
 */
export function makeTensor(
  name: string,
  dims: readonly number[],
  values: ArrayLike<number>,
  dataType: number = DataType.FLOAT,
  options: { raw?: boolean } = {},
): TensorInit {
  const base = { name, dims: [...dims], data_type: dataType };
  const raw = options.raw ?? true;
  switch (dataType) {
    case DataType.FLOAT: {
      if (!raw) return { ...base, float_data: Array.from(values) };
      const f = Float32Array.from(values);
      return { ...base, raw_data: new Uint8Array(f.buffer) };
    }
    case DataType.DOUBLE:
      return { ...base, double_data: Array.from(values) };
    case DataType.INT64:
      if (!raw) return { ...base, int64_data: Array.from(values) };
      return { ...base, raw_data: new Uint8Array(BigInt64Array.from(Array.from(values), (v) => BigInt(v)).buffer) };
    default:
      return { ...base, int32_data: Array.from(values) };
  }
}

/**
 * Moves the raw data of `tensors` into one external file named `location`, as `onnx.save(...,
 * save_as_external_data=True)` does: the tensors come back with `data_location` EXTERNAL and `location` /
 * `offset` / `length` entries, beside the file's bytes. A tensor without `raw_data` stays as it is; each offset is
 * a multiple of `align`.
 */
export function externalizeTensors(tensors: readonly TensorInit[], location: string, align = 1): { tensors: TensorInit[]; data: Uint8Array } {
  if (!Number.isSafeInteger(align) || align < 1) throw new RangeError(`externalizeTensors: align ${String(align)} is not a positive integer`);
  const offsets: number[] = [];
  let end = 0;
  for (const t of tensors) {
    offsets.push(end);
    if (t.raw_data) end = Math.ceil((end + t.raw_data.length) / align) * align;
  }
  const data = new Uint8Array(end);
  const moved = tensors.map((t, i): TensorInit => {
    if (!t.raw_data) return t;
    data.set(t.raw_data, offsets[i]);
    const { raw_data, ...rest } = t;
    const entries = [
      { key: 'location', value: location },
      { key: 'offset', value: String(offsets[i]) },
      { key: 'length', value: String(raw_data.length) },
    ];
    return { ...rest, data_location: 1, external_data: entries };
  });
  return { tensors: moved, data };
}

/** A float32 (or other `elemType`) tensor value; a string dim is symbolic, null unknown. */
export function makeValueInfo(
  name: string,
  dims: readonly (number | string | null)[] | null,
  elemType: number = DataType.FLOAT,
): ValueInfoInit {
  const tensorType: NonNullable<ValueInfoInit['type']>['tensor_type'] = { elem_type: elemType };
  if (dims) {
    tensorType.shape = {
      dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : typeof d === 'string' ? { dim_param: d } : {})),
    };
  }
  return { name, type: { tensor_type: tensorType } };
}

export function makeGraph(g: {
  name?: string;
  nodes: NodeInit[];
  inputs: ValueInfoInit[];
  outputs: ValueInfoInit[];
  initializers?: TensorInit[];
}): GraphInit {
  return { name: g.name ?? 'graph', node: g.nodes, input: g.inputs, output: g.outputs, initializer: g.initializers ?? [] };
}

/** The IR version the ONNX release that introduced each opset wrote. */
export function irVersionForOpset(opset: number): number {
  if (opset <= 8) return 3;
  if (opset === 9) return 4;
  if (opset === 10) return 5;
  if (opset === 11) return 6;
  if (opset <= 14) return 7;
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  return 10;
}

export function makeModel(m: {
  graph: GraphInit;
  opset?: number;
  irVersion?: number;
  producerName?: string;
  producerVersion?: string;
  metadata?: Readonly<Record<string, string>>;
}): ModelInit {
  const opset = m.opset ?? 13;
  return {
    ir_version: m.irVersion ?? irVersionForOpset(opset),
    opset_import: [{ domain: '', version: opset }],
    producer_name: m.producerName ?? 'webcnn',
    ...(m.producerVersion ? { producer_version: m.producerVersion } : {}),
    graph: m.graph,
    ...(m.metadata ? { metadata_props: Object.entries(m.metadata).map(([key, value]) => ({ key, value })) } : {}),
  };
}

/** Serializes a ModelProto. */
export function encodeModel(model: ModelInit | object): Uint8Array {
  return encodeModelProto(model);
}
