/**
 * TFLite RESIZE_BILINEAR, RESIZE_NEAREST_NEIGHBOR, ARG_MAX and TRANSPOSE_CONV against TFLite's own definitions
 * (reference_ops: ResizeBilinear's ComputeInterpolationValues, GetNearestNeighbor, ArgMinMax, TransposeConv),
 * written here over NHWC independently of the IR's ONNX-style modes.
 */
import { describe, expect, it } from 'vitest';
import { UnsupportedOpError } from '../../errors.ts';
import { runGraphReference } from '../../reference/index.ts';
import { Rng } from '../../util/random.ts';
import { loadTflite } from './index.ts';
import { BuiltinOp, OptionsType, TensorType } from './schema.ts';
import { TfliteWriter, type WriterOptions } from '../../../test/helpers/tflite-writer.ts';

const toNchw = (x: Float32Array, [n, h, w, c]: readonly number[]): Float32Array => {
  const out = new Float32Array(x.length);
  for (let b = 0; b < n; b++) for (let y = 0; y < h; y++) for (let xx = 0; xx < w; xx++) for (let k = 0; k < c; k++) out[((b * c + k) * h + y) * w + xx] = x[((b * h + y) * w + xx) * c + k];
  return out;
};

function expectClose(got: Float32Array, want: Float32Array): void {
  expect(got.length).toBe(want.length);
  let max = 0;
  let err = 0;
  for (let i = 0; i < want.length; i++) {
    max = Math.max(max, Math.abs(want[i]));
    err = Math.max(err, Math.abs(got[i] - want[i]));
  }
  expect(err).toBeLessThanOrEqual(1e-5 * max + 1e-6);
}

/** TFLite's ResizeBilinear (float), NHWC. */
function tfliteBilinear(x: Float32Array, [n, h, w, c]: readonly number[], oh: number, ow: number, align: boolean, half: boolean): Float32Array {
  const scale = (i: number, o: number) => (align && o > 1 ? (i - 1) / (o - 1) : i / o);
  const interp = (v: number, s: number, size: number) => {
    const scaled = half ? (v + 0.5) * s - 0.5 : v * s;
    const f = Math.floor(scaled);
    return { scaled, lo: Math.max(f, 0), hi: Math.min(Math.ceil(scaled), size - 1) };
  };
  const out = new Float32Array(n * oh * ow * c);
  const sy = scale(h, oh);
  const sx = scale(w, ow);
  for (let b = 0; b < n; b++) for (let y = 0; y < oh; y++) {
    const iy = interp(y, sy, h);
    for (let xx = 0; xx < ow; xx++) {
      const ix = interp(xx, sx, w);
      for (let k = 0; k < c; k++) {
        const at = (yy: number, xc: number) => x[((b * h + yy) * w + xc) * c + k];
        const dy = iy.scaled - iy.lo;
        const dx = ix.scaled - ix.lo;
        out[((b * oh + y) * ow + xx) * c + k] =
          at(iy.lo, ix.lo) * (1 - dy) * (1 - dx) + at(iy.lo, ix.hi) * (1 - dy) * dx + at(iy.hi, ix.lo) * dy * (1 - dx) + at(iy.hi, ix.hi) * dy * dx;
      }
    }
  }
  return out;
}

/** TFLite's ResizeNearestNeighbor, NHWC. */
function tfliteNearest(x: Float32Array, [n, h, w, c]: readonly number[], oh: number, ow: number, align: boolean, half: boolean): Float32Array {
  const pick = (v: number, i: number, o: number) => {
    const s = align && o > 1 ? (i - 1) / (o - 1) : i / o;
    const off = half ? 0.5 : 0;
    const r = Math.min(align ? Math.round((v + off) * s) : Math.floor((v + off) * s), i - 1);
    return half ? Math.max(0, r) : r;
  };
  const out = new Float32Array(n * oh * ow * c);
  for (let b = 0; b < n; b++) for (let y = 0; y < oh; y++) for (let xx = 0; xx < ow; xx++) for (let k = 0; k < c; k++) {
    out[((b * oh + y) * ow + xx) * c + k] = x[((b * h + pick(y, h, oh)) * w + pick(xx, w, ow)) * c + k];
  }
  return out;
}

function resizeModel(op: number, type: number, inDims: number[], size: [number, number], align: boolean, half: boolean): Uint8Array {
  const w = new TfliteWriter();
  const x = w.input('x', inDims);
  const s = w.int32('size', [2], size);
  const y = w.activation('y', [inDims[0], size[0], size[1], inDims[3]]);
  const fields: WriterOptions['fields'] = type === OptionsType.ResizeBilinearOptions ? [[2, 'bool', align], [3, 'bool', half]] : [[0, 'bool', align], [1, 'bool', half]];
  w.op(op, [x, s], [y], { type, fields });
  w.output(y);
  return w.build();
}

