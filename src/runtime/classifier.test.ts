import { describe, expect, it } from 'vitest';
import { TORCHVISION_PREPROCESSING, type Preprocessing } from '../formats/model.ts';
import { preprocessReference } from '../reference/preprocess.ts';
import { cropFor, softmaxInPlace, topK } from './classifier.ts';

const stretch224: Preprocessing = { size: [224, 224], resize: 'stretch', cropFraction: 1, mean: [0, 0, 0], std: [1, 1, 1] };

describe('cropFor', () => {
  it('stretch takes the whole image', () => {
    expect(cropFor(512, 341, stretch224)).toEqual({ x: 0, y: 0, width: 512, height: 341 });
  });

  it('center-crop follows Resize(256) + CenterCrop(224) in source pixels', () => {
    // 640x480: short side 480 -> 256, scale 480/256 = 1.875; a 224 crop covers 420 source pixels, centred.
    const r = cropFor(640, 480, TORCHVISION_PREPROCESSING);
    expect(r.width).toBeCloseTo(420, 10);
    expect(r.height).toBeCloseTo(420, 10);
    expect(r.x).toBeCloseTo(110, 10);
    expect(r.y).toBeCloseTo(30, 10);
  });
});

describe('topK and softmax', () => {
  it('orders by score, ties by index, and clamps k', () => {
    expect(topK(new Float32Array([0.1, 0.5, 0.2, 0.5]), 3)).toEqual([1, 3, 2]);
    expect(topK(new Float32Array([1, 2]), 5)).toEqual([1, 0]);
  });

  it('softmax matches exp(x)/sum for concrete numbers', () => {
    const v = softmaxInPlace(new Float32Array([1, 2, 3]));
    const e = [Math.exp(1), Math.exp(2), Math.exp(3)];
    const s = e[0] + e[1] + e[2];
    e.forEach((x, i) => expect(v[i]).toBeCloseTo(x / s, 6));
  });
});

describe('preprocessReference', () => {
  it('a uniform image stays uniform after resampling and normalisation', () => {
    const img = new Uint8Array(50 * 30 * 4).fill(128);
    const out = preprocessReference(img, 50, 30, { x: 0, y: 0, width: 50, height: 30 }, {
      ...stretch224, size: [7, 9], mean: [0.5, 0.5, 0.5], std: [0.25, 0.5, 1],
    });
    expect(out.length).toBe(3 * 7 * 9);
    const p = 128 / 255;
    expect(out[0]).toBeCloseTo((p - 0.5) / 0.25, 6);
    expect(out[7 * 9]).toBeCloseTo((p - 0.5) / 0.5, 6);
    expect(out[2 * 7 * 9 + 20]).toBeCloseTo(p - 0.5, 6);
  });

  it('2x downscale of a 4x1 ramp averages with the widened triangle filter', () => {
    // Source pixels 0, 100, 200, 250 (red); output 2x1. Output 0 centre = 0.5 in source, support 2:
    // taps -1..2 with weights 0.25, 0.75, 0.75, 0.25 over clamped pixels 0, 0, 100, 200.
    const red = [0, 100, 200, 250];
    const img = new Uint8Array(16);
    red.forEach((r, i) => (img[i * 4] = r));
    const out = preprocessReference(img, 4, 1, { x: 0, y: 0, width: 4, height: 1 }, { ...stretch224, size: [1, 2] });
    const expected0 = (0.25 * 0 + 0.75 * 0 + 0.75 * 100 + 0.25 * 200) / 2 / 255;
    // Output 1 centre = 2.5: taps 1..4 weights 0.25, 0.75, 0.75, 0.25 over 100, 200, 250, 250 (clamped).
    const expected1 = (0.25 * 100 + 0.75 * 200 + 0.75 * 250 + 0.25 * 250) / 2 / 255;
    expect(out[0]).toBeCloseTo(expected0, 6);
    expect(out[1]).toBeCloseTo(expected1, 6);
  });

  it('upscaling interpolates bilinearly between neighbours', () => {
    const img = new Uint8Array([0, 0, 0, 255, 255, 0, 0, 255]);
    const out = preprocessReference(img, 2, 1, { x: 0, y: 0, width: 2, height: 1 }, { ...stretch224, size: [1, 4] });
    // Centres at -0.25, 0.25, 0.75, 1.25 -> 0, 0.25, 0.75, 1 (edges clamp).
    expect(Array.from(out.slice(0, 4)).map((v) => Number(v.toFixed(6)))).toEqual([0, 0.25, 0.75, 1]);
  });
});
