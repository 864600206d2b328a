/**
 * Small TFLite models, written with `TfliteWriter`, that the browser oracle page (`e2e/tflite-oracle.ts`) runs
 * through TFLite's own interpreter (`@tensorflow/tfjs-tflite`) and through webcnn on the GPU: the ops issue #16
 * adds to the TFLite frontend, in float32 and, where TFLite has a uint8 kernel, quantized (webcnn computes a
 * quantized model in float, so those agree to about one step of the output's quantization).
 * Browser-safe: no Node imports.
 */
import { BuiltinOp, OptionsType, TensorType } from '../src/formats/tflite/schema.ts';
import { Rng } from '../src/util/random.ts';
import type { OptionField, WriterQuant } from './helpers/tflite-writer.ts';
import { options, TfliteWriter } from './helpers/tflite-writer.ts';

export interface OracleQuant {
  readonly scale: number;
  readonly zeroPoint: number;
}

export interface OracleCase {
  readonly name: string;
  readonly model: Uint8Array;
  /** The writer behind `model` (the fuzzer's structured edits start from it). */
  readonly writer: TfliteWriter;
  /** Per model input: its quantization when it is uint8 (the input values are then random bytes). */
  readonly inputQuant: readonly (OracleQuant | null)[];
  /** Per model output: its quantization when it is uint8 (TFLite's bytes are dequantized before comparing). */
  readonly outputQuant: readonly (OracleQuant | null)[];
  /** The output holds indices (ARG_MAX): it must match exactly. */
  readonly indices?: boolean;
  /**
   * Quantized: per output, what TFLite's rounding of the tensors before it may add (their half step times the
   * op's largest slope); webcnn rounds nothing. Default 0.
   */
  readonly roundingSlack?: readonly number[];
}

type Enc = 'float' | 'uint8';

const ARG_MAX_INT32: OptionField = [0, 'int8', TensorType.INT32];
const concatOptions = (axis: number, act = 0) => ({ type: OptionsType.ConcatenationOptions, fields: [[0, 'int32', axis], [1, 'int8', act]] as OptionField[] });
const mulOptions = (act = 0) => ({ type: OptionsType.MulOptions, fields: [[0, 'int8', act]] as OptionField[] });

/** A writer whose activations are float32, or uint8 with per-tensor quantization `q`. */
class Net {
  readonly w = new TfliteWriter();
  readonly inputQuant: (OracleQuant | null)[] = [];
  readonly outputQuant: (OracleQuant | null)[] = [];
  constructor(
    readonly enc: Enc,
    readonly rng: Rng,
  ) {}
  private type(): number {
    return this.enc === 'uint8' ? TensorType.UINT8 : TensorType.FLOAT32;
  }
  private quant(q?: OracleQuant): WriterQuant | undefined {
    if (this.enc !== 'uint8') return undefined;
    const p = q ?? { scale: 1 / 32, zeroPoint: 128 };
    return { scale: [p.scale], zeroPoint: [p.zeroPoint] };
  }
  input(name: string, shape: number[], q?: OracleQuant): number {
    const qq = this.quant(q);
    this.inputQuant.push(qq ? { scale: qq.scale[0], zeroPoint: qq.zeroPoint![0] } : null);
    return this.w.input(name, shape, this.type(), qq);
  }
  act(name: string, shape: number[], q?: OracleQuant): number {
    return this.w.activation(name, shape, this.type(), this.quant(q));
  }
  output(id: number): void {
    const t = this.w.tensors[id];
    this.outputQuant.push(t.type === TensorType.UINT8 && t.quant ? { scale: t.quant.scale[0], zeroPoint: t.quant.zeroPoint![0] } : null);
    this.w.output(id);
  }
  /** A convolution's filter `[oc, kh, kw, ic]` and bias, float32 or uint8 with int32 bias. */
  conv(x: number, shape: [number, number, number, number], out: number, name: string, padding: 'SAME' | 'VALID' = 'SAME'): void {
    const count = shape.reduce((a, b) => a * b, 1);
    const oc = shape[0];
    let f: number;
    let b: number;
    if (this.enc === 'uint8') {
      // Weights in [-1/8, 1/8]: the results stay inside the output's uint8 range, where TFLite does not saturate
      // (webcnn computes in float and never does).
      const wScale = 1 / 1024;
      f = this.w.uint8(`${name}/filter`, shape, Array.from({ length: count }, () => this.rng.int(0, 255)), { scale: [wScale], zeroPoint: [128] });
      const inScale = this.w.tensors[x].quant!.scale[0];
      b = this.w.int32(`${name}/bias`, [oc], Array.from({ length: oc }, () => this.rng.int(-200, 200)), { scale: [inScale * wScale], zeroPoint: [0] });
    } else {
      f = this.w.float32(`${name}/filter`, shape, Array.from({ length: count }, () => this.rng.uniform(-0.5, 0.5)));
      b = this.w.float32(`${name}/bias`, [oc], Array.from({ length: oc }, () => this.rng.uniform(-0.2, 0.2)));
    }
    this.w.op(BuiltinOp.CONV_2D, [x, f, b], [out], options.conv2d({ padding, stride: [1, 1] }));
  }
  done(name: string, extra: Partial<OracleCase> = {}): OracleCase {
    return { name, model: this.w.build(), writer: this.w, inputQuant: this.inputQuant, outputQuant: this.outputQuant, ...extra };
  }
}

