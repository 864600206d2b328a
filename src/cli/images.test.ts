import { readFileSync } from 'node:fs';
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';
import { describe, expect, it } from 'vitest';
import { SHARED_CAT } from '../../test/shared.ts';
import { existsSync } from 'node:fs';
import { ImageFormatError, decodeImage, shrinkToFit, sniffImage } from './images.ts';

/** A 3x2 test picture: distinct colours, with alpha. Row-major RGBA, top row first. */
const W = 3;
const H = 2;
const PIXELS = [
  [255, 0, 0, 255], [0, 255, 0, 255], [0, 0, 255, 255],
  [10, 20, 30, 128], [200, 150, 100, 0], [255, 255, 255, 255],
];
const rgba = Uint8Array.from(PIXELS.flat());
const opaque = Uint8Array.from(PIXELS.flatMap(([r, g, b]) => [r, g, b, 255]));

/** Hand-made BMP: BITMAPINFOHEADER (or V4 with masks), rows bottom-up unless `topDown`, 4-byte row padding. */
function bmp(o: { bits: 24 | 32 | 8; topDown?: boolean; alphaMask?: boolean }): Uint8Array {
  const palette = o.bits === 8 ? PIXELS.map(([r, g, b]) => [b, g, r, 0]) : [];
  const headerSize = o.alphaMask ? 108 : 40;
  const rowBytes = Math.ceil((W * o.bits) / 32) * 4;
  const offset = 14 + headerSize + palette.length * 4;
  const out = new Uint8Array(offset + rowBytes * H);
  const v = new DataView(out.buffer);
  out.set([0x42, 0x4d]);
  v.setUint32(2, out.length, true);
  v.setUint32(10, offset, true);
  v.setUint32(14, headerSize, true);
  v.setInt32(18, W, true);
  v.setInt32(22, o.topDown ? -H : H, true);
  v.setUint16(26, 1, true);
  v.setUint16(28, o.bits, true);
  v.setUint32(30, o.alphaMask ? 3 : 0, true); // BI_BITFIELDS with masks, else BI_RGB
  v.setUint32(46, palette.length, true);
  if (o.alphaMask) {
    v.setUint32(54, 0x00ff0000, true);
    v.setUint32(58, 0x0000ff00, true);
    v.setUint32(62, 0x000000ff, true);
    v.setUint32(66, 0xff000000, true);
  }
  palette.forEach((c, i) => out.set(c, 14 + headerSize + i * 4));
  for (let y = 0; y < H; y++) {
    const row = o.topDown ? y : H - 1 - y;
    for (let x = 0; x < W; x++) {
      const [r, g, b, a] = PIXELS[y * W + x];
      const at = offset + row * rowBytes + (x * o.bits) / 8;
      if (o.bits === 8) out[at] = y * W + x;
      else out.set(o.bits === 32 ? [b, g, r, a] : [b, g, r], at);
    }
  }
  return out;
}

