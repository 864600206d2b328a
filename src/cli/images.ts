/**
 * Image files for the Node CLI: PNG (`pngjs`), JPEG (`jpeg-js`) and BMP (`bmp-ts`), all pure JavaScript,
 * chosen by magic bytes (never by extension), decoded to RGBA8. Headers are checked before decoding so that a
 * hostile size cannot make a decoder allocate gigabytes; every failure is an `ImageFormatError`.
 */
import { decode as decodeBmpFile } from 'bmp-ts';
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';
import { WebcnnError } from '../errors.ts';

/** An image file that is not PNG, JPEG or BMP, or that does not decode. */
export class ImageFormatError extends WebcnnError {
  override readonly name = 'ImageFormatError';
}

/** RGBA8 pixels, row-major, top row first. */
export interface RgbaImage {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
}

export type ImageKind = 'png' | 'jpeg' | 'bmp';

/** Largest image decoded: 100 megapixels (400 MB of RGBA), like jpeg-js's own default. */
export const MAX_IMAGE_PIXELS = 100_000_000;

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** The format from the first bytes, or null. */
export function sniffImage(bytes: Uint8Array): ImageKind | null {
  if (bytes.length >= 8 && PNG_MAGIC.every((b, i) => bytes[i] === b)) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (bytes.length >= 2 && bytes[0] === 0x42 && bytes[1] === 0x4d) return 'bmp'; // "BM"
  return null;
}

/** Decodes a PNG, JPEG or BMP file to RGBA8. `name` (the file name) is used in error messages. */
export function decodeImage(bytes: Uint8Array, name = 'image'): RgbaImage {
  const kind = sniffImage(bytes);
  switch (kind) {
    case 'png':
      return decodePng(bytes, name);
    case 'jpeg':
      return decodeJpeg(bytes, name);
    case 'bmp':
      return decodeBmp(bytes, name);
    default:
      throw new ImageFormatError(`${name}: not a PNG, JPEG or BMP image`);
  }
}

function checkSize(width: number, height: number, name: string, kind: string): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new ImageFormatError(`${name}: ${kind} has invalid dimensions ${width}x${height}`);
  }
  if (width * height > MAX_IMAGE_PIXELS) {
    throw new ImageFormatError(`${name}: ${kind} is ${width}x${height}, over the ${MAX_IMAGE_PIXELS / 1e6} megapixel limit`);
  }
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function reason(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function decodePng(bytes: Uint8Array, name = 'image'): RgbaImage {
  // IHDR must come first: length 13, "IHDR", width and height as big-endian u32.
  if (bytes.length < 33 || String.fromCharCode(...bytes.subarray(12, 16)) !== 'IHDR') {
    throw new ImageFormatError(`${name}: PNG is truncated or has no IHDR chunk`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  checkSize(view.getUint32(16), view.getUint32(20), name, 'PNG');
  let png: { width: number; height: number; data: Buffer };
  try {
    // Palette, grey, 16-bit and alpha variants all come out as 8-bit RGBA.
    png = pngjs.PNG.sync.read(asBuffer(bytes));
  } catch (e) {
    throw new ImageFormatError(`${name}: PNG does not decode (${reason(e)})`);
  }
  if (png.data.length !== png.width * png.height * 4) throw new ImageFormatError(`${name}: PNG decoded to an unexpected size`);
  return { data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.length), width: png.width, height: png.height };
}

export function decodeJpeg(bytes: Uint8Array, name = 'image'): RgbaImage {
  let img: { width: number; height: number; data: Uint8Array };
  try {
    img = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: true,
      maxResolutionInMP: MAX_IMAGE_PIXELS / 1e6,
      maxMemoryUsageInMB: 1024,
    });
  } catch (e) {
    throw new ImageFormatError(`${name}: JPEG does not decode (${reason(e)})`);
  }
  checkSize(img.width, img.height, name, 'JPEG');
  return { data: img.data, width: img.width, height: img.height };
}

const BMP_HEADER_SIZES = new Set([40, 52, 56, 108, 124]);
const BMP_BITS = new Set([1, 4, 8, 16, 24, 32]);

/**
 * BMP through `bmp-ts`, with its header checked first (bit depth, compression, dimensions, pixel data inside
 * the file). bmp-ts is used in its default ABGR mode (its `toRGBA` mode mislays channels of palette images)
 * and its output is reordered here; images without an alpha mask come out opaque. Refused because bmp-ts gets
 * them wrong: RLE compression and 4-bit images of odd width.
 */
