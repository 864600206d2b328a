/**
 * Fuzz seeds that hold every function of the activation table: in ONNX, a conv stack with each table op once
 * (exported from the IR, so a new table entry joins without an edit here); in TFLite, a chain of every opcode
 * of `TFLITE_ACTIVATION_CASES`.
 */
import { ACTIVATION_FUNCTIONS, functionActivation } from '../../src/graph/activations/index.ts';
import { GraphBuilder } from '../../src/graph/builder.ts';
import { exportOnnx } from '../../src/formats/onnx/export.ts';
import { Rng } from '../../src/util/random.ts';
import { TFLITE_ACTIVATION_CASES } from '../activation-cases.ts';
import { TfliteWriter } from '../helpers/tflite-writer.ts';

export function onnxActivationNet(seed: number): Uint8Array {
  const rng = new Rng(seed);
  const b = new GraphBuilder();
  let x = b.input('x', [1, 4, 6, 6]);
  for (const e of ACTIVATION_FUNCTIONS.values()) {
    x = b.conv2d(x, { outChannels: 4, kernel: 3, padding: 1, weight: rng.fill(144, -0.5, 0.5), bias: rng.fill(4, -0.1, 0.1) });
    x = b.activation(x, functionActivation(e.name, e.defaults), e.onnxOp);
  }
  b.output(x);
  return exportOnnx(b.build());
}

export function tfliteActivationNet(): Uint8Array {
  return tfliteActivationNetWriter().build();
}

/** The writer behind `tfliteActivationNet`, before `build()` (the structured mutations edit it). */
export function tfliteActivationNetWriter(): TfliteWriter {
  const w = new TfliteWriter();
  let x = w.input('x', [1, 3, 3, 4]);
  TFLITE_ACTIVATION_CASES.forEach((c, i) => {
    const y = w.activation(`act${i}`, [1, 3, 3, 4]);
    w.op(c.code, [x], [y], c.options);
    x = y;
  });
  w.output(x);
  return w;
}
