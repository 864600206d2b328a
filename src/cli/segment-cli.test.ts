/**
 * `webcnn segment` as a user meets it, spawned through `bin/webcnn.js` (the built lib/: `npm run build:lib`):
 * usage errors, wrong model kinds both ways, a tiny ONNX score-map model (table, file names, stdin, skipped
 * non-images) and the shared DeepLabV3 on the bird photo (IoU > 0.9 against the reference mask, from the
 * written mask PNG). GPU cases skip only when the CLI reports no WebGPU adapter.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { PROJECT_ROOT, SHARED_MODEL, sharedPath } from '../../test/shared.ts';
import { exportOnnx } from '../formats/onnx/index.ts';
import { GraphBuilder } from '../graph/builder.ts';
import { segmentationPalette } from '../runtime/palette.ts';
import { Rng } from '../util/random.ts';
import { decodeImage } from './images.ts';
import { encodeIndexedPng, encodeRgbaPng } from './png-write.ts';

const BIN = resolve(PROJECT_ROOT, 'bin/webcnn.js');
vi.setConfig({ testTimeout: 600_000 });
const DEEPLAB = sharedPath('models/deeplabv3_mnv2_pascal_quant.tflite');
const VOC_LABELS = sharedPath('labels/pascal_voc_segmentation_labels.txt');
const BIRD = sharedPath('images/bird_segmentation.bmp');
const BIRD_MASK = sharedPath('images/bird_segmentation_mask.bmp');
const hasDeeplab = [DEEPLAB, VOC_LABELS, BIRD, BIRD_MASK].every((p) => existsSync(p));

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], stdin?: Uint8Array): Promise<Result> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: PROJECT_ROOT, stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'], timeout: 400_000, killSignal: 'SIGKILL',
    });
    if (stdin) child.stdin!.end(stdin);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

const lines = (s: string) => s.split('\n').filter((l) => l.length > 0);
const NO_ADAPTER = /^webcnn: no WebGPU adapter found/;
function skipWithoutAdapter(r: Result, ctx: { skip: () => void }): void {
  if (r.code === 1 && NO_ADAPTER.test(lines(r.stderr).at(-1) ?? '')) ctx.skip();
}
function expectOneLineError(r: Result, code: number, pattern: RegExp): void {
  expect(r.code, r.stderr).toBe(code);
  expect(lines(r.stderr)).toHaveLength(1);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

const tmp = mkdtempSync(join(tmpdir(), 'webcnn-segment-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Class indices from a mask PNG written by `segment` (indexed colour with PASCAL VOC's colours). */
function maskClasses(path: string, classes: number): Int32Array {
  const rgba = decodeImage(readFileSync(path));
  const palette = segmentationPalette(classes, false);
  const byColour = new Map<number, number>();
  for (let c = 0; c < classes; c++) byColour.set((palette[4 * c] << 16) | (palette[4 * c + 1] << 8) | palette[4 * c + 2], c);
  const out = new Int32Array(rgba.width * rgba.height);
  for (let i = 0; i < out.length; i++) out[i] = byColour.get((rgba.data[4 * i] << 16) | (rgba.data[4 * i + 1] << 8) | rgba.data[4 * i + 2]) ?? -1;
  return out;
}

/** A 1x1-conv score-map model, [1, 3, 6, 8] -> [1, 4, 6, 8], as ONNX. */
function tinySegmenter(): string {
  const b = new GraphBuilder();
  const x = b.input('image', [1, 3, 6, 8]);
  b.output(b.conv2d(x, { outChannels: 4, kernel: 1, weight: new Rng(3).fill(12, -1, 1) }));
  const path = join(tmp, 'tiny-seg.onnx');
  writeFileSync(path, exportOnnx(b.build()));
  return path;
}

function noisePng(width: number, height: number, seed: number): Uint8Array {
  const rng = new Rng(seed);
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < data.length; i++) data[i] = i % 4 === 3 ? 255 : rng.int(0, 255);
  return encodeRgbaPng(data, width, height);
}