/** Two convolutions and the input concatenated on channels (offsets 0, 4 and 7: one is not a multiple of 4). */
function concatenation(enc: Enc): OracleCase {
  const n = new Net(enc, new Rng(11));
  const x = n.input('x', [1, 5, 5, 3]);
  const a = n.act('a', [1, 5, 5, 4]);
  n.conv(x, [4, 1, 1, 3], a, 'a', 'VALID');
  const b = n.act('b', [1, 5, 5, 6]);
  n.conv(x, [6, 3, 3, 3], b, 'b');
  const y = n.act('concat', [1, 5, 5, 13]);
  n.w.op(BuiltinOp.CONCATENATION, [a, x, b], [y], concatOptions(-1));
  n.output(y);
  return n.done(`CONCATENATION ${enc}`);
}

/** LOGISTIC and HARD_SWISH after a convolution (fusable into its epilogue) and on a graph input. */
function activation(enc: Enc, code: number, opName: string): OracleCase {
  const n = new Net(enc, new Rng(12));
  const x = n.input('x', [1, 6, 5, 4]);
  const c = n.act('conv', [1, 6, 5, 8]);
  n.conv(x, [8, 3, 3, 4], c, 'conv');
  // TFLite's uint8 LOGISTIC requires the output quantization 1/256, zero point 0.
  const outQ = code === BuiltinOp.LOGISTIC ? { scale: 1 / 256, zeroPoint: 0 } : undefined;
  const y = n.act(opName.toLowerCase(), [1, 6, 5, 8], outQ);
  n.w.op(code, [c], [y]);
  n.output(y);
  const z = n.act(`${opName.toLowerCase()}_in`, [1, 6, 5, 4], outQ);
  n.w.op(code, [x], [z]);
  n.output(z);
  // The convolution's output is rounded to steps of 1/32 first; LOGISTIC's slope is at most 1/4, HARD_SWISH's 1.5.
  const slope = code === BuiltinOp.LOGISTIC ? 0.25 : 1.5;
  return n.done(`${opName} ${enc}`, { roundingSlack: [slope / 64, 0] });
}

/** Squeeze-and-excitation (MEAN, LOGISTIC, MUL broadcast over H, W) and MUL of two inputs with a fused RELU. */
function mul(enc: Enc): OracleCase {
  const n = new Net(enc, new Rng(13));
  const x = n.input('x', [1, 4, 6, 8]);
  const y = n.input('y', [1, 4, 6, 8]);
  const m = n.act('se/mean', [1, 1, 1, 8]);
  n.w.op(BuiltinOp.MEAN, [x, n.w.int32('se/axes', [2], [1, 2])], [m], options.reducer(true));
  const g = n.act('se/gate', [1, 1, 1, 8], { scale: 1 / 256, zeroPoint: 0 });
  n.w.op(BuiltinOp.LOGISTIC, [m], [g]);
  const s = n.act('se/scaled', [1, 4, 6, 8]);
  n.w.op(BuiltinOp.MUL, [x, g], [s], mulOptions());
  n.output(s);
  const p = n.act('product', [1, 4, 6, 8], { scale: 1 / 8, zeroPoint: 0 });
  n.w.op(BuiltinOp.MUL, [x, y], [p], mulOptions(1));
  n.output(p);
  // The gate is rounded to steps of 1/256 before it scales x (|x| <= 4), the mean to 1/32 before the sigmoid.
  return n.done(`MUL ${enc}`, { roundingSlack: [4 / 512 + 0.25 / 64, 0] });
}

