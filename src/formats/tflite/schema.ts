/**
 * The parts of the TFLite flatbuffer schema (`tensorflow/lite/schema/schema.fbs`, file identifier `TFL3`,
 * schema version 3) the loader reads, as bounds-checked readers that turn the file into plain objects.
 * Field indices follow the schema's declaration order; a union takes two slots (its type, then its value).
 */
import { ModelFormatError } from '../../errors.ts';
import { FlatReader, Table } from './reader.ts';

export const FILE_IDENTIFIER = 'TFL3';
export const SCHEMA_VERSION = 3;

/** `TensorType`. */
export const TensorType = {
  FLOAT32: 0,
  FLOAT16: 1,
  INT32: 2,
  UINT8: 3,
  INT64: 4,
  STRING: 5,
  BOOL: 6,
  INT16: 7,
  COMPLEX64: 8,
  INT8: 9,
  FLOAT64: 10,
} as const;

const TENSOR_TYPE_NAMES = [
  'FLOAT32', 'FLOAT16', 'INT32', 'UINT8', 'INT64', 'STRING', 'BOOL', 'INT16', 'COMPLEX64', 'INT8', 'FLOAT64',
  'COMPLEX128', 'UINT64', 'RESOURCE', 'VARIANT', 'UINT32', 'UINT16', 'INT4',
];

export function tensorTypeName(type: number): string {
  return TENSOR_TYPE_NAMES[type] ?? `type ${type}`;
}

/** The `BuiltinOperator` codes the loader converts. */
export const BuiltinOp = {
  ADD: 0,
  AVERAGE_POOL_2D: 1,
  CONV_2D: 3,
  DEPTHWISE_CONV_2D: 4,
  DEQUANTIZE: 6,
  FULLY_CONNECTED: 9,
  MAX_POOL_2D: 17,
  RELU: 19,
  RELU_N1_TO_1: 20,
  RELU6: 21,
  RESHAPE: 22,
  SOFTMAX: 25,
  CUSTOM: 32,
  PAD: 34,
  MEAN: 40,
  SQUEEZE: 43,
  PADV2: 60,
  QUANTIZE: 114,
  PLACEHOLDER_FOR_GREATER_OP_CODES: 127,
  RESIZE_BILINEAR: 23,
  ARG_MAX: 56,
  TRANSPOSE_CONV: 67,
  RESIZE_NEAREST_NEIGHBOR: 97,
  MUL: 18,
  SUB: 41,
  DIV: 42,
  MAXIMUM: 55,
  MINIMUM: 57,
  POW: 78,
  SQUARED_DIFFERENCE: 99,
  REDUCE_MAX: 82,
  // Functions of the activation table.
  LOGISTIC: 14,
  TANH: 28,
  LEAKY_RELU: 98,
  ELU: 111,
  HARD_SWISH: 117,
  GELU: 150,
  CONCATENATION: 2,
  STRIDED_SLICE: 45,
  SPLIT: 49,
  SPLIT_V: 102,
  EXP: 47,
  SQRT: 75,
  RSQRT: 76,
  NEG: 59,
  ABS: 101,
  PRELU: 54,
} as const;

