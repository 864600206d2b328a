/**
 * PNG files the CLI writes: an indexed-colour mask (pixel value = class index, the PLTE chunk the class colours,
 * as PASCAL VOC's ground-truth PNGs; pngjs writes no palette images, so it is packed here) and RGBA images
 * through pngjs.
 */
import { deflateSync } from 'node:zlib';
import pngjs from 'pngjs';

const SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/**
 * An 8-bit indexed PNG of `indices` (row-major, `width * height`, each below `palette.length / 4`), with the RGB
 * of `palette` (RGBA8 per entry; alpha ignored) as its colours.
 */
export function encodeIndexedPng(indices: Uint8Array, width: number, height: number, palette: Uint8Array): Uint8Array {
  const entries = palette.length / 4;
  if (!(entries >= 1 && entries <= 256)) throw new RangeError(`an indexed PNG has 1 to 256 colours, got ${entries}`);
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header.set([8, 3, 0, 0, 0], 8); // bit depth 8, colour type 3 (palette), deflate, filter 0, no interlace
  const plte = new Uint8Array(entries * 3);
  for (let i = 0; i < entries; i++) plte.set(palette.subarray(4 * i, 4 * i + 3), 3 * i);
  // Each row: filter type 0, then the row's indices.
  const raw = new Uint8Array(height * (width + 1));
  for (let y = 0; y < height; y++) raw.set(indices.subarray(y * width, (y + 1) * width), y * (width + 1) + 1);
  const parts = [SIGNATURE, chunk('IHDR', header), chunk('PLTE', plte), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** An RGBA8 PNG. */
export function encodeRgbaPng(data: Uint8Array, width: number, height: number): Uint8Array {
  const png = new pngjs.PNG({ width, height });
  png.data = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return pngjs.PNG.sync.write(png);
}
