/** TFLite CONCATENATION, SPLIT, SPLIT_V and STRIDED_SLICE on the channel axis, against TFLite's NHWC semantics. */
import { describe, expect, it } from 'vitest';
import { ModelFormatError, UnsupportedOpError } from '../../errors.ts';
import { runGraphReference } from '../../reference/index.ts';
import { Rng } from '../../util/random.ts';
import { loadTflite } from './index.ts';
import { BuiltinOp, OptionsType } from './schema.ts';
import * as ref from '../../../test/helpers/tflite-nhwc.ts';
import type { OptionField } from '../../../test/helpers/tflite-writer.ts';
import { TfliteWriter } from '../../../test/helpers/tflite-writer.ts';

type Shape = [number, number, number, number];
const random = (shape: Shape, seed: number): ref.Nhwc => {
  const rng = new Rng(seed);
  return ref.nhwc(shape, Array.from({ length: shape.reduce((a, d) => a * d, 1) }, () => Math.fround(rng.uniform(-2, 2))));
};
/** NHWC channels `start .. start + count - 1` of each of `ts` side by side (TFLite's concat / slice on axis 3). */
function channels(ts: readonly { t: ref.Nhwc; start: number; count: number }[]): ref.Nhwc {
  const [n, h, w] = ts[0].t.shape;
  const c = ts.reduce((a, p) => a + p.count, 0);
  const out: number[] = [];
  for (let p = 0; p < n * h * w; p++) for (const { t, start, count } of ts) for (let k = 0; k < count; k++) out.push(t.data[p * t.shape[3] + start + k]);
  return ref.nhwc([n, h, w, c], out);
}
const opts = (type: number, fields: OptionField[]) => ({ type, fields });

describe('TFLite channel ops', () => {
  it('CONCATENATION on axis 3 and -1 with a fused RELU, batch 2, odd channel counts', () => {
    for (const axis of [3, -1]) {
      const w = new TfliteWriter();
      const a = w.input('a', [2, 2, 3, 3]);
      const b = w.input('b', [2, 2, 3, 2]);
      const y = w.activation('y', [2, 2, 3, 5]);
      w.op(BuiltinOp.CONCATENATION, [a, b], [y], opts(OptionsType.ConcatenationOptions, [[0, 'int32', axis], [1, 'int8', 1]]));
      w.output(y);
      const model = loadTflite(w.build());
      expect(model.graph.nodes.map((n) => n.op)).toEqual(['concat', 'activation']);
      const [ta, tb] = [random([2, 2, 3, 3], 1), random([2, 2, 3, 2], 2)];
      const want = channels([{ t: ta, start: 0, count: 3 }, { t: tb, start: 0, count: 2 }]);
      const got = runGraphReference(model.graph, [ref.toNchw(ta), ref.toNchw(tb)])[0];
      expect(Array.from(got)).toEqual(Array.from(ref.toNchw(ref.nhwc(want.shape, want.data.map((v) => Math.max(v, 0))))));
    }
  });

  it('CONCATENATION along a spatial axis is refused naming the operator', () => {
    const w = new TfliteWriter();
    const a = w.input('a', [1, 2, 2, 3]);
    const y = w.activation('y', [1, 4, 2, 3]);
    w.op(BuiltinOp.CONCATENATION, [a, a], [y], opts(OptionsType.ConcatenationOptions, [[0, 'int32', 1]]));
    w.output(y);
    const e = (() => { try { loadTflite(w.build()); } catch (err) { return err as Error; } throw new Error('loaded'); })();
    expect(e).toBeInstanceOf(UnsupportedOpError);
    expect(e.message).toMatch(/operator 0 \(CONCATENATION\): CONCATENATION along axis 1 .* channel axis/);
  });

  it('SPLIT into equal parts and SPLIT_V with a -1 size, feeding a concat back in another order', () => {
    const w = new TfliteWriter();
    const x = w.input('x', [2, 2, 2, 6]);
    const axis = w.int32('axis', [], [3]);
    const [p, q] = [w.activation('p', [2, 2, 2, 3]), w.activation('q', [2, 2, 2, 3])];
    w.op(BuiltinOp.SPLIT, [axis, x], [p, q], opts(OptionsType.SplitOptions, [[0, 'int32', 2]]));
    const sizes = w.int32('sizes', [2], [1, -1]);
    const [r, s] = [w.activation('r', [2, 2, 2, 1]), w.activation('s', [2, 2, 2, 2])];
    w.op(BuiltinOp.SPLIT_V, [q, sizes, axis], [r, s], opts(OptionsType.SplitVOptions, [[0, 'int32', 2]]));
    const y = w.activation('y', [2, 2, 2, 6]);
    w.op(BuiltinOp.CONCATENATION, [s, p, r], [y], opts(OptionsType.ConcatenationOptions, [[0, 'int32', 3]]));
    w.output(y);
    const model = loadTflite(w.build());
    const tx = random([2, 2, 2, 6], 3);
    const want = channels([{ t: tx, start: 4, count: 2 }, { t: tx, start: 0, count: 3 }, { t: tx, start: 3, count: 1 }]);
    expect(Array.from(runGraphReference(model.graph, [ref.toNchw(tx)])[0])).toEqual(Array.from(ref.toNchw(want)));
  });

  it('STRIDED_SLICE of a channel range with masks and negative bounds; other axes or strides are refused', () => {
    const build = (begin: number[], end: number[], strides: number[], beginMask = 0, endMask = 0) => {
      const w = new TfliteWriter();
      const x = w.input('x', [2, 3, 2, 7]);
      const y = w.activation('y', [2, 3, 2, 3]);
      w.op(BuiltinOp.STRIDED_SLICE, [x, w.int32('b', [4], begin), w.int32('e', [4], end), w.int32('s', [4], strides)], [y],
        opts(OptionsType.StridedSliceOptions, [[0, 'int32', beginMask], [1, 'int32', endMask]]));
      w.output(y);
      return w.build();
    };
    const tx = random([2, 3, 2, 7], 4);
    const want = Array.from(ref.toNchw(channels([{ t: tx, start: 2, count: 3 }])));
    // Axes 0-2 whole by mask (begin 5 ignored) or by bounds; channels 2 .. 4 as [2, -2).
    const model = loadTflite(build([5, 0, 0, 2], [0, 3, 2, -2], [1, 1, 1, 1], 0b0001, 0b0001));
    expect(model.graph.nodes.map((n) => n.op)).toEqual(['sliceChannels']);
    expect(Array.from(runGraphReference(model.graph, [ref.toNchw(tx)])[0])).toEqual(want);
    expect(() => loadTflite(build([0, 1, 0, 2], [2, 3, 2, 5], [1, 1, 1, 1]))).toThrow(/STRIDED_SLICE of axis 1 .* channel range/);
    expect(() => loadTflite(build([0, 0, 0, 0], [2, 3, 2, 7], [1, 1, 1, 2]))).toThrow(UnsupportedOpError);
  });

  it('SPLIT whose parts do not fit the channels is a format error', () => {
    const w = new TfliteWriter();
    const x = w.input('x', [1, 2, 2, 5]);
    const [p, q] = [w.activation('p', [1, 2, 2, 2]), w.activation('q', [1, 2, 2, 3])];
    w.op(BuiltinOp.SPLIT, [w.int32('axis', [], [-1]), x], [p, q], opts(OptionsType.SplitOptions, [[0, 'int32', 2]]));
    w.output(p);
    expect(() => loadTflite(w.build())).toThrow(ModelFormatError);
  });
});