/** `BuiltinOperator` names by code, for messages. */
const BUILTIN_OP_NAMES = (
  'ADD AVERAGE_POOL_2D CONCATENATION CONV_2D DEPTHWISE_CONV_2D DEPTH_TO_SPACE DEQUANTIZE EMBEDDING_LOOKUP FLOOR ' +
  'FULLY_CONNECTED HASHTABLE_LOOKUP L2_NORMALIZATION L2_POOL_2D LOCAL_RESPONSE_NORMALIZATION LOGISTIC ' +
  'LSH_PROJECTION LSTM MAX_POOL_2D MUL RELU RELU_N1_TO_1 RELU6 RESHAPE RESIZE_BILINEAR RNN SOFTMAX SPACE_TO_DEPTH ' +
  'SVDF TANH CONCAT_EMBEDDINGS SKIP_GRAM CALL CUSTOM EMBEDDING_LOOKUP_SPARSE PAD UNIDIRECTIONAL_SEQUENCE_RNN ' +
  'GATHER BATCH_TO_SPACE_ND SPACE_TO_BATCH_ND TRANSPOSE MEAN SUB DIV SQUEEZE UNIDIRECTIONAL_SEQUENCE_LSTM ' +
  'STRIDED_SLICE BIDIRECTIONAL_SEQUENCE_RNN EXP TOPK_V2 SPLIT LOG_SOFTMAX DELEGATE BIDIRECTIONAL_SEQUENCE_LSTM ' +
  'CAST PRELU MAXIMUM ARG_MAX MINIMUM LESS NEG PADV2 GREATER GREATER_EQUAL LESS_EQUAL SELECT SLICE SIN ' +
  'TRANSPOSE_CONV SPARSE_TO_DENSE TILE EXPAND_DIMS EQUAL NOT_EQUAL LOG SUM SQRT RSQRT SHAPE POW ARG_MIN ' +
  'FAKE_QUANT REDUCE_PROD REDUCE_MAX PACK LOGICAL_OR ONE_HOT LOGICAL_AND LOGICAL_NOT UNPACK REDUCE_MIN FLOOR_DIV ' +
  'REDUCE_ANY SQUARE ZEROS_LIKE FILL FLOOR_MOD RANGE RESIZE_NEAREST_NEIGHBOR LEAKY_RELU SQUARED_DIFFERENCE ' +
  'MIRROR_PAD ABS SPLIT_V UNIQUE CEIL REVERSE_V2 ADD_N GATHER_ND COS WHERE RANK ELU REVERSE_SEQUENCE MATRIX_DIAG ' +
  'QUANTIZE MATRIX_SET_DIAG ROUND HARD_SWISH IF WHILE NON_MAX_SUPPRESSION_V4 NON_MAX_SUPPRESSION_V5 SCATTER_ND ' +
  'SELECT_V2 DENSIFY SEGMENT_SUM BATCH_MATMUL PLACEHOLDER_FOR_GREATER_OP_CODES CUMSUM CALL_ONCE BROADCAST_TO ' +
  'RFFT2D CONV_3D IMAG REAL COMPLEX_ABS HASHTABLE HASHTABLE_FIND HASHTABLE_IMPORT HASHTABLE_SIZE REDUCE_ALL ' +
  'CONV_3D_TRANSPOSE VAR_HANDLE READ_VARIABLE ASSIGN_VARIABLE BROADCAST_ARGS RANDOM_STANDARD_NORMAL BUCKETIZE ' +
  'RANDOM_UNIFORM MULTINOMIAL GELU DYNAMIC_UPDATE_SLICE RELU_0_TO_1 UNSORTED_SEGMENT_PROD UNSORTED_SEGMENT_MAX ' +
  'UNSORTED_SEGMENT_SUM ATAN2 UNSORTED_SEGMENT_MIN SIGN BITCAST BITWISE_XOR RIGHT_SHIFT'
).split(' ');

export function builtinOpName(code: number): string {
  return BUILTIN_OP_NAMES[code] ?? `BUILTIN_${code}`;
}

/** `BuiltinOptions` union member indices (1-based; 0 is NONE) of the option tables read here. */
export const OptionsType = {
  NONE: 0,
  Conv2DOptions: 1,
  DepthwiseConv2DOptions: 2,
  Pool2DOptions: 5,
  FullyConnectedOptions: 8,
  SoftmaxOptions: 9,
  AddOptions: 11,
  ReshapeOptions: 17,
  PadOptions: 22,
  ReducerOptions: 27,
  SqueezeOptions: 30,
  DequantizeOptions: 38,
  PadV2Options: 43,
  QuantizeOptions: 89,
  ResizeBilinearOptions: 15,
  ArgMaxOptions: 40,
  TransposeConvOptions: 49,
  ResizeNearestNeighborOptions: 74,
  MulOptions: 21,
  SubOptions: 28,
  DivOptions: 29,
  MaximumMinimumOptions: 39,
  PowOptions: 56,
  SquaredDifferenceOptions: 76,
  // Options of activation-table operators.
  LeakyReluOptions: 75,
  GeluOptions: 116,
  ConcatenationOptions: 10,
  StridedSliceOptions: 32,
  SplitOptions: 35,
  SplitVOptions: 79,
} as const;

/** `Padding`. */
export const Padding = { SAME: 0, VALID: 1 } as const;

