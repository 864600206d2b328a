/**
 * safetensors-aware fuzz cases: the header JSON of a seed parsed, edited (hostile shapes and data offsets,
 * swapped dtypes, dropped, renamed and duplicated entries, odd metadata) and written back with a correct or a
 * hostile header length; and hostile headers built from scratch (deep nesting, many entries, huge lengths).
 */
import type { Rng } from '../../src/util/random.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = any;

const DTYPES = ['F64', 'F32', 'F16', 'BF16', 'I64', 'I32', 'I16', 'I8', 'U64', 'U32', 'U16', 'U8', 'BOOL', 'F8_E4M3', 'F8_E5M2', 'f32', 'Q4', ''];
const HOSTILE_VALUES: unknown[] = [0, -1, 1.5, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 53 + 2, 1e300, -0, '3', null, [], {}, true];

function splitHeader(bytes: Uint8Array): { header: Obj; data: Uint8Array } | null {
  if (bytes.length < 8) return null;
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (n > bytes.length - 8) return null;
  try {
    return { header: JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))), data: bytes.subarray(8 + n) };
  } catch {
    return null;
  }
}

/** Header text + data, with the true header length or `lengthOverride`. */
export function joinHeader(text: string, data: Uint8Array, lengthOverride?: bigint): Uint8Array {
  const json = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, lengthOverride ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

type Edit = (rng: Rng, h: Obj, data: Uint8Array) => string;

const tensorNames = (h: Obj) => Object.keys(h).filter((k) => k !== '__metadata__');
/** A random tensor entry that is still an object (earlier edits may have replaced it). */
function entryOf(rng: Rng, h: Obj): [string, Obj] | null {
  const names = tensorNames(h).filter((k) => h[k] !== null && typeof h[k] === 'object' && !Array.isArray(h[k]));
  if (!names.length) return null;
  const name = rng.pick(names);
  return [name, h[name]];
}

const EDITS: Record<string, Edit> = {
  shape(rng, h) {
    const found = entryOf(rng, h);
    if (!found || !Array.isArray(found[1].shape)) return 'no shape';
    const [name, e] = found;
    const r = rng.next();
    if (r < 0.6 && e.shape.length) e.shape[rng.int(0, e.shape.length - 1)] = rng.pick(HOSTILE_VALUES);
    else if (r < 0.8) e.shape = rng.pick([[], [0], [2 ** 26, 2 ** 26], new Array(rng.int(5, 2000)).fill(1), 'x', null]);
    else e.shape = [...e.shape].reverse();
    return `${name} shape ${JSON.stringify(e.shape).slice(0, 80)}`;
  },
  offsets(rng, h, data) {
    const found = entryOf(rng, h);
    if (!found) return 'no entry';
    const [name, e] = found;
    const r = rng.next();
    const [b, end] = Array.isArray(e.data_offsets) ? e.data_offsets : [0, 0];
    if (r < 0.2) e.data_offsets = [end, b];
    else if (r < 0.4) e.data_offsets = [b, rng.pick([data.length, data.length + 1, 2 ** 53, 2 ** 64, -1])];
    else if (r < 0.6) e.data_offsets = [rng.pick(HOSTILE_VALUES), end];
    else if (r < 0.8) {
      const other = entryOf(rng, h);
      e.data_offsets = other?.[1].data_offsets ?? [0, 4];
    } else e.data_offsets = rng.pick([[0], [0, 4, 8], 'x', null, { 0: 0, 1: 4 }]);
    return `${name} data_offsets ${JSON.stringify(e.data_offsets)}`;
  },
  dtype(rng, h) {
    const found = entryOf(rng, h);
    if (!found) return 'no entry';
    const [name, e] = found;
    e.dtype = rng.next() < 0.9 ? rng.pick(DTYPES) : rng.pick(HOSTILE_VALUES);
    return `${name} dtype ${JSON.stringify(e.dtype)}`;
  },
  entries(rng, h) {
    const names = tensorNames(h);
    if (!names.length) return 'no entries';
    const r = rng.next();
    const name = rng.pick(names);
    if (r < 0.3) delete h[name];
    else if (r < 0.6) {
      const to = rng.pick(['__proto__', 'constructor', '', 'module.x', `${name}.extra`, 'classifier.1.weight', 'fc.weight', '__metadata__', 'toString']);
      h[to] = h[name];
      delete h[name];
      return `rename ${name} -> ${to}`;
    } else if (r < 0.8) h[name] = rng.pick(HOSTILE_VALUES);
    else h[name] = { ...(typeof h[name] === 'object' ? h[name] : {}), extra: rng.pick(HOSTILE_VALUES) };
    return `entry ${name} edited`;
  },
  metadata(rng, h) {
    h.__metadata__ = rng.pick([{ format: 'pt' }, { n: 1 }, [], 'x', null, { __proto__: 'x' }, { a: { b: 'c' } }]);
    return `__metadata__ ${JSON.stringify(h.__metadata__)}`;
  },
};

const EDIT_NAMES = Object.keys(EDITS);

/** A seed's header edited one to three times; the header length is usually right, sometimes hostile. */
export function editedSafetensors(rng: Rng, seed: Uint8Array): { bytes: Uint8Array; what: string } {
  const split = splitHeader(seed);
  if (!split) return { bytes: seed, what: 'unparsable seed' };
  const { header, data } = split;
  const what: string[] = [];
  const n = rng.next() < 0.7 ? 1 : rng.int(2, 3);
  for (let k = 0; k < n; k++) {
    const name = rng.pick(EDIT_NAMES);
    what.push(`${name}: ${EDITS[name](rng, header, data)}`);
  }
  let text = JSON.stringify(header);
  if (rng.next() < 0.1) {
    // A duplicated key: JSON.parse keeps the last.
    const name = rng.pick([...tensorNames(header), 'x']);
    text = `${text.slice(0, -1)},${JSON.stringify(name)}:{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`;
    what.push(`duplicate key ${name}`);
  }
  if (rng.next() < 0.1) {
    text = text.slice(0, rng.int(0, text.length));
    what.push('header text cut');
  }
  let length: bigint | undefined;
  if (rng.next() < 0.15) {
    length = rng.pick([0n, 1n, 2n, 0xffffffffffffffffn, 1n << 53n, BigInt(seed.length), BigInt(text.length + 1), BigInt(text.length - 1), 100_000_001n]);
    what.push(`header length ${length}`);
  }
  return { bytes: joinHeader(text, data, length), what: what.join('; ') };
}

/** Hostile headers from scratch. */
export function hostileSafetensors(rng: Rng): { bytes: Uint8Array; what: string } {
  const empty = new Uint8Array(0);
  switch (rng.int(0, 5)) {
    case 0: {
      const depth = rng.pick([100, 10000, 200000]);
      return { bytes: joinHeader(`{"a":${'['.repeat(depth)}${']'.repeat(depth)}}`, empty), what: `JSON nested ${depth} deep` };
    }
    case 1: {
      const n = rng.pick([1000, 50000]);
      const parts = Array.from({ length: n }, (_, i) => `"t${i}":{"dtype":"F32","shape":[1],"data_offsets":[${4 * i},${4 * i + 4}]}`);
      return { bytes: joinHeader(`{${parts.join(',')}}`, new Uint8Array(4 * n)), what: `${n} tensors` };
    }
    case 2: {
      const n = rng.pick([1000, 100000]);
      return { bytes: joinHeader(`{"t":{"dtype":"F32","shape":[${new Array(n).fill(1).join(',')}],"data_offsets":[0,4]}}`, new Uint8Array(4)), what: `shape of rank ${n}` };
    }
    case 3: {
      const dim = rng.pick([2 ** 30, 2 ** 31, 2 ** 40]);
      return { bytes: joinHeader(`{"classifier.1.weight":{"dtype":"F32","shape":[${dim},0],"data_offsets":[0,0]}}`, empty), what: `classifier of ${dim} classes, no data` };
    }
    case 4: {
      const n = rng.pick([1000, 100000]);
      return { bytes: joinHeader(`{"__metadata__":{${Array.from({ length: n }, (_, i) => `"k${i}":"v"`).join(',')}}}`, empty), what: `${n} metadata entries` };
    }
    default: {
      const length = rng.pick([0xffffffffffffffffn, 1n << 53n, 100_000_001n, 7n]);
      return { bytes: joinHeader('{}', empty, length), what: `header length ${length}` };
    }
  }
}
