/**
 * Bounds-checked flatbuffer table access on top of the `flatbuffers` runtime's `ByteBuffer`.
 *
 * The runtime's own `Table` helpers (`__offset`, `__indirect`, `__vector`, ...) trust every offset in the
 * file; a model file is untrusted input, so every position read here is checked against the buffer first and
 * a bad one becomes a `ModelFormatError` that names the field (`subgraphs[0].tensors[12].shape`) and the byte
 * position, never a `RangeError` or a silently wrong `undefined` from deep inside.
 */
import { ByteBuffer } from 'flatbuffers';
import { ModelFormatError } from '../../errors.ts';

/** Rejects vectors whose element count could only come from a corrupt file (they would have to fit anyway). */
const MAX_VECTOR_LENGTH = 0x7fffffff;
/** Strings (names, descriptions) longer than this are cut (see `Table.string`). */
export const MAX_STRING_BYTES = 1024;

export class FlatReader {
  readonly bb: ByteBuffer;
  readonly size: number;
  /**
   * Decoded vectors and strings by kind and position. A flatbuffer is a DAG: a hostile file can point every
   * entry of a large vector at one large shape or name, so each position is decoded once and shared (callers
   * treat the arrays as read-only); decoded data then stays within the file's size.
   */
  private readonly decoded = new Map<string, unknown>();

  constructor(readonly bytes: Uint8Array) {
    this.bb = new ByteBuffer(bytes);
    this.size = bytes.length;
  }

  fail(what: string, message: string): never {
    throw new ModelFormatError(`tflite: ${what}: ${message}`);
  }

  /** Checks that `[pos, pos + len)` lies inside the file. */
  need(pos: number, len: number, what: string): void {
    if (!Number.isSafeInteger(pos) || !Number.isSafeInteger(len) || pos < 0 || len < 0 || pos + len > this.size) {
      this.fail(what, `${len} byte(s) at offset ${pos} lie outside the ${this.size}-byte file (truncated or corrupt)`);
    }
  }

  u8(pos: number, what: string): number {
    this.need(pos, 1, what);
    return this.bb.readUint8(pos);
  }
  i8(pos: number, what: string): number {
    this.need(pos, 1, what);
    return this.bb.readInt8(pos);
  }
  u16(pos: number, what: string): number {
    this.need(pos, 2, what);
    return this.bb.readUint16(pos);
  }
  i32(pos: number, what: string): number {
    this.need(pos, 4, what);
    return this.bb.readInt32(pos);
  }
  u32(pos: number, what: string): number {
    this.need(pos, 4, what);
    return this.bb.readUint32(pos);
  }
  f32(pos: number, what: string): number {
    this.need(pos, 4, what);
    return this.bb.readFloat32(pos);
  }
  /** A 64-bit integer that must fit a JS number exactly. */
  i64(pos: number, what: string): number {
    this.need(pos, 8, what);
    const v = this.bb.readInt64(pos);
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
      this.fail(what, `64-bit value ${v} at offset ${pos} is out of range`);
    }
    return Number(v);
  }
  u64(pos: number, what: string): number {
    this.need(pos, 8, what);
    const v = this.bb.readUint64(pos);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(what, `64-bit value ${v} at offset ${pos} is out of range`);
    return Number(v);
  }

  /** `decode()` once per `key`; later calls return the same value. */
  memo<T>(key: string, decode: () => T): T {
    if (this.decoded.has(key)) return this.decoded.get(key) as T;
    const value = decode();
    this.decoded.set(key, value);
    return value;
  }

  /** Follows the unsigned forward offset stored at `pos`. */
  indirect(pos: number, what: string): number {
    const off = this.u32(pos, what);
    const target = pos + off;
    this.need(target, 1, what);
    return target;
  }

  private readonly tablesAt = new Map<number, Table>();

  /** The table at `pos`, one object per position (vectors may repeat a table). */
  tableAt(pos: number, where: string): Table {
    let t = this.tablesAt.get(pos);
    if (!t) this.tablesAt.set(pos, (t = new Table(this, pos, where)));
    return t;
  }

  /** The root table of a finished buffer (optionally checking the file identifier first). */
  root(name: string): Table {
    if (this.size < 8) this.fail(name, `file is ${this.size} bytes, too short for a flatbuffer`);
    return new Table(this, this.indirect(0, `${name} root offset`), name);
  }
}

/** A vector's element count and the position of its first element. */
export interface VectorRef {
  readonly start: number;
  readonly length: number;
}

/** One flatbuffer table, its vtable checked on construction. Fields are addressed by schema index. */
export class Table {
  private readonly vtable: number;
  private readonly vtableSize: number;
  private readonly objectSize: number;

  constructor(
    readonly r: FlatReader,
    readonly pos: number,
    /** Path of this table in the model, for error messages. */
    readonly where: string,
  ) {
    const soff = r.i32(pos, `${where} (table)`);
    const vt = pos - soff;
    r.need(vt, 4, `${where} (vtable)`);
    this.vtable = vt;
    this.vtableSize = r.u16(vt, `${where} (vtable)`);
    this.objectSize = r.u16(vt + 2, `${where} (vtable)`);
    if (this.vtableSize < 4 || this.vtableSize % 2 !== 0) {
      r.fail(`${where} (vtable)`, `vtable at offset ${vt} has invalid size ${this.vtableSize}`);
    }
    r.need(vt, this.vtableSize, `${where} (vtable)`);
    if (this.objectSize < 4) r.fail(`${where} (table)`, `table at offset ${pos} has invalid size ${this.objectSize}`);
    r.need(pos, this.objectSize, `${where} (table)`);
  }