/** `ActivationFunctionType`. */
export const FusedActivation = { NONE: 0, RELU: 1, RELU_N1_TO_1: 2, RELU6: 3, TANH: 4, SIGN_BIT: 5 } as const;
const ACTIVATION_NAMES = ['NONE', 'RELU', 'RELU_N1_TO_1', 'RELU6', 'TANH', 'SIGN_BIT'];
export function activationName(code: number): string {
  return ACTIVATION_NAMES[code] ?? `activation ${code}`;
}

export interface TfliteQuantization {
  readonly scale: readonly number[];
  readonly zeroPoint: readonly number[];
  readonly quantizedDimension: number;
  /** A `QuantizationDetails` union (custom quantization) is present: the scale/zero point do not apply. */
  readonly custom: boolean;
}

export interface TfliteTensor {
  readonly index: number;
  readonly name: string;
  readonly shape: readonly number[];
  readonly type: number;
  readonly buffer: number;
  readonly quantization: TfliteQuantization | null;
  readonly sparse: boolean;
}

export interface TfliteOperator {
  readonly index: number;
  readonly opcodeIndex: number;
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
  readonly optionsType: number;
  readonly options: Table | null;
  readonly where: string;
}

export interface TfliteOperatorCode {
  readonly builtin: number;
  readonly custom: string | null;
  readonly version: number;
}

export interface TfliteSubgraph {
  readonly name: string;
  readonly tensors: readonly TfliteTensor[];
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
  readonly operators: readonly TfliteOperator[];
}

export interface TfliteMetadata {
  readonly name: string;
  readonly buffer: number;
}

export interface TfliteModel {
  readonly version: number;
  readonly operatorCodes: readonly TfliteOperatorCode[];
  readonly subgraphs: readonly TfliteSubgraph[];
  readonly description: string;
  /** Buffer contents (views into the file), `null` for empty buffers. */
  readonly buffers: readonly (Uint8Array | null)[];
  readonly metadata: readonly TfliteMetadata[];
}

export function hasTfliteIdentifier(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && bytes[4] === 0x54 && bytes[5] === 0x46 && bytes[6] === 0x4c && bytes[7] === 0x33;
}

const NONE: readonly number[] = Object.freeze([]);

function readQuantization(t: Table): TfliteQuantization {
  // min 0, max 1, scale 2, zero_point 3, details (type 4, value 5), quantized_dimension 6
  return {
    scale: t.float32s(2, 'scale') ?? NONE,
    zeroPoint: t.int64s(3, 'zero_point') ?? NONE,
    custom: t.uint8(4, 'details_type') !== 0,
    quantizedDimension: t.int32(6, 'quantized_dimension'),
  };
}

function readTensor(t: Table, index: number): TfliteTensor {
  // shape 0, type 1, buffer 2, name 3, quantization 4, is_variable 5, sparsity 6, shape_signature 7
  const q = t.table(4, 'quantization');
  return {
    index,
    shape: t.int32s(0, 'shape') ?? NONE,
    type: t.int8(1, 'type'),
    buffer: t.uint32(2, 'buffer'),
    name: t.string(3, 'name') ?? '',
    quantization: q ? readQuantization(q) : null,
    sparse: t.has(6),
  };
}

function readOperator(t: Table, index: number): TfliteOperator {
  // opcode_index 0, inputs 1, outputs 2, builtin_options (type 3, value 4), custom_options 5, ...
  const optionsType = t.uint8(3, 'builtin_options_type');
  return {
    index,
    where: t.where,
    opcodeIndex: t.uint32(0, 'opcode_index'),
    inputs: t.int32s(1, 'inputs') ?? NONE,
    outputs: t.int32s(2, 'outputs') ?? NONE,
    optionsType,
    options: optionsType !== 0 ? t.table(4, 'builtin_options') : null,
  };
}

function readOperatorCode(t: Table): TfliteOperatorCode {
  // deprecated_builtin_code 0 (byte), custom_code 1, version 2, builtin_code 3 (int32). Files written before
  // the int32 field carry only the byte; newer ones write both, the byte saturating at 127 (the placeholder).
  const deprecated = t.int8(0, 'deprecated_builtin_code');
  const builtin = t.int32(3, 'builtin_code');
  return { builtin: Math.max(deprecated, builtin), custom: t.string(1, 'custom_code'), version: t.int32(2, 'version', 1) };
}

