import { describe, expect, it } from 'vitest';
import { ModelFormatError } from '../../errors.ts';
import { decodeBF16, decodeF16, floatToBF16, floatToHalf, halfToFloat } from '../half.ts';
import { decodeSafetensors, isSafetensors, readSafetensors, readSafetensorsHeader, writeSafetensors } from './index.ts';

/** A safetensors file from a raw header object (or text) and data bytes, for malformed-file tests. */
function rawFile(header: unknown, data: Uint8Array = new Uint8Array(0), headerLength?: bigint): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, headerLength ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

const f32Bytes = (values: number[]) => new Uint8Array(new Float32Array(values).buffer);

describe('half and bfloat16 conversions', () => {
  it('decode every binary16 class: zeros, subnormals, normals, infinities, NaN', () => {
    expect(halfToFloat(0x0000)).toBe(0);
    expect(Object.is(halfToFloat(0x8000), -0)).toBe(true);
    expect(halfToFloat(0x0001)).toBe(2 ** -24); // smallest subnormal
    expect(halfToFloat(0x03ff)).toBe(1023 * 2 ** -24); // largest subnormal
    expect(halfToFloat(0x0400)).toBe(2 ** -14); // smallest normal
    expect(halfToFloat(0x3c00)).toBe(1);
    expect(halfToFloat(0xc000)).toBe(-2);
    expect(halfToFloat(0x7bff)).toBe(65504);
    expect(halfToFloat(0x7c00)).toBe(Infinity);
    expect(halfToFloat(0xfc00)).toBe(-Infinity);
    expect(halfToFloat(0x7e00)).toBeNaN();
    expect(halfToFloat(0x7c01)).toBeNaN();
  });

  it('encode to binary16 with round-to-nearest-even, overflow to infinity and subnormals', () => {
    expect(floatToHalf(1)).toBe(0x3c00);
    expect(floatToHalf(-0)).toBe(0x8000);
    expect(floatToHalf(65504)).toBe(0x7bff);
    expect(floatToHalf(65520)).toBe(0x7c00); // rounds up past the largest finite half
    expect(floatToHalf(1e6)).toBe(0x7c00);
    expect(floatToHalf(-Infinity)).toBe(0xfc00);
    expect(halfToFloat(floatToHalf(NaN))).toBeNaN();
    expect(floatToHalf(2 ** -24)).toBe(0x0001);
    expect(floatToHalf(2 ** -25)).toBe(0x0000); // tie: rounds to even (zero)
    expect(floatToHalf(1.5 * 2 ** -25)).toBe(0x0001);
    expect(floatToHalf(1 + 2 ** -11)).toBe(0x3c00); // tie between 1 and 1 + 2^-10: even
    expect(floatToHalf(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie: rounds up to even
    expect(floatToHalf(1023.5 * 2 ** -24)).toBe(0x0400); // subnormal rounds up into the normals
    // Every finite half survives a round trip through float32.
    const broken: number[] = [];
    for (let h = 0; h < 0x10000; h++) {
      const v = halfToFloat(h);
      if (!Number.isNaN(v) && floatToHalf(v) !== h) broken.push(h);
    }
    expect(broken).toEqual([]);
  });

  it('round bfloat16 to nearest even', () => {
    expect(floatToBF16(1)).toBe(0x3f80);
    expect(floatToBF16(-2)).toBe(0xc000);
    expect(floatToBF16(1 + 2 ** -8)).toBe(0x3f80); // tie -> even
    expect(floatToBF16(1 + 3 * 2 ** -8)).toBe(0x3f82);
    expect(floatToBF16(Infinity)).toBe(0x7f80);
    const nan = decodeBF16(new Uint8Array([floatToBF16(NaN) & 0xff, floatToBF16(NaN) >> 8]), 0, 1)[0];
    expect(nan).toBeNaN();
  });

  it('decode unaligned byte ranges', () => {
    const bytes = new Uint8Array([0xff, 0x00, 0x3c, 0x00, 0xc0]);
    expect([...decodeF16(bytes, 1, 2)]).toEqual([1, -2]);
    expect([...decodeBF16(new Uint8Array([7, 0x80, 0x3f]), 1, 1)]).toEqual([1]);
  });
});

describe('safetensors read/write', () => {
  const values = new Float32Array([0, -0, 1, -2.5, 3.14159, 1e-3, 65504, -1e-6, 1e-8, 123456.789, Infinity, NaN]);

  it('round-trips F32 exactly, with metadata and empty and scalar tensors', () => {
    const bytes = writeSafetensors(
      {
        a: { data: values, shape: [3, 4] },
        scalar: { data: new Float32Array([7]), shape: [] },
        empty: { data: new Float32Array(0), shape: [0, 5] },
      },
      { format: 'pt', note: 'test' },
    );
    expect(isSafetensors(bytes)).toBe(true);
    const header = readSafetensorsHeader(bytes);
    expect(header.dataStart % 8).toBe(0);
    expect(header.metadata).toEqual({ format: 'pt', note: 'test' });
    const file = decodeSafetensors(bytes);
    expect([...file.tensors.keys()]).toEqual(['a', 'scalar', 'empty']);
    expect(file.shapes.get('a')).toEqual([3, 4]);
    expect(file.shapes.get('scalar')).toEqual([]);
    expect(Object.is(file.tensors.get('a')![1], -0)).toBe(true);
    expect(file.tensors.get('a')).toEqual(values);
    expect([...file.tensors.get('scalar')!]).toEqual([7]);
    expect(file.tensors.get('empty')!.length).toBe(0);
  });

  it('round-trips F16 and BF16 to the rounded values (subnormals, infinities, NaN included)', () => {
    const bytes = writeSafetensors({ h: { data: values, shape: [12], dtype: 'F16' }, b: { data: values, shape: [12], dtype: 'BF16' } });
    const file = decodeSafetensors(bytes);
    expect(file.dtypes.get('h')).toBe('F16');
    expect(file.dtypes.get('b')).toBe('BF16');
    const h = file.tensors.get('h')!;
    const b = file.tensors.get('b')!;
    values.forEach((v, i) => {
      if (Number.isNaN(v)) {
        expect(h[i]).toBeNaN();
        expect(b[i]).toBeNaN();
        return;
      }
      expect(h[i]).toBe(halfToFloat(floatToHalf(v)));
      if (Number.isFinite(v)) {
        if (Math.abs(v) <= 65504 && Math.abs(v) >= 2 ** -14) expect(Math.abs(h[i] - v)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -11);
        expect(Math.abs(b[i] - v)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -8);
      }
    });
    expect(h[6]).toBe(65504);
    expect(h[7]).toBe(-17 * 2 ** -24); // -1e-6 is a half subnormal
    expect(h[8]).toBe(0); // 1e-8 underflows
    expect(h[9]).toBe(Infinity); // overflows
    expect(b[10]).toBe(Infinity);
  });

  it('reads unaligned F32 data and F64 tensors, and skips I64 ones', () => {
    const data = new Uint8Array(3 + 8 + 16 + 8);
    data.set(f32Bytes([1.5, -2]), 3);
    new DataView(data.buffer).setFloat64(11, 0.1, true);
    new DataView(data.buffer).setFloat64(19, -3, true);
    new DataView(data.buffer).setBigInt64(27, 42n, true);
    const bytes = rawFile(
      {
        __metadata__: { format: 'pt' },
        pad: { dtype: 'U8', shape: [3], data_offsets: [0, 3] },
        x: { dtype: 'F32', shape: [2], data_offsets: [3, 11] },
        d: { dtype: 'F64', shape: [1, 2], data_offsets: [11, 27] },
        'bn.num_batches_tracked': { dtype: 'I64', shape: [], data_offsets: [27, 35] },
      },
      data,
    );
    // U8 is a dtype the format has but the loader does not convert.
    expect(() => readSafetensors(bytes)).toThrow(/tensor "pad" has dtype U8/);
    const noPad = rawFile(
      {
        x: { dtype: 'F32', shape: [2], data_offsets: [3, 11] },
        d: { dtype: 'F64', shape: [1, 2], data_offsets: [11, 27] },
        'bn.num_batches_tracked': { dtype: 'I64', shape: [], data_offsets: [27, 35] },
      },
      data,
    );
    const file = decodeSafetensors(noPad);
    expect([...file.tensors.get('x')!]).toEqual([1.5, -2]);
    expect([...file.tensors.get('d')!]).toEqual([Math.fround(0.1), -3]);
    expect(file.skipped).toEqual(['bn.num_batches_tracked']);
    expect(file.tensors.has('bn.num_batches_tracked')).toBe(false);
  });

  it('reads a subarray view (file bytes not at offset 0 of their buffer)', () => {
    const bytes = writeSafetensors({ w: { data: new Float32Array([1, 2, 3]), shape: [3] } });
    const big = new Uint8Array(bytes.length + 5);
    big.set(bytes, 5);
    expect([...readSafetensors(big.subarray(5))!.get('w')!]).toEqual([1, 2, 3]);
  });

  it('reads a Node Buffer from a shared pool (as readFileSync returns) without reading past its tensors', () => {
    const bytes = writeSafetensors({ a: { data: new Float32Array([1, 2]), shape: [2] }, b: { data: new Float32Array([3]), shape: [1] } });
    const pooled = Buffer.concat([Buffer.alloc(13, 7), Buffer.from(bytes), Buffer.alloc(9, 7)]).subarray(13, 13 + bytes.length);
    const m = readSafetensors(pooled);
    expect([...m.get('a')!]).toEqual([1, 2]);
    expect([...m.get('b')!]).toEqual([3]);
  });

  it('validates writer input', () => {
    expect(() => writeSafetensors({ w: { data: new Float32Array(3), shape: [2, 2] } })).toThrow(/has 3 values, shape \[2, 2\] needs 4/);
    expect(() => writeSafetensors({ w: { data: new Float32Array(0), shape: [-1] } })).toThrow(ModelFormatError);
  });
});

describe('safetensors validation', () => {
  const expectError = (bytes: Uint8Array, pattern: RegExp) => {
    expect(() => readSafetensors(bytes)).toThrow(ModelFormatError);
    expect(() => readSafetensors(bytes)).toThrow(pattern);
  };
  const tensor = (dtype: string, shape: unknown, offsets: unknown) => ({ dtype, shape, data_offsets: offsets });

  it('rejects files too short for a header', () => {
    expectError(new Uint8Array(5), /too short/);
    expect(isSafetensors(new Uint8Array(5))).toBe(false);
  });

  it('rejects a hostile header length before allocating anything', () => {
    expectError(rawFile({}, new Uint8Array(0), 2n ** 63n), /header length over 2\^53 exceeds the file size/);
    expectError(rawFile({}, new Uint8Array(0), 2n ** 40n), /header length 1099511627776 exceeds the file size \(10 bytes\)/);
    expectError(rawFile({}, new Uint8Array(0), 3n), /header length 3 exceeds the file size \(10 bytes\)/);
    expectError(rawFile('{"a": 1}', new Uint8Array(0), 3n), /header is not valid UTF-8 JSON/); // cut short
    expectError(rawFile('{}', new Uint8Array(0), 1n), /header length 1 is too short/);
    expect(isSafetensors(rawFile({}, new Uint8Array(0), 2n ** 40n))).toBe(false);
  });

  it('rejects bad JSON, non-objects and malformed entries', () => {
    expectError(rawFile('{"a": '), /not valid UTF-8 JSON/);
    expectError(rawFile('[1, 2]'), /not a JSON object/);
    expectError(rawFile({ w: 5 }), /tensor "w": entry is not an object/);
    expectError(rawFile({ __metadata__: { a: 1 } }), /__metadata__ value of "a" is not a string/);
    expectError(rawFile({ w: tensor('F33', [1], [0, 4]) }, new Uint8Array(4)), /tensor "w": unknown dtype "F33"/);
    expectError(rawFile({ w: tensor('F32', [-1], [0, 4]) }, new Uint8Array(4)), /tensor "w": shape \[-1\] is not a list of non-negative integers/);
    expectError(rawFile({ w: tensor('F32', [1.5], [0, 4]) }, new Uint8Array(4)), /tensor "w": shape/);
    expectError(rawFile({ w: tensor('F32', [1], [0]) }, new Uint8Array(4)), /tensor "w": data_offsets \[0\] is not a pair/);
    expectError(rawFile({ w: tensor('F32', [1], [4, 0]) }, new Uint8Array(4)), /tensor "w": data_offsets \[4, 0\] end before they begin/);
  });

  it('rejects offsets outside the data section', () => {
    expectError(rawFile({ w: tensor('F32', [2], [0, 8]) }, new Uint8Array(4)), /tensor "w": data_offsets \[0, 8\] run past the data section \(4 bytes\)/);
  });

  it('rejects a byte size that does not match the shape and dtype', () => {
    expectError(rawFile({ w: tensor('F32', [3], [0, 8]) }, new Uint8Array(8)), /tensor "w": F32 shape \[3\] needs 12 bytes, data_offsets \[0, 8\] hold 8/);
    expectError(rawFile({ w: tensor('F16', [2, 2], [0, 16]) }, new Uint8Array(16)), /needs 8 bytes/);
    // A shape whose byte size overflows is caught, not allocated.
    expectError(rawFile({ w: tensor('F32', [2 ** 40, 2 ** 20], [0, 8]) }, new Uint8Array(8)), /tensor "w": F32 shape/);
  });

  it('rejects overlapping tensors', () => {
    const data = new Uint8Array(12);
    expectError(
      rawFile({ a: tensor('F32', [2], [0, 8]), b: tensor('F32', [2], [4, 12]) }, data),
      /tensor "b" data_offsets \[4, 12\] overlap tensor "a" \[0, 8\]/,
    );
    // Listed out of order in the JSON is fine as long as the ranges are disjoint.
    const ok = rawFile({ b: tensor('F32', [1], [4, 8]), a: tensor('F32', [1], [0, 4]) }, f32Bytes([1, 2]));
    const m = readSafetensors(ok);
    expect([...m.keys()]).toEqual(['a', 'b']);
    expect([...m.get('b')!]).toEqual([2]);
  });
});
