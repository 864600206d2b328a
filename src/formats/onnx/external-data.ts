/**
 * ONNX external data: tensors whose bytes live in other files (`data_location` EXTERNAL, with `location`,
 * `offset` and `length` entries), as `torch.onnx.export` writes models over protobuf's 2 GB and as
 * `onnx.save(..., save_as_external_data=True)` does. The caller hands the files over by their `location`
 * names (`loadModel(bytes, { externalData })`); in Node, `loadModelFile` reads them from the model's folder.
 *
 * Every file a model names is resolved once, before any tensor is decoded, so that the load budget counts the
 * external bytes as part of the model (and no more: a tensor's range is checked against its file, and many
 * tensors over the same bytes do not add up). A location is a plain relative path inside the model's folder:
 * absolute paths, drive letters, backslashes and `..` are refused, as ONNX Runtime refuses them.
 */
import { ExternalDataError, WebcnnError } from '../../errors.ts';
import type { GraphProto, TensorProto } from './proto.ts';

/**
 * The files a model's external tensors name, by their `location` (as the model writes it; a leading `./` is
 * ignored on both sides): a record or map of bytes, or a function that returns a file's bytes (or undefined
 * when there is no such file). The function is called once per file.
 */
export type ExternalDataSource =
  | Readonly<Record<string, Uint8Array>>
  | ReadonlyMap<string, Uint8Array>
  | ((location: string) => Uint8Array | undefined);

/** Where an external tensor's bytes are: a file, and a byte range in it (`length` undefined: to the end). */
export interface ExternalRef {
  readonly location: string;
  readonly offset: number;
  readonly length: number | undefined;
}

/** True when the tensor keeps its data outside the model file. */
export function isExternal(t: TensorProto): boolean {
  return t.data_location === 1 || t.external_data.length > 0;
}

/** `./a/b.bin` and `a/b.bin` name the same file. */
function normalized(location: string): string {
  let s = location;
  while (s.startsWith('./')) s = s.slice(2);
  return s;
}

/**
 * Refuses a location that could name a file outside the model's folder (or none): empty, absolute, a drive
 * letter, backslashes, `..` or empty segments, control characters.
 */
export function checkLocation(location: string, what: string): string {
  const s = normalized(location);
  const bad =
    s.length === 0 ||
    s.length > 1024 ||
    s.startsWith('/') ||
    /^[a-zA-Z]:/.test(s) ||
    s.includes('\\') ||
    // eslint-disable-next-line no-control-regex
    /[\u0000-\u001f\u007f]/.test(s) ||
    s.split('/').some((part) => part === '..' || part === '.' || part === '');
  if (bad) {
    throw new ExternalDataError(
      `${what}: external data location ${JSON.stringify(location.slice(0, 200))} is not a relative path inside the model's folder ` +
        `(absolute paths, drive letters, backslashes and '..' are refused)`,
    );
  }
  return s;
}

/** A non-negative integer entry (`offset`, `length`): decimal digits only. */
function byteCount(value: string | undefined, key: string, what: string): number | undefined {
  if (value === undefined) return undefined;
  const n = /^[0-9]{1,16}$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n)) {
    throw new ExternalDataError(`${what}: external data ${key} ${JSON.stringify(value.slice(0, 40))} is not a non-negative integer`);
  }
  return n;
}

/** The location and byte range of an external tensor, checked (location, integers, no inline data beside). */
export function externalRefOf(t: TensorProto, what: string): ExternalRef {
  const entries = new Map<string, string>();
  for (const e of t.external_data) {
    const key = e.key ?? '';
    if (entries.has(key)) throw new ExternalDataError(`${what}: external data entry '${key.slice(0, 40)}' is given twice`);
    entries.set(key, e.value ?? '');
  }
  const location = entries.get('location');
  if (location === undefined) throw new ExternalDataError(`${what}: data_location is EXTERNAL but there is no 'location' entry`);
  if (t.data_location !== 1) throw new ExternalDataError(`${what}: has external data entries but data_location is not EXTERNAL`);
  if ((t.raw_data?.length ?? 0) > 0) throw new ExternalDataError(`${what}: has both raw_data and external data`);
  const offset = byteCount(entries.get('offset'), 'offset', what) ?? 0;
  const length = byteCount(entries.get('length'), 'length', what);
  return { location: checkLocation(location, what), offset, length };
}

