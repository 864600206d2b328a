/**
 * Fuzz seeds for the general product and PRelu: an ONNX graph with a batched MatMul of two computed inputs, a
 * PRelu with a trailing-axis slope, a Gemm with transB, alpha / beta and a computed bias, and a per-channel
 * PRelu; a TFLite chain of ABS -> RSQRT -> PRELU (per-channel constant alpha).
 */
import { attr, encodeModel, makeGraph, makeModel, makeNode, makeTensor, makeValueInfo } from '../../src/formats/onnx/writer.ts';
import { BuiltinOp } from '../../src/formats/tflite/schema.ts';
import { Rng } from '../../src/util/random.ts';
import { TfliteWriter } from '../helpers/tflite-writer.ts';

const f32 = (rng: Rng, n: number): number[] => Array.from({ length: n }, () => rng.uniform(-1, 1));

/** MatMul(a [2, 3, 4], b [2, 4, 5]) -> PRelu(slope [5]) -> Add(Gemm(ga, gb^T, c)) -> PRelu(slope [2, 1, 1]). */
export function onnxMatMulNet(seed: number): Uint8Array {
  const rng = new Rng(seed);
  return encodeModel(
    makeModel({
      opset: 13,
      graph: makeGraph({
        nodes: [
          makeNode('MatMul', ['a', 'b'], ['m'], {}, 'matmul'),
          makeNode('PRelu', ['m', 's5'], ['p'], {}, 'prelu.last'),
          makeNode('Gemm', ['ga', 'gb', 'c'], ['g'], { transB: attr.int(1), alpha: attr.float(0.5), beta: attr.float(2) }, 'gemm'),
          makeNode('Add', ['p', 'g'], ['sum'], {}, 'add'),
          makeNode('PRelu', ['sum', 's2'], ['y'], {}, 'prelu.channel'),
        ],
        inputs: [makeValueInfo('a', [2, 3, 4]), makeValueInfo('b', [2, 4, 5]), makeValueInfo('ga', [3, 4]), makeValueInfo('gb', [5, 4]), makeValueInfo('c', [3, 5])],
        outputs: [makeValueInfo('y', [2, 3, 5])],
        initializers: [makeTensor('s5', [5], f32(rng, 5)), makeTensor('s2', [2, 1, 1], f32(rng, 2))],
      }),
      metadata: { author: 'webcnn fuzz' },
    }),
  );
}

/** ABS -> RSQRT -> PRELU with a per-channel constant alpha [1, 1, 4]. */
export function tfliteRsqrtPreluNet(seed: number): Uint8Array {
  const rng = new Rng(seed);
  const w = new TfliteWriter();
  const shape = [1, 3, 3, 4];
  const x = w.input('x', shape);
  const a = w.activation('abs', shape);
  w.op(BuiltinOp.ABS, [x], [a]);
  const r = w.activation('rsqrt', shape);
  w.op(BuiltinOp.RSQRT, [a], [r]);
  const p = w.activation('prelu', shape);
  w.op(BuiltinOp.PRELU, [r, w.float32('alpha', [1, 1, 4], f32(rng, 4))], [p]);
  w.output(p);
  return w.build();
}
