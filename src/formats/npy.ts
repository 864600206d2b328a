/**
 * NumPy `.npy` files (format versions 1.0, 2.0 and 3.0), as `webcnn run` reads its inputs and writes its
 * outputs. Reading converts any float, integer or bool dtype (either byte order) to float32; only C order is
 * accepted. Writing produces little-endian float32, version 1.0.
 *
 * Layout: magic `\x93NUMPY`, major and minor version bytes, the header length (u16 LE in 1.0, u32 LE in 2.0+),
 * then a Python dict literal such as `{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 224, 224), }`
 * padded with spaces and a newline so that the data starts at a multiple of 64 bytes.
 */
import { WebcnnError } from '../errors.ts';
import { decodeF16 } from './half.ts';

/** A `.npy` file that is malformed or holds something this reader does not convert. */
export class NpyFormatError extends WebcnnError {
  override readonly name = 'NpyFormatError';
}

export interface NpyArray {
  readonly data: Float32Array;
  /** `[]` for a scalar. */
  readonly shape: number[];
  /** The file's dtype descriptor, e.g. `<f4`, `<f8`, `|u1`. */
  readonly dtype: string;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** True when `bytes` starts with the `.npy` magic string. */
export function isNpy(bytes: Uint8Array): boolean {
  return bytes.length >= 6 && MAGIC.every((b, i) => bytes[i] === b);
}

/** Reads a `.npy` file into float32 values (C order) with its shape. `name` is used in error messages. */
export function readNpy(bytes: Uint8Array, name = '.npy file'): NpyArray {
  const fail = (msg: string): never => {
    throw new NpyFormatError(`${name}: ${msg}`);
  };
  if (!isNpy(bytes)) fail('not a .npy file (missing the \\x93NUMPY magic)');
  if (bytes.length < 10) fail('truncated header');
  const major = bytes[6];
  let headerLen: number;
  let headerStart: number;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) fail('truncated header');
    headerLen = view.getUint32(8, true);
    headerStart = 12;
  } else {
    return fail(`unsupported .npy format version ${major}.${bytes[7]}`);
  }
  const dataStart = headerStart + headerLen;
  if (dataStart > bytes.length) fail(`header length ${headerLen} runs past the end of the file (${bytes.length} bytes)`);
  let header: string;
  try {
    header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1', { fatal: major === 3 }).decode(bytes.subarray(headerStart, dataStart));
  } catch {
    return fail('header is not valid UTF-8');
  }
  const { descr, fortranOrder, shape } = parseHeader(header, fail);
  if (fortranOrder) fail('fortran_order is True; save the array in C order (np.ascontiguousarray) first');

  const dtype = parseDescr(descr, fail);
  let count = 1;
  for (const d of shape) count *= d;
  const expectedBytes = count * dtype.size;
  if (!Number.isSafeInteger(expectedBytes)) fail(`shape (${shape.join(', ')}) is too large`);
  const actual = bytes.length - dataStart;
  if (actual !== expectedBytes) {
    fail(`shape (${shape.join(', ')}) of ${descr} needs ${expectedBytes} data bytes, the file has ${actual}`);
  }
  return { data: convert(bytes, dataStart, count, dtype), shape, dtype: descr };
}

interface Dtype {
  readonly kind: 'f' | 'i' | 'u' | 'b';
  readonly size: number;
  readonly little: boolean;
}