  private field(index: number, name: string, bytes: number): number {
    const voff = 4 + 2 * index;
    if (voff + 2 > this.vtableSize) return 0;
    const off = this.r.u16(this.vtable + voff, `${this.where}.${name}`);
    if (off === 0) return 0;
    if (off + bytes > this.objectSize) {
      this.r.fail(`${this.where}.${name}`, `field at +${off} runs past the ${this.objectSize}-byte table at offset ${this.pos}`);
    }
    return this.pos + off;
  }

  has(index: number): boolean {
    const voff = 4 + 2 * index;
    return voff + 2 <= this.vtableSize && this.r.u16(this.vtable + voff, this.where) !== 0;
  }

  int8(index: number, name: string, def = 0): number {
    const p = this.field(index, name, 1);
    return p ? this.r.i8(p, `${this.where}.${name}`) : def;
  }
  uint8(index: number, name: string, def = 0): number {
    const p = this.field(index, name, 1);
    return p ? this.r.u8(p, `${this.where}.${name}`) : def;
  }
  bool(index: number, name: string, def = false): boolean {
    const p = this.field(index, name, 1);
    return p ? this.r.u8(p, `${this.where}.${name}`) !== 0 : def;
  }
  int32(index: number, name: string, def = 0): number {
    const p = this.field(index, name, 4);
    return p ? this.r.i32(p, `${this.where}.${name}`) : def;
  }
  uint32(index: number, name: string, def = 0): number {
    const p = this.field(index, name, 4);
    return p ? this.r.u32(p, `${this.where}.${name}`) : def;
  }
  float32(index: number, name: string, def = 0): number {
    const p = this.field(index, name, 4);
    return p ? this.r.f32(p, `${this.where}.${name}`) : def;
  }
  uint64(index: number, name: string, def = 0): number {
    const p = this.field(index, name, 8);
    return p ? this.r.u64(p, `${this.where}.${name}`) : def;
  }

  table(index: number, name: string): Table | null {
    const p = this.field(index, name, 4);
    if (!p) return null;
    const what = `${this.where}.${name}`;
    return new Table(this.r, this.r.indirect(p, what), what);
  }

  /** A vector of `elemSize`-byte scalars or offsets; null when the field is absent. */
  vector(index: number, name: string, elemSize: number): VectorRef | null {
    const p = this.field(index, name, 4);
    if (!p) return null;
    const what = `${this.where}.${name}`;
    const v = this.r.indirect(p, what);
    const length = this.r.u32(v, `${what} (length)`);
    if (length > MAX_VECTOR_LENGTH) this.r.fail(what, `vector length ${length} is out of range`);
    this.r.need(v + 4, length * elemSize, `${what} (${length} element(s) of ${elemSize} byte(s))`);
    return { start: v + 4, length };
  }

  /**
   * A string, decoded once per position and cut to its first `MAX_STRING_BYTES` bytes (names and descriptions
   * end up in messages and node names; a megabyte-long one is corrupt or hostile, never useful).
   */
  string(index: number, name: string): string | null {
    const v = this.vector(index, name, 1);
    if (!v) return null;
    return this.r.memo(`s${v.start}`, () => {
      const cut = v.length > MAX_STRING_BYTES;
      const text = new TextDecoder().decode(this.r.bytes.subarray(v.start, v.start + Math.min(v.length, MAX_STRING_BYTES)));
      return cut ? `${text}…` : text;
    });
  }

  /**
   * A vector of tables. With `distinct`, two entries that are the same table are a `ModelFormatError`: real
   * writers create every tensor and operator table anew, and a file that repeats one a million times would
   * otherwise decode to a million objects from 4 bytes each.
   */
  tables(index: number, name: string, distinct = false): Table[] {
    const v = this.vector(index, name, 4);
    if (!v) return [];
    const out: Table[] = [];
    const seen = distinct ? new Map<number, number>() : null;
    for (let i = 0; i < v.length; i++) {
      const e = v.start + 4 * i;
      const pos = this.r.indirect(e, `${this.where}.${name}[${i}]`);
      if (seen) {
        const first = seen.get(pos);
        if (first !== undefined) this.r.fail(`${this.where}.${name}[${i}]`, `is the same table as entry ${first}`);
        seen.set(pos, i);
      }
      out.push(this.r.tableAt(pos, `${this.where}.${name}[${i}]`));
    }
    return out;
  }

  /** A vector of int32 (shared with every other reader of the same position: read-only). */
  int32s(index: number, name: string): readonly number[] | null {
    const v = this.vector(index, name, 4);
    if (!v) return null;
    return this.r.memo(`i${v.start}:${v.length}`, () => {
      const out: number[] = new Array(v.length);
      for (let i = 0; i < v.length; i++) out[i] = this.r.bb.readInt32(v.start + 4 * i);
      return out;
    });
  }

  float32s(index: number, name: string): readonly number[] | null {
    const v = this.vector(index, name, 4);
    if (!v) return null;
    return this.r.memo(`f${v.start}:${v.length}`, () => {
      const out: number[] = new Array(v.length);
      for (let i = 0; i < v.length; i++) out[i] = this.r.bb.readFloat32(v.start + 4 * i);
      return out;
    });
  }

  int64s(index: number, name: string): readonly number[] | null {
    const v = this.vector(index, name, 8);
    if (!v) return null;
    return this.r.memo(`l${v.start}:${v.length}`, () => {
      const out: number[] = new Array(v.length);
      for (let i = 0; i < v.length; i++) out[i] = this.r.i64(v.start + 8 * i, `${this.where}.${name}[${i}]`);
      return out;
    });
  }

  /** A `[ubyte]` vector as a view into the file (no copy). */
  bytes(index: number, name: string): Uint8Array | null {
    const v = this.vector(index, name, 1);
    if (!v) return null;
    return this.r.bytes.subarray(v.start, v.start + v.length);
  }
}