/** The external tensors of a graph: its initializers and the `value` tensors of its Constant nodes. */
function externalTensors(graph: GraphProto): { t: TensorProto; what: string }[] {
  const found: { t: TensorProto; what: string }[] = [];
  graph.initializer.forEach((t, i) => {
    if (isExternal(t)) found.push({ t, what: `initializer '${t.name || i}'` });
  });
  graph.node.forEach((node, i) => {
    for (const a of node.attribute) {
      if (a.t && isExternal(a.t)) found.push({ t: a.t, what: `node ${i} (${node.name || node.op_type}) attribute '${a.name}'` });
    }
  });
  return found;
}

/** The bytes of every file a model's external tensors name, read once each. */
export class ExternalFiles {
  private readonly files = new Map<string, Uint8Array>();

  private constructor() {}

  /** Total bytes of the files, which the load budget counts as part of the model. */
  get bytes(): number {
    let total = 0;
    for (const f of this.files.values()) total += f.length;
    return total;
  }

  /**
   * Resolves every file `graph` names from `source`; a missing file is an `ExternalDataError` naming it and the
   * first tensor that needs it.
   */
  static resolve(graph: GraphProto, source: ExternalDataSource | undefined): ExternalFiles {
    const files = new ExternalFiles();
    const lookup = sourceLookup(source);
    for (const { t, what } of externalTensors(graph)) {
      const { location } = externalRefOf(t, what);
      if (files.files.has(location)) continue;
      let bytes: Uint8Array | undefined;
      try {
        bytes = lookup(location);
      } catch (e) {
        // A resolver's own error (a file it could not read) gets the tensor in front.
        const message = (e instanceof Error ? e.message : String(e)).split('\n')[0];
        if (e instanceof WebcnnError && !(e instanceof ExternalDataError)) throw e;
        throw new ExternalDataError(`${what}: ${message}`, { cause: e });
      }
      if (!bytes) {
        const hint =
          source === undefined
            ? `pass it as loadModel(bytes, { externalData: { '${location}': fileBytes } })`
            : typeof source === 'function'
              ? 'the externalData function returned nothing for it'
              : 'externalData has no entry of that name';
        throw new ExternalDataError(`${what} keeps its data in the external file '${location}', which was not given (${hint})`);
      }
      if (!(bytes instanceof Uint8Array)) {
        throw new ExternalDataError(`externalData '${location}' is a ${Object.prototype.toString.call(bytes).slice(8, -1)}, not a Uint8Array`);
      }
      files.files.set(location, bytes);
    }
    return files;
  }

  /** The `byteLength` bytes of an external tensor (`byteLength`: what its dims and type take). */
  slice(t: TensorProto, what: string, byteLength: number, valueText: string): Uint8Array {
    const ref = externalRefOf(t, what);
    const file = this.files.get(ref.location);
    // resolve() saw every external tensor of the graph; one it did not see sits where webcnn reads no data.
    if (!file) throw new ExternalDataError(`${what} keeps its data in the external file '${ref.location}', which was not given`);
    const length = ref.length ?? file.length - ref.offset;
    if (ref.offset > file.length || length > file.length - ref.offset) {
      throw new ExternalDataError(
        `${what}: external data at offset ${ref.offset}, length ${ref.length ?? 'to the end'} runs past the end of '${ref.location}' (${file.length} bytes)`,
      );
    }
    if (length !== byteLength) {
      throw new ExternalDataError(`${what}: external data in '${ref.location}' has ${length} bytes, expected ${byteLength} for ${valueText}`);
    }
    return file.subarray(ref.offset, ref.offset + length);
  }
}

function sourceLookup(source: ExternalDataSource | undefined): (location: string) => Uint8Array | undefined {
  if (source === undefined) return () => undefined;
  if (typeof source === 'function') return source;
  const entries = new Map<string, Uint8Array>();
  const list = source instanceof Map ? [...source] : Object.entries(source as Readonly<Record<string, Uint8Array>>);
  for (const [name, bytes] of list) entries.set(normalized(name), bytes);
  return (location) => entries.get(location);
}
