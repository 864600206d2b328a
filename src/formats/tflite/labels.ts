/**
 * Best-effort class labels for a TFLite model. TFLite Support metadata is a nested flatbuffer that names
 * "associated files"; the files themselves are appended to the model as a zip archive (so a `.tflite` with
 * metadata is also a valid zip). Rather than decode the metadata schema, this looks for plain text with one
 * label a line, first in the model's metadata buffers, then in stored (uncompressed) zip entries. Nothing here
 * throws: a malformed archive just yields no labels.
 */

const MIN_LINES = 10;
/** Metadata buffers and zip entries looked at, at most, each. */
const MAX_CANDIDATES = 32;

export interface FoundLabels {
  readonly labels: string[];
  /** Where they came from, e.g. `zip:imagenet_labels.txt` or `metadata:labels`. */
  readonly source: string;
}

/** Splits UTF-8 text into label lines, or null when it does not look like a label list. */
export function parseLabelText(bytes: Uint8Array): string[] | null {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
  if (text.includes('\0')) return null;
  const lines = text.split(/\r?\n/);
  while (lines.length && lines[lines.length - 1].trim() === '') lines.pop();
  if (lines.length < MIN_LINES) return null;
  return lines;
}

function u16(b: Uint8Array, p: number): number {
  return b[p] | (b[p + 1] << 8);
}
function u32(b: Uint8Array, p: number): number {
  return (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
}

/** Uncompressed `.txt` entries of a zip archive appended to (or making up) `bytes`. */
export function storedZipTextEntries(bytes: Uint8Array): { name: string; data: Uint8Array }[] {
  const out: { name: string; data: Uint8Array }[] = [];
  const n = bytes.length;
  // End-of-central-directory record: 22 bytes plus a comment of up to 65535 bytes, at the very end.
  let eocd = -1;
  for (let p = n - 22; p >= Math.max(0, n - 22 - 0xffff); p--) {
    if (u32(bytes, p) === 0x06054b50) {
      eocd = p;
      break;
    }
  }
  if (eocd < 0) return out;
  const entries = u16(bytes, eocd + 10);
  const cdSize = u32(bytes, eocd + 12);
  const cdOffset = u32(bytes, eocd + 16);
  if (cdOffset + cdSize > eocd) return out;
  let p = cdOffset;
  for (let i = 0; i < entries; i++) {
    if (p + 46 > eocd || u32(bytes, p) !== 0x02014b50) break;
    const method = u16(bytes, p + 10);
    const compressed = u32(bytes, p + 20);
    const size = u32(bytes, p + 24);
    const nameLen = u16(bytes, p + 28);
    const extraLen = u16(bytes, p + 30);
    const commentLen = u16(bytes, p + 32);
    const local = u32(bytes, p + 42);
    if (p + 46 + nameLen > eocd) break;
    const name = new TextDecoder().decode(bytes.subarray(p + 46, p + 46 + nameLen));
    p += 46 + nameLen + extraLen + commentLen;
    if (method !== 0 || compressed !== size || !/\.txt$/i.test(name)) continue;
    if (local + 30 > n || u32(bytes, local) !== 0x04034b50) continue;
    const start = local + 30 + u16(bytes, local + 26) + u16(bytes, local + 28);
    if (start + size > n) continue;
    out.push({ name, data: bytes.subarray(start, start + size) });
  }
  return out;
}

/**
 * Finds a label list with `classes` entries (the first output's class count): metadata buffers first, then
 * zip entries, preferring names that mention labels.
 */
export function findLabels(
  bytes: Uint8Array,
  metadataBuffers: readonly { name: string; data: Uint8Array | null }[],
  classes: number,
): FoundLabels | null {
  const candidates: { source: string; data: Uint8Array }[] = [];
  // Each distinct buffer once, and only the first few: a hostile file can list one large buffer many times.
  const seen = new Set<Uint8Array>();
  for (const m of metadataBuffers) {
    if (candidates.length >= MAX_CANDIDATES) break;
    if (m.data && m.name !== 'min_runtime_version' && !seen.has(m.data)) {
      seen.add(m.data);
      candidates.push({ source: `metadata:${m.name}`, data: m.data });
    }
  }
  let zipEntries: { name: string; data: Uint8Array }[] = [];
  try {
    zipEntries = storedZipTextEntries(bytes);
  } catch {
    zipEntries = [];
  }
  zipEntries.sort((a, b) => Number(/label/i.test(b.name)) - Number(/label/i.test(a.name)));
  for (const e of zipEntries.slice(0, MAX_CANDIDATES)) candidates.push({ source: `zip:${e.name}`, data: e.data });
  for (const c of candidates) {
    const labels = parseLabelText(c.data);
    if (labels && labels.length === classes) return { labels, source: c.source };
  }
  return null;
}