describe('TFLite RESIZE_BILINEAR / RESIZE_NEAREST_NEIGHBOR', () => {
  const dims = [2, 5, 4, 3];
  const x = new Rng(7).fill(2 * 5 * 4 * 3, -1, 1);
  const modes: [boolean, boolean][] = [[false, false], [true, false], [false, true]];
  for (const [oh, ow] of [[9, 7], [3, 2], [5, 11]] as const) {
    for (const [align, half] of modes) {
      it(`bilinear ${dims[1]}x${dims[2]} -> ${oh}x${ow} align_corners=${align} half_pixel_centers=${half}`, () => {
        const m = loadTflite(resizeModel(BuiltinOp.RESIZE_BILINEAR, OptionsType.ResizeBilinearOptions, dims, [oh, ow], align, half));
        expectClose(runGraphReference(m.graph, [toNchw(x, dims)])[0], toNchw(tfliteBilinear(x, dims, oh, ow, align, half), [2, oh, ow, 3]));
      });
      it(`nearest ${dims[1]}x${dims[2]} -> ${oh}x${ow} align_corners=${align} half_pixel_centers=${half}`, () => {
        const m = loadTflite(resizeModel(BuiltinOp.RESIZE_NEAREST_NEIGHBOR, OptionsType.ResizeNearestNeighborOptions, dims, [oh, ow], align, half));
        expectClose(runGraphReference(m.graph, [toNchw(x, dims)])[0], toNchw(tfliteNearest(x, dims, oh, ow, align, half), [2, oh, ow, 3]));
      });
    }
  }
  it('refuses align_corners with half_pixel_centers', () => {
    expect(() => loadTflite(resizeModel(BuiltinOp.RESIZE_BILINEAR, OptionsType.ResizeBilinearOptions, dims, [8, 8], true, true))).toThrow(UnsupportedOpError);
  });
});

describe('TFLite ARG_MAX', () => {
  it('gives the channel index per pixel as the [n, 1, h, w] map, from an int64 [n, h, w] output', () => {
    const w = new TfliteWriter();
    const x = w.input('x', [1, 2, 3, 5]);
    const axis = w.int32('axis', [1], [3]);
    const y = w.activation('y', [1, 2, 3], TensorType.INT64);
    w.op(BuiltinOp.ARG_MAX, [x, axis], [y], { type: OptionsType.ArgMaxOptions, fields: [[0, 'int8', TensorType.INT64]] });
    w.output(y);
    const m = loadTflite(w.build());
    const data = new Rng(3).fill(30, -1, 1);
    const want = new Float32Array(6);
    for (let p = 0; p < 6; p++) {
      let best = 0;
      for (let k = 1; k < 5; k++) if (data[p * 5 + k] > data[p * 5 + best]) best = k;
      want[p] = best;
    }
    expect(m.graph.tensors[m.graph.outputs[0]].shape).toEqual([1, 1, 2, 3]);
    expect([...runGraphReference(m.graph, [toNchw(data, [1, 2, 3, 5])])[0]]).toEqual([...want]);
  });
  it('refuses other axes', () => {
    const w = new TfliteWriter();
    const x = w.input('x', [1, 2, 3, 5]);
    const axis = w.int32('axis', [1], [1]);
    const y = w.activation('y', [1, 3, 5], TensorType.INT64);
    w.op(BuiltinOp.ARG_MAX, [x, axis], [y], { type: OptionsType.ArgMaxOptions, fields: [] });
    w.output(y);
    expect(() => loadTflite(w.build())).toThrow(/only over the channels/);
  });
});

describe('TFLite TRANSPOSE_CONV', () => {
  /** TFLite's TransposeConv: scatter, with the padding of the forward conv from output to input. */
  function tfliteTransposeConv(x: Float32Array, [n, h, w, c]: number[], f: Float32Array, [oc, kh, kw]: number[], [oh, ow]: number[], s: number, same: boolean, bias: Float32Array): Float32Array {
    const pad = (i: number, k: number, o: number) => (same ? Math.floor(Math.max((i - 1) * s + k - o, 0) / 2) : 0);
    const py = pad(h, kh, oh);
    const px = pad(w, kw, ow);
    const out = new Float64Array(n * oh * ow * oc);
    for (let b = 0; b < n; b++) for (let iy = 0; iy < h; iy++) for (let ix = 0; ix < w; ix++) for (let ic = 0; ic < c; ic++) {
      for (let ky = 0; ky < kh; ky++) for (let kx = 0; kx < kw; kx++) for (let o = 0; o < oc; o++) {
        const y = iy * s + ky - py;
        const xx = ix * s + kx - px;
        if (y < 0 || y >= oh || xx < 0 || xx >= ow) continue;
        out[((b * oh + y) * ow + xx) * oc + o] += x[((b * h + iy) * w + ix) * c + ic] * f[((o * kh + ky) * kw + kx) * c + ic];
      }
    }
    return Float32Array.from(out, (v, i) => v + bias[i % oc]);
  }
  for (const [same, k, s, inH, outH] of [[true, 3, 2, 4, 8], [false, 2, 2, 3, 6], [true, 4, 2, 3, 6], [false, 3, 2, 3, 8]] as const) {
    it(`${same ? 'SAME' : 'VALID'} kernel ${k} stride ${s}: ${inH} -> ${outH}`, () => {
      const rng = new Rng(k * 10 + s);
      const [c, oc] = [3, 5];
      const inDims = [1, inH, inH + 1, c];
      const outW = (inH + 1) * s + (outH - inH * s);
      const fData = rng.fill(oc * k * k * c, -0.5, 0.5);
      const bData = rng.fill(oc, -0.5, 0.5);
      const w = new TfliteWriter();
      const x = w.input('x', inDims);
      const shape = w.int32('output_shape', [4], [1, outH, outW, oc]);
      const f = w.float32('filter', [oc, k, k, c], fData);
      const b = w.float32('bias', [oc], bData);
      const y = w.activation('y', [1, outH, outW, oc]);
      w.op(BuiltinOp.TRANSPOSE_CONV, [shape, f, x, b], [y], { type: OptionsType.TransposeConvOptions, fields: [[0, 'int8', same ? 0 : 1], [1, 'int32', s], [2, 'int32', s]] });
      w.output(y);
      const m = loadTflite(w.build());
      const data = rng.fill(inH * (inH + 1) * c, -1, 1);
      const want = tfliteTransposeConv(data, inDims, fData, [oc, k, k], [outH, outW], s, same, bData);
      expectClose(runGraphReference(m.graph, [toNchw(data, inDims)])[0], toNchw(want, [1, outH, outW, oc]));
    });
  }
});
