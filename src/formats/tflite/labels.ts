/**
 * Best-effort class labels for a TFLite model. TFLite Support metadata is a nested flatbuffer that names
 * "associated files"; the files themselves are appended to the model as a zip archive (so a `.tflite` with
 * metadata is also a valid zip). Rather than decode the metadata schema, this looks for plain text with one
 * label a line, first in the model's metadata buffers, then in stored (uncompressed) zip entries. Nothing here
 * throws: a truncated or corrupt archive yields no labels and a one-line `archiveProblem` for the loader to warn.
 */

const MIN_LINES = 10;
/** Metadata buffers and zip entries looked at, at most, each. */
const MAX_CANDIDATES = 32;

export interface FoundLabels {
  readonly labels: string[];
  /** Where they came from, e.g. `zip:imagenet_labels.txt` or `metadata:labels`. */
  readonly source: string;
}

export interface LabelSearch {
  readonly found: FoundLabels | null;
  /** Why the zip archive appended to the model could not be read (truncated or corrupt), when it could not. */
  readonly archiveProblem: string | null;
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

/** Whether a zip local file header plausibly starts at `p` (checking only the fields that lie inside the file). */
function isLocalHeader(b: Uint8Array, p: number): boolean {
  if (p + 10 > b.length || u32(b, p) !== 0x04034b50) return false;
  // Version needed (1.0 to 6.3), no undefined flag bits, stored or deflated.
  if (b[p + 4] < 10 || b[p + 4] > 63 || b[p + 5] !== 0 || (b[p + 7] & 0xc0) !== 0) return false;
  if (u16(b, p + 8) !== 0 && u16(b, p + 8) !== 8) return false;
  if (p + 28 > b.length) return true;
  const nameLen = u16(b, p + 26);
  if (nameLen === 0 || nameLen > 1024) return false;
  for (let i = p + 30; i < Math.min(p + 30 + nameLen, b.length); i++) if (b[i] < 0x20 || b[i] > 0x7e) return false;
  return true;
}

/** Offset of the first plausible zip local file header in `bytes`, or -1. */
function firstLocalHeader(b: Uint8Array): number {
  for (let p = b.indexOf(0x50); p >= 0; p = b.indexOf(0x50, p + 1)) if (isLocalHeader(b, p)) return p;
  return -1;
}

/**
 * Uncompressed `.txt` entries of a zip archive appended to (or making up) `bytes`, and, when `bytes` holds a zip
 * entry but no archive that reads cleanly (a cut file loses the central directory at the end), what is wrong.
 */
export function storedZipTextEntries(bytes: Uint8Array): { entries: { name: string; data: Uint8Array }[]; problem: string | null } {
  const entries: { name: string; data: Uint8Array }[] = [];
  const defect = readZip(bytes, entries);
  if (!defect) return { entries, problem: null };
  // No archive at all (most models) is not a problem; a local file header without a readable archive is.
  const start = firstLocalHeader(bytes);
  return { entries, problem: start < 0 ? null : `the zip archive of associated files (labels) appended at byte ${start} is truncated or corrupt (${defect})` };
}

/** Reads the archive's stored `.txt` entries into `out`; returns what is wrong with it, or null when it reads cleanly. */
function readZip(bytes: Uint8Array, out: { name: string; data: Uint8Array }[]): string | null {
  const n = bytes.length;
  // End-of-central-directory record: 22 bytes plus a comment of up to 65535 bytes, at the very end.
  let eocd = -1;
  for (let p = n - 22; p >= Math.max(0, n - 22 - 0xffff); p--) {
    if (u32(bytes, p) === 0x06054b50) {
      eocd = p;
      break;
    }
  }
  if (eocd < 0) return 'no end-of-central-directory record';
  const entries = u16(bytes, eocd + 10);
  const cdSize = u32(bytes, eocd + 12);
  const cdOffset = u32(bytes, eocd + 16);
  if (cdOffset + cdSize > eocd) return `central directory at byte ${cdOffset} (${cdSize} bytes) runs past its end record at byte ${eocd}`;
  let p = cdOffset;
  for (let i = 0; i < entries; i++) {
    if (p + 46 > eocd || u32(bytes, p) !== 0x02014b50) return `central directory entry ${i} at byte ${p} is missing or damaged`;
    const method = u16(bytes, p + 10);
    const compressed = u32(bytes, p + 20);
    const size = u32(bytes, p + 24);
    const nameLen = u16(bytes, p + 28);
    const extraLen = u16(bytes, p + 30);
    const commentLen = u16(bytes, p + 32);
    const local = u32(bytes, p + 42);
    if (p + 46 + nameLen > eocd) return `central directory entry ${i} at byte ${p} runs past its end record`;
    const name = new TextDecoder().decode(bytes.subarray(p + 46, p + 46 + nameLen));
    p += 46 + nameLen + extraLen + commentLen;
    if (method !== 0 || compressed !== size || !/\.txt$/i.test(name)) continue;
    const where = `entry ${JSON.stringify(name)} at byte ${local}`;
    if (local + 30 > n || u32(bytes, local) !== 0x04034b50) return `${where} has no local file header`;
    const start = local + 30 + u16(bytes, local + 26) + u16(bytes, local + 28);
    if (start + size > n) return `${where} (${size} bytes) runs past the end of the file`;
    out.push({ name, data: bytes.subarray(start, start + size) });
  }
  return null;
}

/**
 * Finds a label list with `classes` entries (the first output's class count): metadata buffers first, then
 * zip entries, preferring names that mention labels. A damaged appended archive is reported in `archiveProblem`
 * (only when no labels were found elsewhere).
 */
export function findLabels(
  bytes: Uint8Array,
  metadataBuffers: readonly { name: string; data: Uint8Array | null }[],
  classes: number,
): LabelSearch {
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
  const { entries: zipEntries, problem } = storedZipTextEntries(bytes);
  zipEntries.sort((a, b) => Number(/label/i.test(b.name)) - Number(/label/i.test(a.name)));
  for (const e of zipEntries.slice(0, MAX_CANDIDATES)) candidates.push({ source: `zip:${e.name}`, data: e.data });
  for (const c of candidates) {
    const labels = parseLabelText(c.data);
    if (labels && labels.length === classes) return { found: { labels, source: c.source }, archiveProblem: null };
  }
  return { found: null, archiveProblem: problem };
}
