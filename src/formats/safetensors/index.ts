/**
 * safetensors (Hugging Face's tensor file format) reading and writing, and torchvision checkpoints in it.
 *
 * Layout: an unsigned 64-bit little-endian header length N, N bytes of UTF-8 JSON, then the data section.
 * The JSON maps each tensor name to `{ "dtype": "F32", "shape": [..], "data_offsets": [begin, end] }` (offsets
 * relative to the data section) and may hold a `__metadata__` string -> string table.
 *
 * Everything is checked before any tensor is allocated; failures are `ModelFormatError`s naming the tensor.
 */
import { ModelFormatError } from '../../errors.ts';
import type { Graph } from '../../graph/ir.ts';
import type { ParamSource } from '../../models/params.ts';
import { formatShape, mapParams } from '../../models/params.ts';
import { mobilenetV2, mobilenetV2Config } from '../../models/mobilenet-v2.ts';
import { resnet50 } from '../../models/resnet.ts';
import type { LoadedModel, ModelBytes } from '../model.ts';
import { TORCHVISION_PREPROCESSING, asModelBytes } from '../model.ts';
import { decodeBF16, decodeF16, encodeBF16, encodeF16 } from '../half.ts';
import { checkGraphLimits, checkedElementCount, LoadBudget } from '../limits.ts';

/** Bytes per element of every dtype the format defines (the ones this reader can at least skip). */
const DTYPE_SIZES: Readonly<Record<string, number>> = {
  F64: 8, F32: 4, F16: 2, BF16: 2,
  I64: 8, I32: 4, I16: 2, I8: 1,
  U64: 8, U32: 4, U16: 2, U8: 1,
  BOOL: 1, F8_E4M3: 1, F8_E5M2: 1,
};

/** Dtypes decoded to float32. */
const FLOAT_DTYPES = new Set(['F64', 'F32', 'F16', 'BF16']);
/** Dtypes skipped silently: integer buffers such as BatchNorm's `num_batches_tracked`. */
const SKIPPED_DTYPES = new Set(['I64']);

/** The official implementation refuses headers over 100 MB; so does this one. */
const MAX_HEADER_BYTES = 100_000_000;

export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U64' | 'U32' | 'U16' | 'U8' | 'BOOL' | 'F8_E4M3' | 'F8_E5M2';

export interface SafetensorsTensorInfo {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  /** Absolute byte range in the file. */
  readonly begin: number;
  readonly end: number;
}

export interface SafetensorsHeader {
  /** Tensors in the order of their data. */
  readonly tensors: readonly SafetensorsTensorInfo[];
  readonly metadata: Readonly<Record<string, string>>;
  /** Absolute offset of the data section. */
  readonly dataStart: number;
}

/**
 * True when `bytes` starts like a safetensors file: a header length that fits in the file, followed by a
 * `{` (after optional whitespace). Cheap: reads a few bytes.
 */
export function isSafetensors(bytes: Uint8Array): boolean {
  if (bytes.length < 10) return false;
  const n = readHeaderLength(bytes);
  if (n === null || n < 2 || 8 + n > bytes.length) return false;
  for (let i = 8; i < 8 + n; i++) {
    const c = bytes[i];
    if (c === 0x7b) return true; // '{'
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return false;
  }
  return false;
}

function readHeaderLength(bytes: Uint8Array): number | null {
  if (bytes.length < 8) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, 8);
  const lo = view.getUint32(0, true);
  const hi = view.getUint32(4, true);
  if (hi >= 0x200000) return null; // beyond Number.MAX_SAFE_INTEGER
  return hi * 0x100000000 + lo;
}

