/**
 * TFLite ADD / SUB / MUL / DIV / MAXIMUM / MINIMUM / POW / SQUARED_DIFFERENCE: tiny models through the loader
 * and the CPU reference, against NumPy broadcasting computed on the NHWC data itself (`broadcastNaive` never
 * converts layouts, so the loader's NHWC -> NCHW handling of constants is checked).
 */
import { describe, expect, it } from 'vitest';
import { UnsupportedOpError } from '../../errors.ts';
import { runGraphReference } from '../../reference/index.ts';
import { Rng } from '../../util/random.ts';
import { broadcastNaive, expectClose, thrown } from '../../../test/onnx-helpers.ts';
import type { Nd } from '../../../test/onnx-helpers.ts';
import type { WriterOptions } from '../../../test/helpers/tflite-writer.ts';
import { TfliteWriter, options } from '../../../test/helpers/tflite-writer.ts';
import { loadTflite } from './index.ts';
import { BuiltinOp, OptionsType } from './schema.ts';

const rng = new Rng(5);
const random = (dims: number[], lo = -1, hi = 1): Nd => ({ dims, data: rng.fill(dims.reduce((a, d) => a * d, 1), lo, hi) });

/** NHWC data of rank-4 `dims` in NCHW order (what the IR's inputs and outputs hold); other ranks unchanged. */
function toNchw(t: Nd): Float32Array {
  if (t.dims.length !== 4) return t.data;
  const [N, H, W, C] = t.dims;
  const out = new Float32Array(t.data.length);
  for (let n = 0; n < N; n++)
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) for (let c = 0; c < C; c++) out[((n * C + c) * H + y) * W + x] = t.data[((n * H + y) * W + x) * C + c];
  return out;
}

const OPS = {
  ADD: { code: BuiltinOp.ADD, f: (p: number, q: number) => p + q, opts: OptionsType.AddOptions },
  SUB: { code: BuiltinOp.SUB, f: (p: number, q: number) => p - q, opts: OptionsType.SubOptions },
  MUL: { code: BuiltinOp.MUL, f: (p: number, q: number) => p * q, opts: OptionsType.MulOptions },
  DIV: { code: BuiltinOp.DIV, f: (p: number, q: number) => p / q, opts: OptionsType.DivOptions },
  MAXIMUM: { code: BuiltinOp.MAXIMUM, f: Math.max, opts: null },
  MINIMUM: { code: BuiltinOp.MINIMUM, f: Math.min, opts: null },
  POW: { code: BuiltinOp.POW, f: Math.pow, opts: null },
  SQUARED_DIFFERENCE: { code: BuiltinOp.SQUARED_DIFFERENCE, f: (p: number, q: number) => (p - q) * (p - q), opts: null },
} as const;
type OpName = keyof typeof OPS;

const ACT_CODES = { NONE: 0, RELU: 1, RELU6: 3 } as const;
const ACT_FNS = { NONE: (v: number) => v, RELU: (v: number) => Math.max(v, 0), RELU6: (v: number) => Math.min(Math.max(v, 0), 6) };

/** `a op b`: each operand a graph input, or (`constant`) a constant tensor; the output dims given. */
function run(op: OpName, a: Nd, b: Nd, constant: 'a' | 'b' | null, act: keyof typeof ACT_CODES = 'NONE') {
  const w = new TfliteWriter();
  const ids = ([['a', a], ['b', b]] as const).map(([name, t]) => (constant === name ? w.float32(name, [...t.dims], t.data) : w.input(name, [...t.dims])));
  const want = broadcastNaive(a, b, OPS[op].f);
  const y = w.activation('y', [...want.dims]);
  const spec = OPS[op];
  const opts: WriterOptions | undefined = spec.opts === null ? undefined : { type: spec.opts, fields: [[0, 'int8', ACT_CODES[act]]] };
  w.op(spec.code, ids, [y], opts);
  w.output(y);
  const model = loadTflite(w.build());
  const inputs = ([['a', a], ['b', b]] as const).filter(([name]) => constant !== name).map(([, t]) => toNchw(t));
  const [out] = runGraphReference(model.graph, inputs);
  return { model, out, want: toNchw({ dims: want.dims, data: want.data.map(ACT_FNS[act]) }) };
}

describe('TFLite binary ops', () => {
  for (const op of Object.keys(OPS) as OpName[]) {
    it(`${op}: two run-time tensors broadcasting per channel, per (n, c) and as scalars; constants in either place`, () => {
      const pos = op === 'POW' || op === 'DIV';
      const x = random([2, 3, 4, 5], pos ? 0.2 : -1, 2);
      const cases: [Nd, Nd, 'a' | 'b' | null][] = [
        [x, random([2, 3, 4, 5], pos ? 0.5 : -1, 2), null],
        [x, random([1, 1, 1, 5], pos ? 0.5 : -1, 2), null],
        [x, random([2, 1, 1, 5], pos ? 0.5 : -1, 2), null],
        [x, random([2, 3, 4, 5], pos ? 0.5 : -1, 2), 'b'],
        [random([1, 3, 4, 5], pos ? 0.5 : -1, 2), x, 'a'],
        [x, random([5], pos ? 0.5 : -1, 2), 'b'],
        [random([], pos ? 0.5 : -1, 2), x, 'a'],
      ];
      for (const [a, b, constant] of cases) {
        const { model, out, want } = run(op, a, b, constant);
        const kinds = model.graph.nodes.map((n) => n.op);
        expect(kinds, `${a.dims} ${op} ${b.dims} (${constant})`).toEqual([op === 'ADD' && !constant ? 'add' : 'binary']);
        expectClose(out, want);
      }
    });
  }

  it('ADD, SUB, MUL and DIV take their fused activation', () => {
    for (const op of ['ADD', 'SUB', 'MUL', 'DIV'] as const) {
      for (const act of ['RELU', 'RELU6'] as const) {
        const { out, want } = run(op, random([1, 2, 3, 4], -8, 8), random([1, 1, 1, 4], 0.5, 3), null, act);
        expectClose(out, want);
      }
    }
  });

  it('refuses two constants, by op', () => {
    const w = new TfliteWriter();
    const x = w.input('x', [1, 2, 2, 1]);
    const c = w.float32('c', [1], [2]);
    const d = w.float32('d', [1], [3]);
    const t = w.activation('t', [1]);
    const y = w.activation('y', [1, 2, 2, 1]);
    w.op(BuiltinOp.MUL, [c, d], [t], options.empty(OptionsType.MulOptions));
    w.op(BuiltinOp.ADD, [x, t], [y], options.add());
    w.output(y);
    const e = thrown(() => loadTflite(w.build()));
    expect(e).toBeInstanceOf(UnsupportedOpError);
    expect(e.message).toMatch(/MUL of two constants/);
  });
});