describe('webcnn segment: usage and refusals', () => {
  it('prints its help, and refuses bad command lines with exit status 2', async () => {
    const help = await cli(['segment', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: webcnn segment IMAGE\.\.\. --model FILE/);
    expect((await cli(['--help'])).stdout).toMatch(/segment IMAGE\.\.\. --model FILE/);
    for (const [args, pattern] of [
      [['segment', 'x.png'], /--model FILE is required \(see 'webcnn segment --help'\)/],
      [['segment', '-m', 'm.tflite'], /no image given/],
      [['segment', 'x.png', '-m', 'm', '--opacity', '2'], /--opacity must be a number from 0 to 1, got '2'/],
      [['segment', 'x.png', '-m', 'm', '--out', '-'], /--out - : the masks are PNG files/],
    ] as const) {
      expectOneLineError(await cli([...args]), 2, pattern);
    }
  });

  it.skipIf(!existsSync(SHARED_MODEL) || !existsSync(BIRD))('segment on a classifier says so in one line, before any GPU work', async () => {
    const r = await cli(['segment', BIRD, '-m', SHARED_MODEL]);
    expectOneLineError(r, 1, /^webcnn: .*mobilenet_v2_1\.0_224_quant\.tflite is an image classification model \(one score per class, not per pixel\): use webcnn classify$/m);
  });

  it.skipIf(!hasDeeplab)('classify on a segmenter says so in one line', async () => {
    const r = await cli(['classify', BIRD, '-m', DEEPLAB]);
    expectOneLineError(r, 1, /deeplabv3_mnv2_pascal_quant\.tflite is an image segmentation model \(a class per pixel, not per image\): use webcnn segment$/m);
  });

  it('a model that is neither, and a missing image, are one-line errors', async () => {
    const b = new GraphBuilder();
    b.output(b.conv2d(b.input('image', [1, 3, 6, 8]), { outChannels: 1, kernel: 1, weight: new Float32Array(3) }));
    const model = join(tmp, 'one-channel.onnx');
    writeFileSync(model, exportOnnx(b.build()));
    const image = join(tmp, 'one.png');
    writeFileSync(image, noisePng(4, 4, 1));
    expectOneLineError(await cli(['segment', image, '-m', model]), 1, /one-channel\.onnx is no segmentation model: the first output is \[1, 1, 6, 8\]/);
    expectOneLineError(await cli(['segment', join(tmp, 'none.png'), '-m', model]), 1, /cannot read image .*none\.png: no such file/);
  });
});

describe('webcnn segment on the GPU', () => {
  it('a tiny score-map model: table, mask and overlay PNGs per image (unique names, stdin), a non-image skipped', async (ctx) => {
    const model = tinySegmenter();
    const a = join(tmp, 'a');
    const b = join(tmp, 'b');
    for (const dir of [a, b]) rmSync(dir, { recursive: true, force: true });
    mkdirSync(a);
    mkdirSync(b);
    writeFileSync(join(a, 'x.png'), noisePng(13, 9, 1));
    writeFileSync(join(b, 'x.png'), noisePng(5, 7, 2));
    writeFileSync(join(tmp, 'not-image.png'), 'hello');
    const out = join(tmp, 'out', 'deeper');
    const r = await cli(['segment', join(a, 'x.png'), join(b, 'x.png'), join(tmp, 'not-image.png'), '-', '-m', model, '--out', out], noisePng(3, 2, 3));
    skipWithoutAdapter(r, ctx);
    expect(r.code, r.stderr).toBe(1);
    expect(lines(r.stderr)).toEqual([`webcnn: ${join(tmp, 'not-image.png')}: not a PNG, JPEG or BMP image`]);
    expect(readdirSync(out).sort()).toEqual(['stdin.mask.png', 'stdin.overlay.png', 'x-2.mask.png', 'x-2.overlay.png', 'x.mask.png', 'x.overlay.png']);
    const blocks = r.stdout.trim().split('\n\n');
    expect(blocks).toHaveLength(3);
    expect(blocks[0]).toMatch(new RegExp(`^${join(a, 'x.png')} \\(13x9, [\\d.]+ ms\\) -> ${out}/x\\.mask\\.png, ${out}/x\\.overlay\\.png\\n  class    share  pixels  label\\n`));
    for (const [block, name, w, h] of [[blocks[0], 'x', 13, 9], [blocks[1], 'x-2', 5, 7], [blocks[2], 'stdin', 3, 2]] as const) {
      const mask = maskClasses(join(out, `${name}.mask.png`), 4);
      expect(mask.length).toBe(w * h);
      expect(Math.min(...mask)).toBeGreaterThanOrEqual(0);
      // The shares printed are the mask's.
      const rows = lines(block).slice(2).map((l) => l.trim().split(/\s+/));
      for (const [index, share, pixels, label] of rows) {
        expect(mask.filter((c) => c === Number(index)).length).toBe(Number(pixels));
        expect(Number(share.slice(0, -1))).toBeCloseTo((100 * Number(pixels)) / (w * h), 1);
        expect(label).toBe('class');
      }
      const overlay = decodeImage(readFileSync(join(out, `${name}.overlay.png`)));
      expect([overlay.width, overlay.height]).toEqual([w, h]);
    }
  });

  it.skipIf(!hasDeeplab)('the bird photo through the shared DeepLabV3: IoU > 0.9 from the mask PNG, bird the main class (--json)', async (ctx) => {
    const out = join(tmp, 'bird');
    const r = await cli(['segment', BIRD, '-m', DEEPLAB, '-l', VOC_LABELS, '--out', out, '--json']);
    skipWithoutAdapter(r, ctx);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const result = JSON.parse(r.stdout);
    expect(Object.keys(result)).toEqual(['image', 'width', 'height', 'classes', 'mask', 'overlay', 'ms']);
    expect([result.width, result.height]).toEqual([513, 513]);
    expect(result.classes.map((c: { label: string }) => c.label).slice(0, 2)).toEqual(['background', 'bird']);
    const mask = maskClasses(result.mask, 21);
    const reference = decodeImage(readFileSync(BIRD_MASK));
    let same = 0;
    for (let i = 0; i < mask.length; i++) if (mask[i] === reference.data[4 * i]) same++;
    const iou = same / (2 * mask.length - same);
    expect(iou).toBeGreaterThan(0.9);
    expect(result.classes[1].pixels).toBe(mask.filter((c) => c === 3).length);
    expect(decodeImage(readFileSync(result.overlay)).width).toBe(513);
  });
});

describe('encodeIndexedPng', () => {
  it('writes an indexed PNG that decodes to the palette colours', () => {
    const palette = segmentationPalette(5, false);
    const indices = Uint8Array.from({ length: 7 * 3 }, (_, i) => i % 5);
    const rgba = decodeImage(encodeIndexedPng(indices, 7, 3, palette));
    expect([rgba.width, rgba.height]).toEqual([7, 3]);
    for (let i = 0; i < indices.length; i++) {
      expect(Array.from(rgba.data.subarray(4 * i, 4 * i + 3))).toEqual(Array.from(palette.subarray(4 * indices[i], 4 * indices[i] + 3)));
    }
  });
});
