/**
 * Test-only: a copy of a `.tflite` file whose ARG_MAX ops write int32 instead of int64, patched in place (the
 * output tensor's `type` byte and the options' `output_type` byte), so that runtimes that cannot hand back
 * int64 tensors (tfjs-tflite) can serve as the oracle of a model that ends in ARG_MAX, such as DeepLabV3.
 * A small walker of its own (the loader's reader is read-only by design). Browser-safe.
 */
import { BuiltinOp, TensorType } from '../../src/formats/tflite/schema.ts';

export function argMaxToInt32(file: Uint8Array): Uint8Array {
  const bytes = file.slice();
  const view = new DataView(bytes.buffer);
  const u32 = (p: number) => view.getUint32(p, true);
  /** Where field `i` of the table at `t` is stored, or -1 when absent. */
  const field = (t: number, i: number): number => {
    const vt = t - view.getInt32(t, true);
    const size = view.getUint16(vt, true);
    const off = 4 + 2 * i < size ? view.getUint16(vt + 4 + 2 * i, true) : 0;
    return off ? t + off : -1;
  };
  const ref = (p: number) => p + u32(p);
  const vector = (t: number, i: number): number[] => {
    const p = field(t, i);
    if (p < 0) return [];
    const v = ref(p);
    return Array.from({ length: u32(v) }, (_, k) => v + 4 + 4 * k);
  };
  const model = ref(0);
  const codes = vector(model, 1).map((p) => {
    const code = ref(p);
    const builtin = field(code, 3);
    const deprecated = field(code, 0);
    return builtin >= 0 ? view.getInt32(builtin, true) : deprecated >= 0 ? view.getInt8(deprecated) : 0;
  });
  let patched = 0;
  for (const sg of vector(model, 2).map(ref)) {
    const tensors = vector(sg, 0).map(ref);
    for (const op of vector(sg, 3).map(ref)) {
      const index = field(op, 0);
      if (codes[index >= 0 ? u32(index) : 0] !== BuiltinOp.ARG_MAX) continue;
      for (const out of vector(op, 2).map((p) => view.getInt32(p, true))) {
        const type = field(tensors[out], 1);
        if (type < 0 || bytes[type] !== TensorType.INT64) throw new Error(`ARG_MAX output tensor ${out} is not int64`);
        bytes[type] = TensorType.INT32;
      }
      const options = field(op, 4);
      const outputType = options >= 0 ? field(ref(options), 0) : -1;
      if (outputType >= 0 && bytes[outputType] === TensorType.INT64) bytes[outputType] = TensorType.INT32;
      patched++;
    }
  }
  if (patched === 0) throw new Error('no ARG_MAX op to patch');
  return bytes;
}