/** Parses and validates the header: every check the format allows, and no tensor data is read. */
export function readSafetensorsHeader(bytes: Uint8Array): SafetensorsHeader {
  if (bytes.length < 8) throw new ModelFormatError(`safetensors: file is ${bytes.length} bytes, too short for the 8-byte header length`);
  const n = readHeaderLength(bytes);
  if (n === null || n > bytes.length - 8) {
    const shown = n === null ? 'over 2^53' : String(n);
    throw new ModelFormatError(`safetensors: header length ${shown} exceeds the file size (${bytes.length} bytes)`);
  }
  if (n > MAX_HEADER_BYTES) throw new ModelFormatError(`safetensors: header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  if (n < 2) throw new ModelFormatError(`safetensors: header length ${n} is too short for a JSON object`);
  const dataStart = 8 + n;
  const dataBytes = bytes.length - dataStart;

  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, dataStart)));
  } catch (e) {
    throw new ModelFormatError(`safetensors: header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new ModelFormatError('safetensors: header is not a JSON object');
  }

  let metadata: Record<string, string> = {};
  const tensors: SafetensorsTensorInfo[] = [];
  for (const [name, entry] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = parseMetadata(entry);
      continue;
    }
    const where = `safetensors: tensor "${name}"`;
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) throw new ModelFormatError(`${where}: entry is not an object`);
    const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
    if (typeof dtype !== 'string' || !(dtype in DTYPE_SIZES)) {
      throw new ModelFormatError(`${where}: unknown dtype ${JSON.stringify(dtype)}`);
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new ModelFormatError(`${where}: shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      throw new ModelFormatError(`${where}: data_offsets ${JSON.stringify(offsets)} is not a pair of non-negative integers`);
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end) throw new ModelFormatError(`${where}: data_offsets [${begin}, ${end}] end before they begin`);
    if (end > dataBytes) {
      throw new ModelFormatError(`${where}: data_offsets [${begin}, ${end}] run past the data section (${dataBytes} bytes)`);
    }
    let elements = 1;
    for (const d of shape as number[]) elements *= d;
    const expected = elements * DTYPE_SIZES[dtype];
    if (!Number.isSafeInteger(expected) || expected !== end - begin) {
      throw new ModelFormatError(
        `${where}: ${dtype} shape ${formatShape(shape as number[])} needs ${expected} bytes, data_offsets [${begin}, ${end}] hold ${end - begin}`,
      );
    }
    checkedElementCount(shape as number[], where);
    tensors.push({ name, dtype: dtype as SafetensorsDtype, shape: shape as number[], begin: dataStart + begin, end: dataStart + end });
  }

  tensors.sort((a, b) => a.begin - b.begin || a.end - b.end);
  for (let i = 1; i < tensors.length; i++) {
    const prev = tensors[i - 1];
    const t = tensors[i];
    if (t.begin < prev.end) {
      const range = (x: SafetensorsTensorInfo) => `[${x.begin - dataStart}, ${x.end - dataStart}]`;
      throw new ModelFormatError(`safetensors: tensor "${t.name}" data_offsets ${range(t)} overlap tensor "${prev.name}" ${range(prev)}`);
    }
  }
  return { tensors, metadata, dataStart };
}

function parseMetadata(entry: unknown): Record<string, string> {
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
    throw new ModelFormatError('safetensors: __metadata__ is not an object');
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(entry as Record<string, unknown>)) {
    if (typeof v !== 'string') throw new ModelFormatError(`safetensors: __metadata__ value of "${k}" is not a string`);
    out[k] = v;
  }
  return out;
}

export interface SafetensorsContents {
  /** Every floating-point tensor, decoded to float32, in data order. */
  readonly tensors: Map<string, Float32Array>;
  readonly shapes: Map<string, readonly number[]>;
  /** Original dtype of each decoded tensor. */
  readonly dtypes: Map<string, SafetensorsDtype>;
  /** Integer tensors that were skipped (`num_batches_tracked`). */
  readonly skipped: readonly string[];
  readonly metadata: Readonly<Record<string, string>>;
}

/** Decodes every tensor (F32, F16, BF16, F64 -> float32; I64 skipped) with its shape and the file's metadata. */
export function decodeSafetensors(bytes: Uint8Array): SafetensorsContents {
  const header = readSafetensorsHeader(bytes);
  for (const t of header.tensors) {
    if (!FLOAT_DTYPES.has(t.dtype) && !SKIPPED_DTYPES.has(t.dtype)) {
      throw new ModelFormatError(`safetensors: tensor "${t.name}" has dtype ${t.dtype}; only F32, F16, BF16 and F64 (and skipped I64) are supported`);
    }
  }
  const tensors = new Map<string, Float32Array>();
  const shapes = new Map<string, readonly number[]>();
  const dtypes = new Map<string, SafetensorsDtype>();
  const skipped: string[] = [];
  const budget = new LoadBudget(bytes.length);
  for (const t of header.tensors) {
    if (SKIPPED_DTYPES.has(t.dtype)) {
      skipped.push(t.name);
      continue;
    }
    budget.charge(((t.end - t.begin) / DTYPE_SIZES[t.dtype]) * 4, `safetensors: tensor "${t.name}"`);
    tensors.set(t.name, decodeTensor(bytes, t));
    shapes.set(t.name, t.shape);
    dtypes.set(t.name, t.dtype);
  }
  return { tensors, shapes, dtypes, skipped, metadata: header.metadata };
}

/** Every floating-point tensor of a safetensors file, as float32 (see `decodeSafetensors`). */
export function readSafetensors(bytes: Uint8Array): Map<string, Float32Array> {
  return decodeSafetensors(bytes).tensors;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** A fresh, 0-offset copy of `bytes[begin, end)`. */
function copyBytes(bytes: Uint8Array, begin: number, end: number): Uint8Array {
  const out = new Uint8Array(end - begin);
  out.set(bytes.subarray(begin, end));
  return out;
}

function decodeTensor(bytes: Uint8Array, t: SafetensorsTensorInfo): Float32Array {
  const count = (t.end - t.begin) / DTYPE_SIZES[t.dtype];
  switch (t.dtype) {
    case 'F32': {
      // Copy (also aligns); not `bytes.slice`, which shares memory when `bytes` is a Node Buffer.
      if (LITTLE_ENDIAN) return new Float32Array(copyBytes(bytes, t.begin, t.end).buffer);
      const view = new DataView(bytes.buffer, bytes.byteOffset + t.begin, t.end - t.begin);
      return Float32Array.from({ length: count }, (_, i) => view.getFloat32(i * 4, true));
    }
    case 'F64': {
      const view = new DataView(bytes.buffer, bytes.byteOffset + t.begin, t.end - t.begin);
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(i * 8, true);
      return out;
    }
    case 'F16':
      return decodeF16(bytes, t.begin, count);
    case 'BF16':
      return decodeBF16(bytes, t.begin, count);
    default:
      throw new ModelFormatError(`safetensors: tensor "${t.name}" has dtype ${t.dtype}`);
  }
}

export interface SafetensorsWriteTensor {
  readonly data: Float32Array;
  readonly shape: readonly number[];
  /** Stored dtype; default F32. */
  readonly dtype?: 'F32' | 'F16' | 'BF16';
}

/**
 * Serializes float32 tensors (stored as F32, F16 or BF16, rounding to nearest even) in the order given, with
 * an optional `__metadata__` table. The header is padded with spaces to a multiple of 8 bytes, as the
 * reference implementation does, so the data section is aligned.
 */
export function writeSafetensors(
  tensors: Record<string, SafetensorsWriteTensor> | ReadonlyMap<string, SafetensorsWriteTensor>,
  metadata?: Readonly<Record<string, string>>,
): Uint8Array {
  const entries = tensors instanceof Map ? [...tensors] : Object.entries(tensors as Record<string, SafetensorsWriteTensor>);
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  const layout: { t: SafetensorsWriteTensor; dtype: string; begin: number }[] = [];
  for (const [name, t] of entries) {
    if (name === '__metadata__') throw new ModelFormatError('safetensors: "__metadata__" is not a valid tensor name');
    const dtype = t.dtype ?? 'F32';
    if (dtype !== 'F32' && dtype !== 'F16' && dtype !== 'BF16') throw new ModelFormatError(`safetensors: tensor "${name}": cannot write dtype ${dtype}`);
    let elements = 1;
    for (const d of t.shape) {
      if (!Number.isSafeInteger(d) || d < 0) throw new ModelFormatError(`safetensors: tensor "${name}": invalid shape ${formatShape(t.shape)}`);
      elements *= d;
    }
    if (!(t.data instanceof Float32Array) || t.data.length !== elements) {
      throw new ModelFormatError(`safetensors: tensor "${name}" has ${t.data?.length} values, shape ${formatShape(t.shape)} needs ${elements}`);
    }
    const size = elements * DTYPE_SIZES[dtype];
    header[name] = { dtype, shape: [...t.shape], data_offsets: [offset, offset + size] };
    layout.push({ t, dtype, begin: offset });
    offset += size;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, json.length % 0x100000000, true);
  view.setUint32(4, Math.floor(json.length / 0x100000000), true);
  out.set(json, 8);
  const dataStart = 8 + json.length;
  for (const { t, dtype, begin } of layout) {
    const at = dataStart + begin;
    if (dtype === 'F16') encodeF16(t.data, out, at);
    else if (dtype === 'BF16') encodeBF16(t.data, out, at);
    else if (LITTLE_ENDIAN) out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    else for (let i = 0; i < t.data.length; i++) view.setFloat32(at + i * 4, t.data[i], true);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// torchvision checkpoints

export type TorchvisionArchitecture = 'mobilenet_v2' | 'resnet50';
export const TORCHVISION_ARCHITECTURES: readonly TorchvisionArchitecture[] = ['mobilenet_v2', 'resnet50'];

export interface SafetensorsLoadOptions {
  /** Which torchvision network the state_dict belongs to (safetensors files carry no graph). */
  architecture: TorchvisionArchitecture;
  /** Default: rows of `classifier.1.weight` (MobileNetV2) or `fc.weight` (ResNet-50). */
  numClasses?: number;
  /** Square input side; default 224. */
  inputSize?: number;
  /** MobileNetV2 `width_mult`; default: inferred from the stem and last conv widths (1 for the standard model). */
  widthMultiplier?: number;
}

/** Common torchvision width multipliers tried when the checkpoint's widths are not those of width 1. */
const WIDTH_CANDIDATES = [1, 0.5, 0.75, 0.35, 1.3, 1.4, 0.25, 0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9, 1.1, 1.2, 1.5, 1.75, 2];

/**
 * Builds a torchvision network from a safetensors `state_dict` (torchvision parameter names; a DataParallel
 * `module.` prefix is dropped). The graph takes `input` `[1, 3, inputSize, inputSize]` and returns logits.
 */
export function loadSafetensors(bytes: ModelBytes, options: SafetensorsLoadOptions): LoadedModel {
  const data = asModelBytes(bytes, 'safetensors');
  const arch = options?.architecture;
  if (!TORCHVISION_ARCHITECTURES.includes(arch)) {
    throw new ModelFormatError(
      `safetensors: unknown architecture ${JSON.stringify(arch)}; expected one of ${TORCHVISION_ARCHITECTURES.join(', ')}`,
    );
  }
  const inputSize = options.inputSize ?? 224;
  if (!Number.isInteger(inputSize) || inputSize < 1) throw new ModelFormatError(`safetensors: inputSize must be a positive integer, got ${inputSize}`);
  const file = decodeSafetensors(data);
  const { tensors, shapes } = stripPrefix(file);

  const classifierName = arch === 'mobilenet_v2' ? 'classifier.1.weight' : 'fc.weight';
  const classifierShape = shapes.get(classifierName);
  if (!classifierShape) throw new ModelFormatError(`safetensors: missing parameter "${classifierName}" (is this a torchvision ${arch} state_dict?)`);
  const numClasses = options.numClasses ?? classifierShape[0];
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new ModelFormatError(`safetensors: "${classifierName}" has shape ${formatShape(classifierShape)}; cannot infer the class count`);
  }

  const params = shapeCheckedParams(tensors, shapes);
  let graph: Graph;
  let widthMultiplier: number | undefined;
  if (arch === 'mobilenet_v2') {
    widthMultiplier = options.widthMultiplier ?? inferWidthMultiplier(shapes);
    graph = mobilenetV2({ params, numClasses, inputSize, widthMultiplier });
  } else {
    graph = resnet50({ params, numClasses, inputSize });
  }
  checkGraphLimits(graph, data.length, 'safetensors');
  const unused = params.unusedNames();
  const dtypes = [...new Set(file.dtypes.values())].sort().join(', ');

  const metadata: Record<string, string | number> = {
    architecture: arch,
    'tensor dtypes': dtypes || 'none',
    tensors: tensors.size + file.skipped.length,
  };
  if (widthMultiplier !== undefined) metadata['width multiplier'] = widthMultiplier;
  if (file.skipped.length) metadata['skipped integer tensors'] = file.skipped.length;
  if (unused.length) metadata['unused tensors'] = `${unused.length} (${unused.slice(0, 3).join(', ')}${unused.length > 3 ? ', ...' : ''})`;
  for (const [k, v] of Object.entries(file.metadata)) metadata[`metadata.${k}`] = v;

  return {
    format: 'safetensors',
    graph,
    inputDims: [[1, 3, inputSize, inputSize]],
    outputDims: [[1, numClasses]],
    preprocessing: { ...TORCHVISION_PREPROCESSING, size: [inputSize, inputSize] },
    outputsProbabilities: false,
    metadata,
  };
}

function stripPrefix(file: SafetensorsContents): { tensors: Map<string, Float32Array>; shapes: Map<string, readonly number[]> } {
  const names = [...file.tensors.keys()];
  const prefix = names.length > 0 && names.every((n) => n.startsWith('module.')) ? 'module.' : '';
  if (!prefix) return file;
  const strip = <T>(m: Map<string, T>) => new Map([...m].map(([k, v]) => [k.slice(prefix.length), v]));
  return { tensors: strip(file.tensors), shapes: strip(file.shapes) };
}

/** `mapParams`, plus a check that each tensor's stored shape is exactly the one the builder asks for. */
function shapeCheckedParams(tensors: Map<string, Float32Array>, shapes: Map<string, readonly number[]>): ParamSource & { unusedNames(): string[] } {
  const inner = mapParams(tensors);
  return {
    get(name, shape) {
      const stored = shapes.get(name);
      if (stored && formatShape(stored) !== formatShape(shape)) {
        throw new ModelFormatError(`parameter "${name}" has shape ${formatShape(stored)} in the file, the network needs ${formatShape(shape)}`);
      }
      return inner.get(name, shape);
    },
    unusedNames: () => inner.unusedNames(),
  };
}

/**
 * Picks the MobileNetV2 width multiplier whose channel plan (stem, every block's projection, last conv) matches
 * the checkpoint's conv weights; 1 when none does (the builder then names the first mismatching parameter).
 */
function inferWidthMultiplier(shapes: Map<string, readonly number[]>): number {
  const rows = (name: string): number | undefined => shapes.get(name)?.[0];
  if (rows('features.0.0.weight') === undefined) return 1;
  for (const w of WIDTH_CANDIDATES) {
    const cfg = mobilenetV2Config({ widthMultiplier: w });
    const lastConv = `features.${cfg.blocks.length + 1}.0.weight`;
    const fits =
      rows('features.0.0.weight') === cfg.stemChannels &&
      rows(lastConv) === cfg.lastChannel &&
      cfg.blocks.every((b) => rows(`${b.prefix}.conv.${b.expandRatio === 1 ? 1 : 2}.weight`) === b.outC);
    if (fits) return w;
  }
  return 1;
}
