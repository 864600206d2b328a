/**
 * Fuzz seeds with the element-wise binary ops: an ONNX squeeze-and-excitation block with Pow, Min / Max
 * (variadic), Sub and Div with constants that are not per-channel, and a TFLite chain of SUB / MUL / DIV /
 * MAXIMUM / MINIMUM / SQUARED_DIFFERENCE / POW with constant and broadcast operands.
 */
import type { NodeInit } from '../../src/formats/onnx/writer.ts';
import { encodeModel, makeGraph, makeModel, makeNode, makeTensor, makeValueInfo } from '../../src/formats/onnx/writer.ts';
import { BuiltinOp, OptionsType } from '../../src/formats/tflite/schema.ts';
import { Rng } from '../../src/util/random.ts';
import type { WriterOptions } from '../helpers/tflite-writer.ts';
import { TfliteWriter, options } from '../helpers/tflite-writer.ts';

const f32 = (rng: Rng, n: number, lo = -1, hi = 1): number[] => Array.from({ length: n }, () => rng.uniform(lo, hi));

/** x -> GlobalAveragePool -> Conv 1x1 -> Relu -> Conv 1x1 -> Clip -> Mul(x, gate) -> Pow 2 -> Sub(full-shape c) -> Max(., 0, y) -> Div(2, .) -> Min. */
export function onnxBinaryNet(seed: number): Uint8Array {
  const rng = new Rng(seed);
  const C = 4;
  const nodes: NodeInit[] = [
    makeNode('GlobalAveragePool', ['x'], ['gap'], {}, 'se.pool'),
    makeNode('Conv', ['gap', 'w1', 'b1'], ['h'], {}, 'se.fc1'),
    makeNode('Relu', ['h'], ['hr'], {}, 'se.relu'),
    makeNode('Conv', ['hr', 'w2', 'b2'], ['g'], {}, 'se.fc2'),
    makeNode('Clip', ['g', 'lo', 'hi'], ['gate'], {}, 'se.gate'),
    makeNode('Mul', ['x', 'gate'], ['scaled'], {}, 'se.scale'),
    makeNode('Pow', ['scaled', 'two'], ['sq'], {}, 'square'),
    makeNode('Sub', ['sq', 'c'], ['d'], {}, 'sub'),
    makeNode('Max', ['d', 'lo', 'x'], ['m'], {}, 'max'),
    makeNode('Div', ['two', 'm'], ['q'], {}, 'div'),
    makeNode('Min', ['q', 'hi'], ['y'], {}, 'min'),
  ];
  return encodeModel(
    makeModel({
      opset: 13,
      graph: makeGraph({
        nodes,
        inputs: [makeValueInfo('x', [1, C, 3, 3])],
        outputs: [makeValueInfo('y', [1, C, 3, 3])],
        initializers: [
          makeTensor('w1', [2, C, 1, 1], f32(rng, 2 * C)),
          makeTensor('b1', [2], f32(rng, 2)),
          makeTensor('w2', [C, 2, 1, 1], f32(rng, 2 * C)),
          makeTensor('b2', [C], f32(rng, C)),
          makeTensor('lo', [], [0.25]),
          makeTensor('hi', [], [1]),
          makeTensor('two', [], [2]),
          makeTensor('c', [1, C, 3, 3], f32(rng, 9 * C)),
        ],
      }),
      metadata: { author: 'webcnn fuzz' },
    }),
  );
}

/** SUB (constant NHWC map, RELU) -> MUL (per-channel constant) -> DIV (run-time [1, 1, 1, C]) -> MAXIMUM / MINIMUM -> SQUARED_DIFFERENCE -> POW. */
export function tfliteBinaryNet(seed: number): Uint8Array {
  return tfliteBinaryNetWriter(seed).build();
}

/** The writer behind `tfliteBinaryNet`, before `build()` (the structured mutations edit it). */
export function tfliteBinaryNetWriter(seed: number): TfliteWriter {
  const rng = new Rng(seed);
  const w = new TfliteWriter();
  const shape = [1, 3, 3, 4];
  const x = w.input('x', shape);
  const s = w.input('s', [1, 1, 1, 4]);
  const act = (name: string) => w.activation(name, shape);
  const fused = (type: number, a: number): WriterOptions => ({ type, fields: [[0, 'int8', a]] });
  const t1 = act('sub');
  w.op(BuiltinOp.SUB, [x, w.float32('c', shape, f32(rng, 36))], [t1], fused(OptionsType.SubOptions, 1));
  const t2 = act('mul');
  w.op(BuiltinOp.MUL, [w.float32('k', [4], f32(rng, 4, 0.5, 2)), t1], [t2], fused(OptionsType.MulOptions, 3));
  const t3 = act('div');
  w.op(BuiltinOp.DIV, [t2, s], [t3], fused(OptionsType.DivOptions, 0));
  const t4 = act('max');
  w.op(BuiltinOp.MAXIMUM, [t3, w.float32('zero', [], [0])], [t4], options.empty(OptionsType.MaximumMinimumOptions));
  const t5 = act('min');
  w.op(BuiltinOp.MINIMUM, [t4, x], [t5]);
  const t6 = act('sqdiff');
  w.op(BuiltinOp.SQUARED_DIFFERENCE, [t5, x], [t6], options.empty(OptionsType.SquaredDifferenceOptions));
  const t7 = act('pow');
  w.op(BuiltinOp.POW, [t6, w.float32('e', [1], [0.5])], [t7], options.empty(OptionsType.PowOptions));
  w.output(t7);
  return w;
}
