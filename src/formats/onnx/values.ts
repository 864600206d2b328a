/**
 * How the ONNX importer tracks each ONNX value, and the dims rules every converter shares.
 *
 * Every ONNX value is tracked with its ONNX dims (static; rank 0 to 4) and is either a runtime tensor of the
 * IR or a constant (initializer or Constant node).
 * IR tensors are `[n, c, h, w]`; an ONNX value of rank r maps to IR by padding its dims with 1s:
 *
 *   rank 0 `[]`         -> `[1, 1, 1, 1]`
 *   rank 1 `[c]`        -> `[1, c, 1, 1]`   (a feature vector: the channel axis)
 *   rank 2 `[n, c]`     -> `[n, c, 1, 1]`
 *   rank 3 `[n, c, h]`  -> `[n, c, h, 1]`
 *   rank 4 `[n, c, h, w]`
 *
 * Inserting 1s never changes row-major element order, so the IR's NCHW order is the ONNX order for all of
 * them and reshapes between ranks are free or a gather. `LoadedModel.inputDims/outputDims` keep the ONNX dims.
 */
import { UnsupportedOpError } from '../../errors.ts';
import type { Activation, Shape4, TensorId } from '../../graph/ir.ts';
import { NO_ACTIVATION, RELU, RELU6 } from '../../graph/ir.ts';
import type { ConstantTensor } from './tensor.ts';

export interface RuntimeValue {
  readonly kind: 'runtime';
  readonly dims: readonly number[];
  readonly id: TensorId;
  /**
   * A channels-last view (`ops/channels-last.ts`): the rank-4 ONNX value `[n, h, w, c]` that Transpose
   * `[0, 2, 3, 1]` made of IR tensor `id`, which stays `[n, c, h, w]`; only the converters that know views read it.
   */
  readonly channelsLast?: boolean;
}

export interface ConstantValue {
  readonly kind: 'constant';
  readonly dims: readonly number[];
  readonly tensor: ConstantTensor;
}

export type Value = RuntimeValue | ConstantValue;

/** ONNX dims (rank 0 to 4) -> IR `[n, c, h, w]` (see the file comment). */
export function irShapeOf(dims: readonly number[]): Shape4 {
  switch (dims.length) {
    case 0:
      return [1, 1, 1, 1];
    case 1:
      return [1, dims[0], 1, 1];
    case 2:
      return [dims[0], dims[1], 1, 1];
    case 3:
      return [dims[0], dims[1], dims[2], 1];
    case 4:
      return [dims[0], dims[1], dims[2], dims[3]];
    default:
      throw new UnsupportedOpError(`tensors of rank ${dims.length} ([${dims.join(', ')}]) are not supported; webcnn handles rank 0 to 4`);
  }
}

/** The IR axis an ONNX axis of a rank-`rank` value lands on. */
export function irAxis(rank: number, axis: number): number {
  return rank === 1 ? 1 : axis;
}

export function sameDims(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function fmt(dims: readonly number[]): string {
  return `[${dims.join(', ')}]`;
}

/** NumPy broadcast of two ONNX shapes (right-aligned), or null. */
export function broadcastDims(a: readonly number[], b: readonly number[]): number[] | null {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da === db || db === 1) out.push(da);
    else if (da === 1) out.push(db);
    else return null;
  }
  return out;
}

export function product(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

export function clipActivation(min: number, max: number): Activation {
  if (min === -Infinity && max === Infinity) return NO_ACTIVATION;
  if (min === 0 && max === Infinity) return RELU;
  if (min === 0 && max === 6) return RELU6;
  return { kind: 'clip', min, max };
}
