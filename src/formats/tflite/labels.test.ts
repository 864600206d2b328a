import { describe, expect, it } from 'vitest';
import { Rng } from '../../util/random.ts';
import { loadTflite } from './index.ts';
import { findLabels, storedZipTextEntries } from './labels.ts';
import { tinyClassifier } from '../../../test/helpers/tflite-writer.ts';

/**
 * A zip archive of stored (uncompressed) entries, as the TFLite metadata tools append to a model: offsets count
 * from the start of the file, `base` bytes before the archive.
 */
function zip(base: number, files: { name: string; data: Uint8Array }[]): Uint8Array {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = base;
  for (const f of files) {
    const name = enc.encode(f.name);
    const local = new Uint8Array(30 + name.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint32(18, f.data.length, true);
    lv.setUint32(22, f.data.length, true);
    lv.setUint16(26, name.length, true);
    local.set(name, 30);
    const cd = new Uint8Array(46 + name.length);
    const cv = new DataView(cd.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint32(20, f.data.length, true);
    cv.setUint32(24, f.data.length, true);
    cv.setUint16(28, name.length, true);
    cv.setUint32(42, offset, true);
    cd.set(name, 46);
    parts.push(local, f.data);
    central.push(cd);
    offset += local.length + f.data.length;
  }
  const cdSize = central.reduce((a, c) => a + c.length, 0);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, files.length, true);
  ev.setUint16(10, files.length, true);
  ev.setUint32(12, cdSize, true);
  ev.setUint32(16, offset, true); // the central directory follows the entries
  return concat([...parts, ...central, end]);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const LABELS = Array.from({ length: 10 }, (_, i) => `class ${i}`);
const labelsZip = (base: number) => zip(base, [{ name: 'labels.txt', data: new TextEncoder().encode(`${LABELS.join('\n')}\n`) }]);

describe('TFLite labels from an appended zip archive', () => {
  it('reads the labels of a whole archive, with no warning', () => {
    const flat = tinyClassifier();
    const model = loadTflite(concat([flat, labelsZip(flat.length)]));
    expect(model.labels).toEqual(LABELS);
    expect(model.metadata.labelsSource).toBe('zip:labels.txt');
    expect(model.warnings).toBeUndefined();
  });

  it('a model cut inside its archive still loads, and warns that the labels are lost', () => {
    const flat = tinyClassifier();
    const whole = concat([flat, labelsZip(flat.length)]);
    // Every cut from 10 bytes into the first local file header to one byte short of the end.
    for (let cut = flat.length + 10; cut < whole.length; cut++) {
      const model = loadTflite(whole.subarray(0, cut));
      expect(model.labels, `cut at ${cut}`).toBeUndefined();
      expect(model.warnings, `cut at ${cut}`).toHaveLength(1);
      expect(model.warnings![0]).toMatch(
        new RegExp(`^the zip archive of associated files \\(labels\\) appended at byte ${flat.length} is truncated or corrupt \\(.+\\); the model loads, but its labels are unavailable$`),
      );
    }
  });

  it('says what is wrong with a damaged archive', () => {
    const bytes = concat([new Uint8Array(64), labelsZip(64)]);
    expect(storedZipTextEntries(bytes)).toMatchObject({ entries: [{ name: 'labels.txt' }], problem: null });
    expect(storedZipTextEntries(bytes.subarray(0, bytes.length - 1)).problem).toBe(
      'the zip archive of associated files (labels) appended at byte 64 is truncated or corrupt (no end-of-central-directory record)',
    );
    // Central directory offset pointed past the data: the entry's local header is not where it says.
    const moved = bytes.slice();
    new DataView(moved.buffer).setUint32(moved.length - 22 - 46 - 'labels.txt'.length + 42, 5, true);
    expect(storedZipTextEntries(moved).problem).toMatch(/appended at byte 64 is truncated or corrupt \(entry "labels\.txt" at byte 5 has no local file header\)$/);
    const result = findLabels(moved, [], 10);
    expect(result.found).toBeNull();
    expect(result.archiveProblem).toMatch(/truncated or corrupt/);
  });

  it('no archive is not a problem, and random bytes are not taken for one', () => {
    expect(storedZipTextEntries(new Uint8Array(0))).toEqual({ entries: [], problem: null });
    const rng = new Rng(3);
    const noise = new Uint8Array(1 << 20).map(() => Math.floor(rng.next() * 256));
    expect(storedZipTextEntries(noise).problem).toBeNull();
    expect(loadTflite(tinyClassifier()).warnings).toBeUndefined();
  });

  it('labels found in the metadata make a damaged archive moot', () => {
    const enc = new TextEncoder();
    const cut = concat([new Uint8Array(8), labelsZip(8)]).subarray(0, 60);
    const r = findLabels(cut, [{ name: 'labels', data: enc.encode(LABELS.join('\n')) }], 10);
    expect(r.found?.source).toBe('metadata:labels');
    expect(r.archiveProblem).toBeNull();
  });
});