function readSubgraph(t: Table): TfliteSubgraph {
  // tensors 0, inputs 1, outputs 2, operators 3, name 4
  return {
    tensors: t.tables(0, 'tensors', true).map(readTensor),
    inputs: t.int32s(1, 'inputs') ?? NONE,
    outputs: t.int32s(2, 'outputs') ?? NONE,
    operators: t.tables(3, 'operators', true).map(readOperator),
    name: t.string(4, 'name') ?? '',
  };
}

function readBuffer(t: Table, r: FlatReader): Uint8Array | null {
  // data 0, offset 1, size 2 (offset/size: data stored after the flatbuffer, for models over 2 GB)
  const data = t.bytes(0, 'data');
  if (data && data.length > 0) return data;
  const offset = t.uint64(1, 'offset');
  const size = t.uint64(2, 'size');
  if (offset > 1) {
    r.need(offset, size, `${t.where} (external data)`);
    return size > 0 ? r.bytes.subarray(offset, offset + size) : null;
  }
  return null;
}

/** Parses the model's tables (tensor data stays in the file; nothing is copied). */
export function readModel(bytes: Uint8Array): TfliteModel {
  if (!hasTfliteIdentifier(bytes)) {
    const id = bytes.length >= 8 ? JSON.stringify(String.fromCharCode(...bytes.subarray(4, 8))) : 'missing (file too short)';
    throw new ModelFormatError(`tflite: file identifier ${id} is not "${FILE_IDENTIFIER}"; this is not a TFLite model`);
  }
  const r = new FlatReader(bytes);
  const root = r.root('model');
  // version 0, operator_codes 1, subgraphs 2, description 3, buffers 4, metadata_buffer 5, metadata 6
  const version = root.uint32(0, 'version');
  if (version !== SCHEMA_VERSION) {
    throw new ModelFormatError(`tflite: schema version ${version} is not supported (expected ${SCHEMA_VERSION})`);
  }
  // Buffer and metadata tables may repeat (converters share the empty buffer): each is read once.
  const once = <T>(read: (t: Table) => T) => {
    const done = new Map<Table, T>();
    return (t: Table): T => {
      if (!done.has(t)) done.set(t, read(t));
      return done.get(t)!;
    };
  };
  return {
    version,
    operatorCodes: root.tables(1, 'operator_codes').map(once(readOperatorCode)),
    subgraphs: root.tables(2, 'subgraphs', true).map(readSubgraph),
    description: root.string(3, 'description') ?? '',
    buffers: root.tables(4, 'buffers').map(once((t) => readBuffer(t, r))),
    metadata: root.tables(6, 'metadata').map(once((t) => ({ name: t.string(0, 'name') ?? '', buffer: t.uint32(1, 'buffer') }))),
  };
}

// ---- builtin option tables ------------------------------------------------------------------------------

export interface Conv2DOptions {
  readonly padding: number;
  readonly strideW: number;
  readonly strideH: number;
  readonly activation: number;
  readonly dilationW: number;
  readonly dilationH: number;
}

export interface DepthwiseConv2DOptions extends Conv2DOptions {
  readonly depthMultiplier: number;
}

export interface Pool2DOptions {
  readonly padding: number;
  readonly strideW: number;
  readonly strideH: number;
  readonly filterW: number;
  readonly filterH: number;
  readonly activation: number;
}

export function conv2dOptions(t: Table | null): Conv2DOptions {
  // padding 0, stride_w 1, stride_h 2, fused_activation_function 3, dilation_w_factor 4, dilation_h_factor 5
  return {
    padding: t?.int8(0, 'padding') ?? Padding.SAME,
    strideW: t?.int32(1, 'stride_w') ?? 0,
    strideH: t?.int32(2, 'stride_h') ?? 0,
    activation: t?.int8(3, 'fused_activation_function') ?? FusedActivation.NONE,
    dilationW: t?.int32(4, 'dilation_w_factor', 1) ?? 1,
    dilationH: t?.int32(5, 'dilation_h_factor', 1) ?? 1,
  };
}