describe('decodeImage', () => {
  it('sniffs by magic bytes, not by name', () => {
    const png = pngjs.PNG.sync.write(Object.assign(new pngjs.PNG({ width: W, height: H }), { data: Buffer.from(rgba) }));
    expect(sniffImage(png)).toBe('png');
    expect(sniffImage(bmp({ bits: 24 }))).toBe('bmp');
    expect(sniffImage(new Uint8Array([0xff, 0xd8, 0xff, 0xe0]))).toBe('jpeg');
    expect(sniffImage(new TextEncoder().encode('GIF89a'))).toBeNull();
    expect(decodeImage(png, 'photo.jpg')).toMatchObject({ width: W, height: H });
  });

  it('decodes PNG (RGBA, RGB, grey, 16-bit) to RGBA8', () => {
    const encode = (options: Record<string, unknown>, data: Uint8Array | Uint16Array = rgba) => {
      const png = new pngjs.PNG({ width: W, height: H, ...options });
      png.data = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      return pngjs.PNG.sync.write(png, options as never);
    };
    expect(decodeImage(encode({}))).toEqual({ data: rgba, width: W, height: H });
    expect(decodeImage(encode({ colorType: 2 }, opaque)).data).toEqual(opaque); // RGB, no alpha channel
    const grey = decodeImage(encode({ colorType: 0, inputHasAlpha: true })).data;
    expect(grey[0]).toBe(grey[1]); // r = g = b
    expect(grey[3]).toBe(255);
    const wide = new Uint16Array(rgba.length);
    rgba.forEach((v, i) => (wide[i] = v * 257));
    expect(decodeImage(encode({ bitDepth: 16, inputHasAlpha: true }, wide)).data).toEqual(rgba);
  });

  it('decodes JPEG to RGBA8 (lossy: close to the source)', () => {
    const w = 16;
    const h = 8;
    const src = new Uint8Array(w * h * 4);
    for (let i = 0; i < w * h; i++) src.set(i % w < 8 ? [200, 40, 40, 255] : [30, 60, 220, 255], i * 4);
    const file = jpeg.encode({ data: src, width: w, height: h }, 95).data;
    const img = decodeImage(file, 'x.jpg');
    expect([img.width, img.height]).toEqual([w, h]);
    for (let i = 0; i < w * h * 4; i++) expect(Math.abs(img.data[i] - src[i])).toBeLessThanOrEqual(24);
    expect(img.data[3]).toBe(255);
  });

  it('decodes BMP: 24-bit bottom-up and top-down, 8-bit palette, 32-bit with an alpha mask', () => {
    expect(decodeImage(bmp({ bits: 24 }))).toEqual({ data: opaque, width: W, height: H });
    expect(decodeImage(bmp({ bits: 24, topDown: true })).data).toEqual(opaque);
    expect(decodeImage(bmp({ bits: 8 })).data).toEqual(opaque);
    expect(decodeImage(bmp({ bits: 32 })).data).toEqual(opaque); // BI_RGB: the fourth byte is not alpha
    expect(decodeImage(bmp({ bits: 32, alphaMask: true })).data).toEqual(rgba);
  });

  it.skipIf(!existsSync(SHARED_CAT))('decodes the shared cat.bmp (512x341, 24-bit)', () => {
    const img = decodeImage(readFileSync(SHARED_CAT), 'cat.bmp');
    expect([img.width, img.height, img.data.length]).toEqual([512, 341, 512 * 341 * 4]);
    expect(img.data[3]).toBe(255);
  });

  describe('errors', () => {
    const expectError = (bytes: Uint8Array, pattern: RegExp) => {
      expect(() => decodeImage(bytes, 'pic')).toThrow(ImageFormatError);
      expect(() => decodeImage(bytes, 'pic')).toThrow(pattern);
    };

    it('rejects unknown formats', () => {
      expectError(new TextEncoder().encode('GIF89a......'), /^pic: not a PNG, JPEG or BMP image$/);
      expectError(new Uint8Array(0), /not a PNG, JPEG or BMP image/);
    });

    it('rejects truncated or corrupt files', () => {
      const png = pngjs.PNG.sync.write(Object.assign(new pngjs.PNG({ width: W, height: H }), { data: Buffer.from(rgba) }));
      expectError(png.subarray(0, 20), /PNG is truncated/);
      expectError(png.subarray(0, png.length - 20), /PNG does not decode/);
      expectError(new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 16, 1, 2, 3]), /JPEG does not decode/);
      const b = bmp({ bits: 24 });
      expectError(b.subarray(0, 30), /BMP is truncated/);
      expectError(b.subarray(0, b.length - 4), /BMP is truncated/);
    });

    it('rejects hostile dimensions before decoding', () => {
      const png = pngjs.PNG.sync.write(Object.assign(new pngjs.PNG({ width: W, height: H }), { data: Buffer.from(rgba) }));
      const huge = Uint8Array.from(png);
      new DataView(huge.buffer).setUint32(16, 100_000);
      new DataView(huge.buffer).setUint32(20, 100_000);
      expectError(huge, /PNG is 100000x100000, over the 100 megapixel limit/);
      const b = bmp({ bits: 24 });
      new DataView(b.buffer).setInt32(18, 50_000, true);
      new DataView(b.buffer).setInt32(22, 50_000, true);
      expectError(b, /BMP is 50000x50000, over the 100 megapixel limit/);
      const neg = bmp({ bits: 24 });
      new DataView(neg.buffer).setInt32(18, -3, true);
      expectError(neg, /BMP has invalid dimensions -3x2/);
    });

    it('rejects BMP variants it does not decode', () => {
      const b = bmp({ bits: 24 });
      new DataView(b.buffer).setUint16(28, 2, true);
      expectError(b, /BMP with 2 bits per pixel is not supported/);
      const c = bmp({ bits: 24 });
      new DataView(c.buffer).setUint32(30, 4, true); // BI_JPEG
      expectError(c, /BMP compression 4 is not supported/);
      const rle = bmp({ bits: 8 });
      new DataView(rle.buffer).setUint32(30, 1, true); // BI_RLE8
      expectError(rle, /RLE-compressed BMP is not supported/);
      const nibbles = bmp({ bits: 8 });
      new DataView(nibbles.buffer).setUint16(28, 4, true);
      expectError(nibbles, /4-bit BMP with an odd width \(3\) is not supported/);
      const d = bmp({ bits: 24 });
      new DataView(d.buffer).setUint32(14, 12, true); // OS/2 core header
      expectError(d, /BMP header size 12 is not supported/);
    });
  });
});

describe('shrinkToFit', () => {
  const image = (width: number, height: number) => ({
    width,
    height,
    data: Uint8Array.from({ length: width * height * 4 }, (_, i) => (Math.floor(i / 4) * 10 + (i % 4)) % 256),
  });

  it('leaves an image that fits as it is', () => {
    const small = image(4, 3);
    expect(shrinkToFit(small, 4)).toBe(small);
  });

  it('divides both sides by the smallest integer factor that fits, each pixel the mean of its block', () => {
    const src = image(4, 2); // pixel p holds 10 p + k in channel k
    const out = shrinkToFit(src, 3); // factor 2: 2 x 1
    expect([out.width, out.height]).toEqual([2, 1]);
    // Block 0: pixels 0, 1, 4, 5 -> mean 25; block 1: pixels 2, 3, 6, 7 -> mean 45.
    expect([...out.data]).toEqual([25, 26, 27, 28, 45, 46, 47, 48]);
  });

  it('keeps a strip one pixel high and shrinks its long side', () => {
    const out = shrinkToFit(image(9, 1), 4); // factor 3: 3 x 1
    expect([out.width, out.height]).toEqual([3, 1]);
    expect(out.data[0]).toBe(10); // mean of pixels 0, 1, 2
  });
});
