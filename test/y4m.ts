/**
 * Writes a Y4M (YUV4MPEG2, 4:2:0) clip from RGBA pixels, for Chromium's fake camera
 * (`--use-file-for-fake-video-capture`). BT.601 limited range, the conversion Chromium assumes.
 */
import type { RgbaImage } from '../src/runtime/classifier.ts';

export function rgbaToY4m(image: RgbaImage, frames = 1, fps = 30): Uint8Array {
  // 4:2:0 needs even dimensions: drop a last odd row or column.
  const w = image.width & ~1;
  const h = image.height & ~1;
  const header = new TextEncoder().encode(`YUV4MPEG2 W${w} H${h} F${fps}:1 Ip A1:1 C420jpeg\n`);
  const frameHeader = new TextEncoder().encode('FRAME\n');
  const ySize = w * h;
  const cSize = (w / 2) * (h / 2);
  const plane = new Uint8Array(ySize + 2 * cSize);
  const px = (x: number, y: number, c: number) => image.data[(y * image.width + x) * 4 + c];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const r = px(x, y, 0), g = px(x, y, 1), b = px(x, y, 2);
      plane[y * w + x] = Math.round(16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255);
    }
  }
  for (let y = 0; y < h / 2; y++) {
    for (let x = 0; x < w / 2; x++) {
      let r = 0, g = 0, b = 0;
      for (const [dx, dy] of [[0, 0], [1, 0], [0, 1], [1, 1]]) {
        r += px(2 * x + dx, 2 * y + dy, 0);
        g += px(2 * x + dx, 2 * y + dy, 1);
        b += px(2 * x + dx, 2 * y + dy, 2);
      }
      r /= 4; g /= 4; b /= 4;
      plane[ySize + y * (w / 2) + x] = Math.round(128 + (-37.797 * r - 74.203 * g + 112 * b) / 255);
      plane[ySize + cSize + y * (w / 2) + x] = Math.round(128 + (112 * r - 93.786 * g - 18.214 * b) / 255);
    }
  }
  const out = new Uint8Array(header.length + frames * (frameHeader.length + plane.length));
  out.set(header, 0);
  let offset = header.length;
  for (let f = 0; f < frames; f++) {
    out.set(frameHeader, offset);
    out.set(plane, offset + frameHeader.length);
    offset += frameHeader.length + plane.length;
  }
  return out;
}