export function decodeBmp(bytes: Uint8Array, name = 'image'): RgbaImage {
  if (bytes.length < 54) throw new ImageFormatError(`${name}: BMP is truncated (${bytes.length} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dataOffset = view.getUint32(10, true);
  const headerSize = view.getUint32(14, true);
  const width = view.getInt32(18, true);
  const rawHeight = view.getInt32(22, true);
  const bits = view.getUint16(28, true);
  const compression = view.getUint32(30, true);
  if (!BMP_HEADER_SIZES.has(headerSize)) throw new ImageFormatError(`${name}: BMP header size ${headerSize} is not supported`);
  if (!BMP_BITS.has(bits)) throw new ImageFormatError(`${name}: BMP with ${bits} bits per pixel is not supported`);
  // Uncompressed or bit-field layouts only: bmp-ts's RLE decoder places bottom-up rows wrongly.
  if (compression === 1 || compression === 2) throw new ImageFormatError(`${name}: RLE-compressed BMP is not supported`);
  if (!(compression === 0 || compression === 3 || compression === 6)) {
    throw new ImageFormatError(`${name}: BMP compression ${compression} is not supported`);
  }
  const height = Math.abs(rawHeight);
  checkSize(width, height, name, 'BMP');
  // bmp-ts stops after the first row of a 4-bit image whose width is odd.
  if (bits === 4 && width % 2 === 1) throw new ImageFormatError(`${name}: 4-bit BMP with an odd width (${width}) is not supported`);
  const rowBytes = Math.ceil((width * bits) / 32) * 4;
  if (dataOffset > bytes.length || rowBytes * height > bytes.length - dataOffset) {
    throw new ImageFormatError(`${name}: BMP is truncated (${width}x${height} at ${bits} bits needs ${rowBytes * height} pixel bytes from offset ${dataOffset})`);
  }
  let decoded: { data: Buffer; width: number; height: number; maskAlpha?: number };
  try {
    decoded = decodeBmpFile(asBuffer(bytes)) as unknown as typeof decoded;
  } catch (e) {
    throw new ImageFormatError(`${name}: BMP does not decode (${reason(e)})`);
  }
  const src = decoded.data;
  const hasAlpha = (bits === 16 || bits === 32) && (decoded.maskAlpha ?? 0) !== 0;
  const n = width * height;
  if (src.length !== n * 4) throw new ImageFormatError(`${name}: BMP decoded to an unexpected size`);
  const out = new Uint8Array(n * 4);
  for (let i = 0, p = 0; i < n; i++, p += 4) {
    out[p] = src[p + 3];
    out[p + 1] = src[p + 2];
    out[p + 2] = src[p + 1];
    out[p + 3] = hasAlpha ? src[p] : 255;
  }
  return { data: out, width, height };
}

/**
 * The image shrunk by the smallest integer factor that brings both sides within `maxSide` (a device's largest
 * texture), each output pixel the mean of its factor x factor block; the image itself when it already fits.
 * The model's own resize then runs on the GPU as for any other image.
 */
export function shrinkToFit(image: RgbaImage, maxSide: number): RgbaImage {
  const factor = Math.ceil(Math.max(image.width, image.height) / maxSide);
  if (factor <= 1) return image;
  const width = Math.max(1, Math.floor(image.width / factor));
  const height = Math.max(1, Math.floor(image.height / factor));
  const out = new Uint8Array(width * height * 4);
  // A side shorter than the factor (a 20000 x 1 strip) averages the rows or columns it has.
  const fy = Math.min(factor, image.height);
  const fx = Math.min(factor, image.width);
  const sums = new Float64Array(width * 4);
  for (let y = 0; y < height; y++) {
    sums.fill(0);
    for (let dy = 0; dy < fy; dy++) {
      const row = (y * fy + dy) * image.width * 4;
      for (let x = 0; x < width; x++) {
        for (let dx = 0; dx < fx; dx++) {
          const p = row + (x * fx + dx) * 4;
          for (let k = 0; k < 4; k++) sums[x * 4 + k] += image.data[p + k];
        }
      }
    }
    const n = fx * fy;
    for (let i = 0; i < width * 4; i++) out[y * width * 4 + i] = Math.round(sums[i] / n);
  }
  return { data: out, width, height };
}
