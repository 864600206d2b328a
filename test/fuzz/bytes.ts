/**
 * Format-blind mutations of a file's bytes: bit flips, byte and word overwrites with boundary values, huge
 * little-endian integers, truncation, splices of two files, chunk deletion, duplication and insertion.
 */
import type { Rng } from '../../src/util/random.ts';

/** Boundary values for 32-bit fields (lengths, offsets, dims, indices). */
export const INTERESTING_32 = [
  0, 1, 2, 3, 4, 7, 8, 16, 0x7f, 0x80, 0xff, 0x100, 0x3ff, 0x400, 0x7fff, 0x8000, 0xffff, 0x10000, 0x100000,
  0x3fffffff, 0x40000000, 0x7ffffffe, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff,
];

/** Where in the file to mutate: anywhere, or (for large files) biased to the first and last 64 KiB. */
function position(rng: Rng, size: number, large: boolean): number {
  if (size === 0) return 0;
  if (large && rng.next() < 0.7) {
    const edge = Math.min(size, 65536);
    return rng.next() < 0.5 ? rng.int(0, edge - 1) : size - 1 - rng.int(0, edge - 1);
  }
  return rng.int(0, size - 1);
}

function interesting32(rng: Rng, size: number): number {
  const r = rng.next();
  if (r < 0.6) return rng.pick(INTERESTING_32);
  if (r < 0.8) return (size + rng.int(-8, 8)) >>> 0;
  return rng.int(0, 0xffffffff) >>> 0;
}

// Copies are `new Uint8Array(b)`: `slice` on a Node Buffer (what protobufjs encodes to) is a view.
export type ByteMutation = (rng: Rng, bytes: Uint8Array, large: boolean, other: () => Uint8Array) => { bytes: Uint8Array; what: string };

export const BYTE_MUTATIONS: Record<string, ByteMutation> = {
  bitflip(rng, b, large) {
    const out = new Uint8Array(b);
    const n = rng.int(1, 8);
    for (let k = 0; k < n; k++) {
      const p = position(rng, out.length, large);
      out[p] ^= 1 << rng.int(0, 7);
    }
    return { bytes: out, what: `${n} bit flip(s)` };
  },
  byte(rng, b, large) {
    const out = new Uint8Array(b);
    const n = rng.int(1, 4);
    for (let k = 0; k < n; k++) out[position(rng, out.length, large)] = rng.pick([0, 1, 0x7f, 0x80, 0xff, rng.int(0, 255)]);
    return { bytes: out, what: `${n} byte overwrite(s)` };
  },
  word(rng, b, large) {
    const out = new Uint8Array(b);
    if (out.length < 4) return { bytes: out, what: 'word (file too short)' };
    const p = position(rng, out.length - 3, large) & ~(rng.next() < 0.8 ? 3 : 0);
    const v = interesting32(rng, out.length);
    new DataView(out.buffer).setUint32(Math.min(p, out.length - 4), v, true);
    return { bytes: out, what: `u32 0x${v.toString(16)} at ${p}` };
  },
  huge64(rng, b, large) {
    const out = new Uint8Array(b);
    if (out.length < 8) return { bytes: out, what: 'huge64 (file too short)' };
    const p = Math.min(position(rng, out.length, large) & ~7, out.length - 8);
    const v = rng.pick([0xffffffffffffffffn, 0x7fffffffffffffffn, 0x8000000000000000n, 1n << 53n, (1n << 53n) + 1n, 1n << 32n, BigInt(out.length) * 2n]);
    new DataView(out.buffer).setBigUint64(p, v, true);
    return { bytes: out, what: `u64 ${v} at ${p}` };
  },
  truncate(rng, b) {
    const r = rng.next();
    const n = r < 0.3 ? rng.int(0, Math.min(b.length, 64)) : r < 0.6 ? b.length - rng.int(1, Math.min(b.length, 64)) : rng.int(0, b.length);
    return { bytes: new Uint8Array(b.subarray(0, Math.max(0, n))), what: `truncate to ${Math.max(0, n)}` };
  },
  splice(rng, b, _large, other) {
    const o = other();
    const i = rng.int(0, b.length);
    const j = rng.int(0, o.length);
    const out = new Uint8Array(i + o.length - j);
    out.set(b.subarray(0, i));
    out.set(o.subarray(j), i);
    return { bytes: out, what: `splice [0, ${i}) + other[${j}, ${o.length})` };
  },
  deleteChunk(rng, b, large) {
    const p = position(rng, b.length, large);
    const n = rng.int(1, Math.min(256, b.length - p));
    const out = new Uint8Array(b.length - n);
    out.set(b.subarray(0, p));
    out.set(b.subarray(p + n), p);
    return { bytes: out, what: `delete ${n} at ${p}` };
  },
  duplicateChunk(rng, b, large) {
    const p = position(rng, b.length, large);
    const n = rng.int(1, Math.min(512, b.length - p));
    const at = position(rng, b.length, large);
    const out = new Uint8Array(b.length + n);
    out.set(b.subarray(0, at));
    out.set(b.subarray(p, p + n), at);
    out.set(b.subarray(at), at + n);
    return { bytes: out, what: `copy ${n} from ${p} to ${at}` };
  },
  insert(rng, b, large) {
    const at = position(rng, b.length, large);
    const n = rng.int(1, 64);
    const out = new Uint8Array(b.length + n);
    out.set(b.subarray(0, at));
    for (let i = 0; i < n; i++) out[at + i] = rng.int(0, 255);
    out.set(b.subarray(at), at + n);
    return { bytes: out, what: `insert ${n} random at ${at}` };
  },
};

const NAMES = Object.keys(BYTE_MUTATIONS);

/** One to three stacked byte mutations. */
export function mutateBytes(rng: Rng, bytes: Uint8Array, large: boolean, other: () => Uint8Array): { bytes: Uint8Array; what: string } {
  let out = bytes;
  const what: string[] = [];
  const n = rng.next() < 0.6 ? 1 : rng.int(2, 3);
  for (let k = 0; k < n; k++) {
    const name = rng.pick(NAMES);
    const r = BYTE_MUTATIONS[name](rng, out, large, other);
    out = r.bytes;
    what.push(r.what);
  }
  return { bytes: out, what: what.join('; ') };
}
