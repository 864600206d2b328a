import { describe, expect, it } from 'vitest';
import type { ConvTransposeAttrs, ResizeAttrs } from '../graph/ir.ts';
import { argMax, convTranspose, resize } from './upsample.ts';

const resizeAttrs = (o: Partial<ResizeAttrs> & Pick<ResizeAttrs, 'size' | 'scale'>): ResizeAttrs => ({
  mode: 'linear', coordinates: 'half_pixel', nearest: 'round_prefer_floor', ...o,
});

describe('resize reference (ONNX definitions)', () => {
  const ramp = new Float32Array([0, 10, 20, 30]); // [1, 1, 1, 4]
  it('bilinear half_pixel 4 -> 8 clamps at the edges', () => {
    const r = resize(ramp, [1, 1, 1, 4], resizeAttrs({ size: [1, 8], scale: [1, 2] }));
    expect([...r.data]).toEqual([0, 2.5, 7.5, 12.5, 17.5, 22.5, 27.5, 30]);
  });
  it('bilinear align_corners 4 -> 7 hits the corners', () => {
    const r = resize(ramp, [1, 1, 1, 4], resizeAttrs({ coordinates: 'align_corners', size: [1, 7], scale: [1, 7 / 4] }));
    expect([...r.data]).toEqual([0, 5, 10, 15, 20, 25, 30]);
  });
  it('nearest asymmetric floor repeats (Upsample)', () => {
    const r = resize(ramp, [1, 1, 1, 4], resizeAttrs({ mode: 'nearest', coordinates: 'asymmetric', nearest: 'floor', size: [1, 8], scale: [1, 2] }));
    expect([...r.data]).toEqual([0, 0, 10, 10, 20, 20, 30, 30]);
  });
  it('nearest rounds ties by nearest_mode', () => {
    // align_corners 4 -> 7: coordinates 0, .5, 1, 1.5, 2, 2.5, 3.
    const at = (nearest: ResizeAttrs['nearest']) =>
      [...resize(ramp, [1, 1, 1, 4], resizeAttrs({ mode: 'nearest', coordinates: 'align_corners', nearest, size: [1, 7], scale: [1, 7 / 4] })).data];
    expect(at('round_prefer_floor')).toEqual([0, 0, 10, 10, 20, 20, 30]);
    expect(at('round_prefer_ceil')).toEqual([0, 10, 10, 20, 20, 30, 30]);
  });
  it('pytorch_half_pixel maps a length-1 output to coordinate 0', () => {
    const r = resize(ramp, [1, 1, 1, 4], resizeAttrs({ coordinates: 'pytorch_half_pixel', size: [1, 1], scale: [1, 0.25] }));
    expect([...r.data]).toEqual([0]);
  });
});

describe('argMax reference', () => {
  it('takes the first largest channel per pixel', () => {
    // [1, 3, 1, 2]: pixel 0 channels (1, 5, 5) -> 1; pixel 1 (7, 2, 7) -> 0.
    const r = argMax(new Float32Array([1, 7, 5, 2, 5, 7]), [1, 3, 1, 2]);
    expect(r.shape).toEqual([1, 1, 1, 2]);
    expect([...r.data]).toEqual([1, 0]);
  });
});

describe('convTranspose reference', () => {
  const attrs = (o: Partial<ConvTransposeAttrs>): ConvTransposeAttrs => ({
    outChannels: 1, kernel: [1, 2], stride: [1, 2], pads: [0, 0, 0, 0], outputPadding: [0, 0], dilation: [1, 1], groups: 1,
    weight: new Float32Array([1, 10]), bias: null, ...o,
  });
  it('scatters each input through the kernel (stride 2, 1x2 kernel)', () => {
    const r = convTranspose(new Float32Array([1, 2, 3]), [1, 1, 1, 3], attrs({}));
    expect([...r.data]).toEqual([1, 10, 2, 20, 3, 30]);
  });
  it('overlapping taps sum, pads crop, output padding and bias extend', () => {
    const r = convTranspose(new Float32Array([1, 2]), [1, 1, 1, 2], attrs({ stride: [1, 1], pads: [0, 1, 0, 0], outputPadding: [0, 0], bias: new Float32Array([0.5]) }));
    // Full output [1, 12, 20]; crop one on the left.
    expect([...r.data]).toEqual([12.5, 20.5]);
  });
});