/** RESIZE_BILINEAR up 5x4 -> 11x9 and down to 3x3, with the given coordinate convention. */
function resizeBilinear(enc: Enc, mode: 'asymmetric' | 'align_corners' | 'half_pixel_centers'): OracleCase {
  const n = new Net(enc, new Rng(14));
  const x = n.input('x', [1, 5, 4, 6]);
  const fields: OptionField[] = mode === 'align_corners' ? [[2, 'bool', true]] : mode === 'half_pixel_centers' ? [[3, 'bool', true]] : [];
  for (const [h, w] of [
    [11, 9],
    [3, 3],
  ]) {
    const y = n.act(`resize_${h}x${w}`, [1, h, w, 6]);
    n.w.op(BuiltinOp.RESIZE_BILINEAR, [x, n.w.int32(`size_${h}x${w}`, [2], [h, w])], [y], { type: OptionsType.ResizeBilinearOptions, fields });
    n.output(y);
  }
  return n.done(`RESIZE_BILINEAR ${mode} ${enc}`);
}

/**
 * ARG_MAX over channels (int32 output: tfjs-tflite cannot return int64): of a convolution in float, as DeepLab
 * ends; of the uint8 input itself when quantized (a quantized convolution's output has ties that webcnn, which
 * does not round, would break differently), which the page fills with distinct values per pixel.
 */
function argMax(enc: Enc): OracleCase {
  const n = new Net(enc, new Rng(15));
  const x = n.input('x', [1, 7, 6, enc === 'uint8' ? 9 : 3]);
  let c = x;
  if (enc === 'float') {
    c = n.act('logits', [1, 7, 6, 9]);
    n.conv(x, [9, 3, 3, 3], c, 'classifier');
  }
  const y = n.w.activation('classes', [1, 7, 6], TensorType.INT32);
  n.w.op(BuiltinOp.ARG_MAX, [c, n.w.int32('axis', [1], [3])], [y], { type: OptionsType.ArgMaxOptions, fields: [ARG_MAX_INT32] });
  n.output(y);
  return n.done(`ARG_MAX ${enc}`, { indices: true });
}

/** MEAN over H and W, keeping the dims and not. */
function mean(enc: Enc): OracleCase {
  const n = new Net(enc, new Rng(16));
  const x = n.input('x', [1, 7, 5, 12]);
  const axes = n.w.int32('axes', [2], [1, 2]);
  const k = n.act('mean_keep', [1, 1, 1, 12]);
  n.w.op(BuiltinOp.MEAN, [x, axes], [k], options.reducer(true));
  n.output(k);
  const f = n.act('mean_flat', [1, 12]);
  n.w.op(BuiltinOp.MEAN, [x, axes], [f], options.reducer(false));
  n.output(f);
  return n.done(`MEAN ${enc}`);
}

/** Every case, float32 then uint8. */
export function tfliteOracleCases(): OracleCase[] {
  const cases: OracleCase[] = [];
  for (const enc of ['float', 'uint8'] as const) {
    cases.push(
      concatenation(enc),
      activation(enc, BuiltinOp.LOGISTIC, 'LOGISTIC'),
      activation(enc, BuiltinOp.HARD_SWISH, 'HARD_SWISH'),
      mul(enc),
      resizeBilinear(enc, 'asymmetric'),
      resizeBilinear(enc, 'align_corners'),
      resizeBilinear(enc, 'half_pixel_centers'),
      argMax(enc),
      mean(enc),
    );
  }
  return cases;
}

export const TFLITE_ORACLE_CASE_NAMES: readonly string[] = tfliteOracleCases().map((c) => c.name);