export function depthwiseConv2dOptions(t: Table | null): DepthwiseConv2DOptions {
  // padding 0, stride_w 1, stride_h 2, depth_multiplier 3, fused_activation_function 4, dilation_w 5, dilation_h 6
  return {
    padding: t?.int8(0, 'padding') ?? Padding.SAME,
    strideW: t?.int32(1, 'stride_w') ?? 0,
    strideH: t?.int32(2, 'stride_h') ?? 0,
    depthMultiplier: t?.int32(3, 'depth_multiplier') ?? 0,
    activation: t?.int8(4, 'fused_activation_function') ?? FusedActivation.NONE,
    dilationW: t?.int32(5, 'dilation_w_factor', 1) ?? 1,
    dilationH: t?.int32(6, 'dilation_h_factor', 1) ?? 1,
  };
}

export function pool2dOptions(t: Table | null): Pool2DOptions {
  // padding 0, stride_w 1, stride_h 2, filter_width 3, filter_height 4, fused_activation_function 5
  return {
    padding: t?.int8(0, 'padding') ?? Padding.SAME,
    strideW: t?.int32(1, 'stride_w') ?? 0,
    strideH: t?.int32(2, 'stride_h') ?? 0,
    filterW: t?.int32(3, 'filter_width') ?? 0,
    filterH: t?.int32(4, 'filter_height') ?? 0,
    activation: t?.int8(5, 'fused_activation_function') ?? FusedActivation.NONE,
  };
}

/** `FullyConnectedOptions`: fused_activation_function 0, weights_format 1, keep_num_dims 2. */
export function fullyConnectedOptions(t: Table | null): { activation: number; weightsFormat: number; keepNumDims: boolean } {
  return {
    activation: t?.int8(0, 'fused_activation_function') ?? FusedActivation.NONE,
    weightsFormat: t?.int8(1, 'weights_format') ?? 0,
    keepNumDims: t?.bool(2, 'keep_num_dims') ?? false,
  };
}

/** `AddOptions`: fused_activation_function 0. */
export function addOptions(t: Table | null): { activation: number } {
  return { activation: t?.int8(0, 'fused_activation_function') ?? FusedActivation.NONE };
}

/** `SoftmaxOptions`: beta 0. */
export function softmaxOptions(t: Table | null): { beta: number } {
  return { beta: t?.float32(0, 'beta') ?? 0 };
}

/** `LeakyReluOptions`: alpha 0 (the schema's default). */
export function leakyReluOptions(t: Table | null): { alpha: number } {
  return { alpha: t?.float32(0, 'alpha') ?? 0 };
}

/** `GeluOptions`: approximate false. */
export function geluOptions(t: Table | null): { approximate: boolean } {
  return { approximate: t?.bool(0, 'approximate') ?? false };
}

/** `ReducerOptions`: keep_dims 0. */
export function reducerOptions(t: Table | null): { keepDims: boolean } {
  return { keepDims: t?.bool(0, 'keep_dims') ?? false };
}

/** `ResizeBilinearOptions`: new_height 0 and new_width 1 (deprecated, unread), align_corners 2, half_pixel_centers 3. */
export function resizeBilinearOptions(t: Table | null): { alignCorners: boolean; halfPixelCenters: boolean } {
  return { alignCorners: t?.bool(2, 'align_corners') ?? false, halfPixelCenters: t?.bool(3, 'half_pixel_centers') ?? false };
}

/** `ResizeNearestNeighborOptions`: align_corners 0, half_pixel_centers 1. */
export function resizeNearestNeighborOptions(t: Table | null): { alignCorners: boolean; halfPixelCenters: boolean } {
  return { alignCorners: t?.bool(0, 'align_corners') ?? false, halfPixelCenters: t?.bool(1, 'half_pixel_centers') ?? false };
}

/** `TransposeConvOptions`: padding 0, stride_w 1, stride_h 2, fused_activation_function 3. */
export function transposeConvOptions(t: Table | null): { padding: number; strideW: number; strideH: number; activation: number } {
  return {
    padding: t?.int8(0, 'padding') ?? Padding.SAME,
    strideW: t?.int32(1, 'stride_w') ?? 0,
    strideH: t?.int32(2, 'stride_h') ?? 0,
    activation: t?.int8(3, 'fused_activation_function') ?? FusedActivation.NONE,
  };
}

/** `MulOptions`, `SubOptions`, `DivOptions`: fused_activation_function 0, as `AddOptions`. */
export function arithmeticOptions(t: Table | null): { activation: number } {
  return { activation: t?.int8(0, 'fused_activation_function') ?? FusedActivation.NONE };
}
