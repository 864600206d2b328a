import { describe, expect, it } from 'vitest';
import { WebcnnError } from '../errors.ts';
import { NpyFormatError, isNpy, readNpy, writeNpy } from './npy.ts';

/** A .npy file as NumPy writes it: magic, version, header length, dict padded to 64 bytes, data. */
function npy(dict: string, data: Uint8Array, version = 1): Uint8Array {
  const prefix = version === 1 ? 10 : 12;
  const total = Math.ceil((prefix + dict.length + 1) / 64) * 64;
  const header = dict + ' '.repeat(total - prefix - dict.length - 1) + '\n';
  const out = new Uint8Array(total + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  out.set(new TextEncoder().encode(header), prefix);
  out.set(data, total);
  return out;
}

const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

describe('writeNpy / readNpy', () => {
  it('round-trips float32 of any rank, NumPy-style header aligned to 64 bytes', () => {
    const data = Float32Array.from({ length: 24 }, (_, i) => i * 0.5 - 3);
    for (const shape of [[24], [2, 3, 4], [1, 2, 3, 4], [1, 1, 2, 3, 4]]) {
      const file = writeNpy(data, shape);
      expect(isNpy(file)).toBe(true);
      const headerLen = new DataView(file.buffer).getUint16(8, true);
      expect((10 + headerLen) % 64).toBe(0);
      const back = readNpy(file);
      expect(back.shape).toEqual(shape);
      expect(back.dtype).toBe('<f4');
      expect(back.data).toEqual(data);
    }
    const file = writeNpy(new Float32Array(3), [3]);
    const headerLen = new DataView(file.buffer).getUint16(8, true);
    const header = new TextDecoder().decode(file.subarray(10, 10 + headerLen));
    expect(header).toBe(`{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }`.padEnd(headerLen - 1) + '\n');
    expect(file.length).toBe(128 + 12);
  });

  it('reads a Node Buffer view into a larger pool', () => {
    const file = writeNpy(new Float32Array([1, 2, 3]), [3]);
    const pooled = Buffer.concat([Buffer.alloc(3), Buffer.from(file), Buffer.alloc(5)]).subarray(3, 3 + file.length);
    expect(readNpy(pooled).data).toEqual(new Float32Array([1, 2, 3]));
  });

  it('round-trips scalars and empty arrays', () => {
    expect(readNpy(writeNpy(new Float32Array([4.5]), []))).toMatchObject({ shape: [], data: new Float32Array([4.5]) });
    expect(readNpy(writeNpy(new Float32Array(0), [0, 3]))).toMatchObject({ shape: [0, 3] });
  });

  it('rejects writer input that does not fill the shape', () => {
    expect(() => writeNpy(new Float32Array(5), [2, 3])).toThrow(/5 values do not fill shape \(2, 3\)/);
  });
});

describe('readNpy conversions', () => {
  const dict = (descr: string, shape: string) => `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;

  it('converts float64, float16, big-endian float32 and integer dtypes to float32', () => {
    expect([...readNpy(npy(dict('<f8', '(2,)'), bytesOf(new Float64Array([0.1, -2])))).data]).toEqual([Math.fround(0.1), -2]);
    expect([...readNpy(npy(dict('<f2', '(3,)'), new Uint8Array([0x00, 0x3c, 0x00, 0xc0, 0x01, 0x00]))).data]).toEqual([1, -2, 2 ** -24]);
    expect([...readNpy(npy(dict('>f2', '(1,)'), new Uint8Array([0x3c, 0x00]))).data]).toEqual([1]);
    const be = new Uint8Array(8);
    new DataView(be.buffer).setFloat32(0, 1.5, false);
    new DataView(be.buffer).setFloat32(4, -3, false);
    expect([...readNpy(npy(dict('>f4', '(2,)'), be)).data]).toEqual([1.5, -3]);
    expect([...readNpy(npy(dict('|u1', '(3,)'), new Uint8Array([0, 128, 255]))).data]).toEqual([0, 128, 255]);
    expect([...readNpy(npy(dict('|i1', '(2,)'), new Uint8Array([0xff, 5]))).data]).toEqual([-1, 5]);
    expect([...readNpy(npy(dict('<i4', '(2, 1)'), bytesOf(new Int32Array([-7, 1 << 30])))).data]).toEqual([-7, 1 << 30]);
    expect([...readNpy(npy(dict('<i8', '(2,)'), bytesOf(new BigInt64Array([-3n, 1n << 40n])))).data]).toEqual([-3, 2 ** 40]);
    expect([...readNpy(npy(dict('<u2', '(1,)'), bytesOf(new Uint16Array([65535])))).data]).toEqual([65535]);
    expect([...readNpy(npy(dict('|b1', '(3,)'), new Uint8Array([1, 0, 2]))).data]).toEqual([1, 0, 1]);
  });

  it('accepts key order, quoting and version 2.0 / 3.0 headers as NumPy may write them', () => {
    const data = bytesOf(new Float32Array([1, 2, 3, 4, 5, 6]));
    expect(readNpy(npy(`{"shape": (2, 3), "fortran_order": False, "descr": "<f4"}`, data)).shape).toEqual([2, 3]);
    expect(readNpy(npy(dict('<f4', '(2, 3)'), data, 2)).shape).toEqual([2, 3]);
    expect(readNpy(npy(dict('<f4', '(6,)'), data, 3)).shape).toEqual([6]);
    expect(readNpy(npy(dict('<f4', '(2L, 3L)'), data)).shape).toEqual([2, 3]); // Python 2 longs
  });
});

describe('readNpy errors', () => {
  const data = bytesOf(new Float32Array([1, 2, 3, 4]));
  const expectError = (bytes: Uint8Array, pattern: RegExp) => {
    let error: unknown;
    try {
      readNpy(bytes, 'x.npy');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(NpyFormatError);
    expect(error).toBeInstanceOf(WebcnnError);
    expect((error as Error).message).toMatch(/^x\.npy: /);
    expect((error as Error).message).toMatch(pattern);
  };

  it('rejects files that are not .npy', () => {
    expectError(new TextEncoder().encode('hello world'), /not a \.npy file/);
    expectError(new Uint8Array([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1]), /truncated header/);
    expectError(npy(`{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }`, data).slice(0, 40), /header length 118 runs past the end/);
    const v9 = npy(`{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }`, data);
    v9[6] = 9;
    expectError(v9, /unsupported \.npy format version 9\.0/);
  });

  it('rejects Fortran order, unsupported dtypes and malformed headers', () => {
    expectError(npy(`{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }`, data), /fortran_order is True/);
    expectError(npy(`{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }`, data), /unsupported dtype '<c8'/);
    expectError(npy(`{'descr': '<U3', 'fortran_order': False, 'shape': (1,), }`, data), /unsupported dtype '<U3'/);
    expectError(npy(`{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (4,), }`, data), /structured dtypes/);
    expectError(npy(`{'descr': '<f4', 'fortran_order': False, 'shape': (-4,), }`, data), /shape \(-4\) is not a tuple of non-negative integers/);
    expectError(npy(`{'descr': '<f4', 'fortran_order': False, 'shape': (2.5,), }`, data), /not a tuple of non-negative integers/);
    expectError(npy(`{'descr': '<f4', 'shape': (4,), }`, data), /are all required/);
    expectError(npy(`{'descr': '<f4', 'fortran_order': False, 'shape': (4,), 'x': 1}`, data), /unexpected key 'x'/);
    expectError(npy(`['descr']`, data), /expected '\{'/);
  });

  it('rejects data that does not match the shape', () => {
    expectError(npy(`{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }`, data), /shape \(5\) of <f4 needs 20 data bytes, the file has 16/);
    expectError(npy(`{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }`, data), /needs 12 data bytes, the file has 16/);
    expectError(npy(`{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }`, data), /too large|needs/);
  });
});