function parseDescr(descr: string, fail: (msg: string) => never): Dtype {
  const m = /^([<>|=])([fiub])(\d+)$/.exec(descr);
  if (!m) return fail(`unsupported dtype '${descr}' (only numeric and bool arrays convert to float32)`);
  const [, order, kind, sizeText] = m;
  const size = Number(sizeText);
  const ok = { f: [2, 4, 8], i: [1, 2, 4, 8], u: [1, 2, 4, 8], b: [1] }[kind as 'f' | 'i' | 'u' | 'b'];
  if (!ok.includes(size)) fail(`unsupported dtype '${descr}'`);
  const little = order === '<' || order === '|' || (order === '=' && LITTLE_ENDIAN);
  return { kind: kind as Dtype['kind'], size, little };
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function convert(bytes: Uint8Array, start: number, count: number, t: Dtype): Float32Array {
  if (t.kind === 'f' && t.size === 4 && t.little && LITTLE_ENDIAN) {
    // Copy (also aligns); not `bytes.slice`, which shares memory when `bytes` is a Node Buffer.
    const copy = new Uint8Array(count * 4);
    copy.set(bytes.subarray(start, start + count * 4));
    return new Float32Array(copy.buffer);
  }
  if (t.kind === 'f' && t.size === 2 && t.little) return decodeF16(bytes, start, count);
  const view = new DataView(bytes.buffer, bytes.byteOffset + start, count * t.size);
  const out = new Float32Array(count);
  const le = t.little;
  let read: (offset: number) => number;
  switch (`${t.kind}${t.size}`) {
    case 'f2': {
      const swapped = new Uint8Array(count * 2);
      for (let i = 0; i < count * 2; i += 2) {
        swapped[i] = bytes[start + i + 1];
        swapped[i + 1] = bytes[start + i];
      }
      return decodeF16(swapped, 0, count);
    }
    case 'f4': read = (o) => view.getFloat32(o, le); break;
    case 'f8': read = (o) => view.getFloat64(o, le); break;
    case 'i1': read = (o) => view.getInt8(o); break;
    case 'i2': read = (o) => view.getInt16(o, le); break;
    case 'i4': read = (o) => view.getInt32(o, le); break;
    case 'i8': read = (o) => Number(view.getBigInt64(o, le)); break;
    case 'u1': read = (o) => view.getUint8(o); break;
    case 'u2': read = (o) => view.getUint16(o, le); break;
    case 'u4': read = (o) => view.getUint32(o, le); break;
    case 'u8': read = (o) => Number(view.getBigUint64(o, le)); break;
    case 'b1': read = (o) => (view.getUint8(o) !== 0 ? 1 : 0); break;
    default: throw new NpyFormatError(`unsupported dtype ${t.kind}${t.size}`);
  }
  for (let i = 0; i < count; i++) out[i] = read(i * t.size);
  return out;
}

/**
 * Parses the header dict literal. Accepts exactly the keys `descr`, `fortran_order` and `shape` (any order,
 * single or double quotes, trailing commas), as NumPy writes them.
 */
function parseHeader(header: string, fail: (msg: string) => never): { descr: string; fortranOrder: boolean; shape: number[] } {
  let i = 0;
  const src = header;
  const ws = () => {
    while (i < src.length && /\s/.test(src[i])) i++;
  };
  const expect = (c: string) => {
    ws();
    if (src[i] !== c) fail(`malformed header: expected '${c}' at offset ${i} in ${JSON.stringify(src.trim())}`);
    i++;
  };
  const string = (): string => {
    ws();
    const q = src[i];
    if (q !== "'" && q !== '"') fail(`malformed header: expected a string at offset ${i}`);
    const end = src.indexOf(q, i + 1);
    if (end < 0) fail('malformed header: unterminated string');
    const s = src.slice(i + 1, end);
    i = end + 1;
    return s;
  };
  const result: { descr?: string; fortranOrder?: boolean; shape?: number[] } = {};
  expect('{');
  for (;;) {
    ws();
    if (src[i] === '}') {
      i++;
      break;
    }
    const key = string();
    expect(':');
    ws();
    if (key === 'descr') {
      if (src[i] === '[') fail('structured dtypes are not supported');
      result.descr = string();
    } else if (key === 'fortran_order') {
      const m = /^(True|False)/.exec(src.slice(i));
      if (!m) fail('malformed header: fortran_order is not True or False');
      result.fortranOrder = m![1] === 'True';
      i += m![0].length;
    } else if (key === 'shape') {
      expect('(');
      const close = src.indexOf(')', i);
      if (close < 0) fail('malformed header: unterminated shape tuple');
      const parts = src.slice(i, close).split(',').map((s) => s.trim());
      if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
      const shape = parts.map((p) => (/^\d+L?$/.test(p) ? Number(p.replace('L', '')) : NaN));
      if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
        fail(`shape (${parts.join(', ')}) is not a tuple of non-negative integers`);
      }
      result.shape = shape;
      i = close + 1;
    } else {
      fail(`malformed header: unexpected key '${key}'`);
    }
    ws();
    if (src[i] === ',') i++;
  }
  ws();
  if (i !== src.length) fail('malformed header: text after the dict');
  if (result.descr === undefined || result.fortranOrder === undefined || result.shape === undefined) {
    fail("malformed header: 'descr', 'fortran_order' and 'shape' are all required");
  }
  return { descr: result.descr!, fortranOrder: result.fortranOrder!, shape: result.shape! };
}

/** Writes float32 values as a little-endian `<f4` C-order `.npy` (version 1.0; 2.0 if the header needs it). */
export function writeNpy(data: Float32Array, shape: readonly number[]): Uint8Array {
  let count = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new NpyFormatError(`writeNpy: invalid shape (${shape.join(', ')})`);
    count *= d;
  }
  if (data.length !== count) throw new NpyFormatError(`writeNpy: ${data.length} values do not fill shape (${shape.join(', ')}) of ${count}`);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeText}, }`;
  let version = 1;
  let prefix = 10;
  let total = Math.ceil((prefix + dict.length + 1) / 64) * 64;
  if (total - prefix > 0xffff) {
    version = 2;
    prefix = 12;
    total = Math.ceil((prefix + dict.length + 1) / 64) * 64;
  }
  const header = dict + ' '.repeat(total - prefix - dict.length - 1) + '\n';
  const out = new Uint8Array(total + count * 4);
  out.set(MAGIC, 0);
  out[6] = version;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  for (let k = 0; k < header.length; k++) out[prefix + k] = header.charCodeAt(k);
  if (LITTLE_ENDIAN) out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), total);
  else for (let k = 0; k < count; k++) view.setFloat32(total + k * 4, data[k], true);
  return out;
}
