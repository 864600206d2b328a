/**
 * TFLite model (parsed by `schema.ts`) → graph IR.
 *
 * TFLite activations are NHWC; the IR is logical NCHW, so each tensor `[n, h, w, c]` becomes `[n, c, h, w]`
 * and `[n, c]` becomes `[n, c, 1, 1]`. Weights are dequantized to float32 and transposed to the IR's PyTorch
 * layouts at load; activation quantization is ignored (the model runs in float).
 */
import { GraphError, ModelFormatError, ShapeError, UnsupportedOpError } from '../../errors.ts';
import { GraphBuilder } from '../../graph/builder.ts';
import type { Activation, Pads, Shape4, TensorId } from '../../graph/ir.ts';
import { NO_ACTIVATION, RELU, RELU6, sameShape } from '../../graph/ir.ts';
import { halfToFloat } from '../half.ts';
import { validateGraph } from '../../graph/validate.ts';
import { checkGraphLimits, checkWindow, checkedElementCount, LoadBudget } from '../limits.ts';
import type { InputQuantization, LoadedModel, Preprocessing } from '../model.ts';
import { findLabels } from './labels.ts';
import type { TfliteModel, TfliteOperator, TfliteSubgraph, TfliteTensor } from './schema.ts';
import {
  activationName,
  addOptions,
  BuiltinOp,
  builtinOpName,
  conv2dOptions,
  depthwiseConv2dOptions,
  fullyConnectedOptions,
  FusedActivation,
  OptionsType,
  Padding,
  pool2dOptions,
  reducerOptions,
  softmaxOptions,
  TensorType,
  tensorTypeName,
} from './schema.ts';

const SUPPORTED_OPS: ReadonlySet<number> = new Set([
  BuiltinOp.CONV_2D,
  BuiltinOp.DEPTHWISE_CONV_2D,
  BuiltinOp.ADD,
  BuiltinOp.AVERAGE_POOL_2D,
  BuiltinOp.MAX_POOL_2D,
  BuiltinOp.MEAN,
  BuiltinOp.FULLY_CONNECTED,
  BuiltinOp.RESHAPE,
  BuiltinOp.SQUEEZE,
  BuiltinOp.SOFTMAX,
  BuiltinOp.PAD,
  BuiltinOp.PADV2,
  BuiltinOp.QUANTIZE,
  BuiltinOp.DEQUANTIZE,
  BuiltinOp.RELU,
  BuiltinOp.RELU6,
  BuiltinOp.RELU_N1_TO_1,
]);

const SUPPORTED_LIST = [...SUPPORTED_OPS].map(builtinOpName).join(', ');

/** The options table type each op must carry (when it carries one). */
const EXPECTED_OPTIONS: Partial<Record<number, number>> = {
  [BuiltinOp.CONV_2D]: OptionsType.Conv2DOptions,
  [BuiltinOp.DEPTHWISE_CONV_2D]: OptionsType.DepthwiseConv2DOptions,
  [BuiltinOp.ADD]: OptionsType.AddOptions,
  [BuiltinOp.AVERAGE_POOL_2D]: OptionsType.Pool2DOptions,
  [BuiltinOp.MAX_POOL_2D]: OptionsType.Pool2DOptions,
  [BuiltinOp.MEAN]: OptionsType.ReducerOptions,
  [BuiltinOp.FULLY_CONNECTED]: OptionsType.FullyConnectedOptions,
  [BuiltinOp.RESHAPE]: OptionsType.ReshapeOptions,
  [BuiltinOp.SQUEEZE]: OptionsType.SqueezeOptions,
  [BuiltinOp.SOFTMAX]: OptionsType.SoftmaxOptions,
  [BuiltinOp.PAD]: OptionsType.PadOptions,
  [BuiltinOp.PADV2]: OptionsType.PadV2Options,
  [BuiltinOp.QUANTIZE]: OptionsType.QuantizeOptions,
  [BuiltinOp.DEQUANTIZE]: OptionsType.DequantizeOptions,
};

/** TF's SAME rule: output `ceil(in / stride)`, the extra row/column of padding goes at the end. */
export function samePadding(inSize: number, kernel: number, stride: number, dilation: number): [number, number] {
  const out = Math.ceil(inSize / stride);
  const total = Math.max((out - 1) * stride + (kernel - 1) * dilation + 1 - inSize, 0);
  const begin = Math.floor(total / 2);
  return [begin, total - begin];
}

/**
 * The IR shape a TFLite tensor's dims stand for: `[n, h, w, c]` → `[n, c, h, w]`, `[n, c]` → `[n, c, 1, 1]`,
 * `[c]` → `[1, c, 1, 1]`, other ranks only when every middle dim is 1 (`[n, 1, .., 1, c]`); else null.
 */
export function irShapeFromDims(dims: readonly number[]): Shape4 | null {
  if (!dims.every((d) => Number.isInteger(d) && d >= 1)) return null;
  switch (dims.length) {
    case 0:
      return [1, 1, 1, 1];
    case 1:
      return [1, dims[0], 1, 1];
    case 2:
      return [dims[0], dims[1], 1, 1];
    case 4:
      return [dims[0], dims[3], dims[1], dims[2]];
    default:
      return dims.slice(1, -1).every((d) => d === 1) ? [dims[0], dims[dims.length - 1], 1, 1] : null;
  }
}

function dimsToString(dims: readonly number[]): string {
  return `[${dims.join(', ')}]`;
}

function nhwc(s: Shape4): string {
  return `[${s[0]}, ${s[2]}, ${s[3]}, ${s[1]}]`;
}

interface PendingPad {
  readonly source: number;
  /** `[top, left, bottom, right]`. */
  readonly pads: Pads;
}

interface QuantInfo {
  readonly scale: readonly number[];
  readonly zeroPoint: readonly number[];
  /** Element stride and size of the quantized axis (per-tensor: inner = count, channels = 1). */
  readonly inner: number;
  readonly channels: number;
}

class Converter {
  private readonly b = new GraphBuilder();
  private readonly irOf = new Map<number, TensorId>();
  /** QUANTIZE/DEQUANTIZE/RESHAPE of a constant: the output is the same data. */
  private readonly constAlias = new Map<number, number>();
  private readonly constCache = new Map<number, Float32Array>();
  private readonly pendingPads = new Map<number, PendingPad>();
  private readonly consumers: number[][];
  readonly opCounts = new Map<string, number>();
  readonly weightKinds = new Set<string>();
  foldedPads = 0;

  constructor(
    private readonly model: TfliteModel,
    private readonly sg: TfliteSubgraph,
    private readonly sgIndex: number,
    private readonly budget: LoadBudget,
  ) {
    this.consumers = sg.tensors.map(() => []);
  }

  // ---- tensors ------------------------------------------------------------------------------------------

  private tensor(idx: number, where: string): TfliteTensor {
    const t = this.sg.tensors[idx];
    if (!Number.isInteger(idx) || !t) {
      throw new ModelFormatError(`${where}: tensor index ${idx} is out of range [0, ${this.sg.tensors.length})`);
    }
    return t;
  }

  private tensorLabel(t: TfliteTensor): string {
    return `tensor ${t.index} '${t.name}'`;
  }

  private rawData(t: TfliteTensor, where: string): Uint8Array | null {
    if (t.buffer >= this.model.buffers.length) {
      throw new ModelFormatError(
        `${where}: ${this.tensorLabel(t)} refers to buffer ${t.buffer}, out of range [0, ${this.model.buffers.length})`,
      );
    }
    return this.model.buffers[t.buffer];
  }

  private isConstant(idx: number, where: string): boolean {
    if (this.constAlias.has(idx)) return true;
    return this.rawData(this.tensor(idx, where), where) !== null;
  }

  private elementCount(t: TfliteTensor, where: string): number {
    return checkedElementCount(t.shape, `${where}: ${this.tensorLabel(t)}`);
  }

  private checkedData(t: TfliteTensor, bytesPerElement: number, where: string): { raw: Uint8Array; count: number; view: DataView } {
    const raw = this.rawData(t, where);
    if (!raw) throw new ModelFormatError(`${where}: ${this.tensorLabel(t)} has no data`);
    if (t.sparse) throw new UnsupportedOpError(`${where}: ${this.tensorLabel(t)} is sparse; sparse tensors are not supported`);
    const count = this.elementCount(t, where);
    if (raw.length !== count * bytesPerElement) {
      throw new ModelFormatError(
        `${where}: ${this.tensorLabel(t)} ${tensorTypeName(t.type)}${dimsToString(t.shape)} needs ` +
          `${count * bytesPerElement} bytes, its buffer ${t.buffer} has ${raw.length}`,
      );
    }
    return { raw, count, view: new DataView(raw.buffer, raw.byteOffset, raw.byteLength) };
  }

  private quantInfo(t: TfliteTensor, count: number, where: string): QuantInfo | null {
    const q = t.quantization;
    if (!q || q.scale.length === 0) return null;
    if (q.custom) throw new UnsupportedOpError(`${where}: ${this.tensorLabel(t)} uses custom quantization`);
    if (!q.scale.every((s) => Number.isFinite(s))) {
      throw new ModelFormatError(`${where}: ${this.tensorLabel(t)} has a non-finite quantization scale`);
    }
    const channels = q.scale.length;
    if (q.zeroPoint.length !== 0 && q.zeroPoint.length !== 1 && q.zeroPoint.length !== channels) {
      throw new ModelFormatError(
        `${where}: ${this.tensorLabel(t)} has ${channels} scales but ${q.zeroPoint.length} zero points`,
      );
    }
    if (channels === 1) return { scale: q.scale, zeroPoint: q.zeroPoint, inner: count, channels: 1 };
    const axis = q.quantizedDimension;
    if (!(axis >= 0 && axis < t.shape.length) || t.shape[axis] !== channels) {
      throw new ModelFormatError(
        `${where}: ${this.tensorLabel(t)} ${dimsToString(t.shape)} has ${channels} per-channel scales on ` +
          `quantized_dimension ${axis}, which does not match its shape`,
      );
    }
    const inner = t.shape.slice(axis + 1).reduce((a, d) => a * d, 1);
    return { scale: q.scale, zeroPoint: q.zeroPoint, inner, channels };
  }

  /** A constant's values as float32 in TFLite layout, dequantized: `scale * (q - zero_point)`. */
  private constant(idx: number, role: string, where: string): { data: Float32Array; dims: readonly number[] } {
    const alias = this.constAlias.get(idx);
    const t = this.tensor(idx, where);
    if (alias !== undefined) {
      const src = this.constant(alias, role, where);
      if (src.data.length !== this.elementCount(t, where)) {
        throw new ModelFormatError(`${where}: ${this.tensorLabel(t)} has ${dimsToString(t.shape)} but its source has ${src.data.length} values`);
      }
      return { data: src.data, dims: t.shape };
    }
    const cached = this.constCache.get(idx);
    if (cached) return { data: cached, dims: t.shape };
    if (this.rawData(t, where) === null) {
      if (this.irOf.has(idx) || this.pendingPads.has(idx)) {
        throw new UnsupportedOpError(`${where}: the ${role} (${this.tensorLabel(t)}) is computed at run time; only constant ${role}s are supported`);
      }
      throw new ModelFormatError(`${where}: the ${role} (${this.tensorLabel(t)}) has no data and no producer`);
    }
    let data: Float32Array;
    switch (t.type) {
      case TensorType.FLOAT32: {
        const { count, view } = this.checkedData(t, 4, where);
        data = this.budget.floats(count, `${where}: ${role}`);
        for (let i = 0; i < count; i++) data[i] = view.getFloat32(4 * i, true);
        this.weightKinds.add('float32');
        break;
      }
      case TensorType.FLOAT16: {
        const { count, view } = this.checkedData(t, 2, where);
        data = this.budget.floats(count, `${where}: ${role}`);
        for (let i = 0; i < count; i++) data[i] = halfToFloat(view.getUint16(2 * i, true));
        this.weightKinds.add('float16');
        break;
      }
      case TensorType.UINT8:
      case TensorType.INT8:
      case TensorType.INT16: {
        const size = t.type === TensorType.INT16 ? 2 : 1;
        const { raw, count, view } = this.checkedData(t, size, where);
        const q = this.quantInfo(t, count, where);
        if (!q) throw new ModelFormatError(`${where}: ${tensorTypeName(t.type)} ${role} (${this.tensorLabel(t)}) has no quantization scale`);
        const read =
          t.type === TensorType.UINT8 ? (i: number) => raw[i]
          : t.type === TensorType.INT8 ? (i: number) => (raw[i] << 24) >> 24
          : (i: number) => view.getInt16(2 * i, true);
        data = this.budget.floats(count, `${where}: ${role}`);
        for (let i = 0; i < count; i++) {
          const ch = q.channels === 1 ? 0 : Math.floor(i / q.inner) % q.channels;
          const zp = q.zeroPoint.length === 0 ? 0 : q.zeroPoint[q.zeroPoint.length === 1 ? 0 : ch];
          data[i] = q.scale[ch] * (read(i) - zp);
        }
        this.weightKinds.add(`${tensorTypeName(t.type).toLowerCase()} ${q.channels === 1 ? 'per-tensor' : 'per-channel'}`);
        break;
      }
      default:
        throw new UnsupportedOpError(`${where}: ${role} (${this.tensorLabel(t)}) has type ${tensorTypeName(t.type)}, not supported`);
    }
    this.constCache.set(idx, data);
    return { data, dims: t.shape };
  }

  /** An integer constant (axes, paddings, shapes). */
  private intConstant(idx: number, role: string, where: string): number[] {
    const t = this.tensor(idx, where);
    if (this.rawData(t, where) === null) {
      throw new UnsupportedOpError(`${where}: the ${role} (${this.tensorLabel(t)}) must be a constant`);
    }
    if (t.type === TensorType.INT32) {
      const { count, view } = this.checkedData(t, 4, where);
      const out = this.budget.numbers(count, `${where}: ${role}`);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(4 * i, true);
      return out;
    }
    if (t.type === TensorType.INT64) {
      const { count, view } = this.checkedData(t, 8, where);
      const out = this.budget.numbers(count, `${where}: ${role}`);
      for (let i = 0; i < count; i++) out[i] = Number(view.getBigInt64(8 * i, true));
      return out;
    }
    throw new ModelFormatError(`${where}: the ${role} (${this.tensorLabel(t)}) has type ${tensorTypeName(t.type)}, expected INT32 or INT64`);
  }

  /**
   * A conv/FC bias as float32. Int32 biases use `input_scale * weight_scale` (per output channel when the
   * weights are per-channel), the scale TFLite's integer kernels assume; the bias's own scale is the fallback.
   */
  private bias(op: TfliteOperator, outC: number, where: string): Float32Array | null {
    const idx = op.inputs[2];
    if (idx === undefined || idx < 0) return null;
    const t = this.tensor(idx, where);
    let data: Float32Array;
    if (t.type === TensorType.INT32 || t.type === TensorType.INT64) {
      const size = t.type === TensorType.INT32 ? 4 : 8;
      const { count, view } = this.checkedData(t, size, where);
      const inScale = this.tensor(op.inputs[0], where).quantization?.scale;
      const wScale = this.constAlias.has(op.inputs[1]) ? undefined : this.tensor(op.inputs[1], where).quantization?.scale;
      let scales: readonly number[];
      if (inScale?.length === 1 && wScale && (wScale.length === 1 || wScale.length === count)) {
        scales = wScale.map((s) => s * inScale[0]);
      } else if (t.quantization && (t.quantization.scale.length === 1 || t.quantization.scale.length === count)) {
        scales = t.quantization.scale;
      } else {
        throw new ModelFormatError(`${where}: integer bias (${this.tensorLabel(t)}) has no usable scale`);
      }
      data = this.budget.floats(count, `${where}: bias`);
      for (let i = 0; i < count; i++) {
        const q = size === 4 ? view.getInt32(4 * i, true) : Number(view.getBigInt64(8 * i, true));
        data[i] = q * scales[scales.length === 1 ? 0 : i];
      }
    } else {
      data = this.constant(idx, 'bias', where).data;
    }
    if (data.length !== outC) {
      throw new ModelFormatError(`${where}: bias (${this.tensorLabel(t)}) has ${data.length} values, expected ${outC}`);
    }
    return data;
  }

  /** The IR tensor behind a run-time TFLite tensor. */
  private activation(idx: number, where: string, role = 'input'): TensorId {
    const t = this.tensor(idx, where);
    if (this.pendingPads.has(idx)) {
      throw new UnsupportedOpError(`${where}: ${role} ${this.tensorLabel(t)} comes from a PAD that can only fold into a convolution`);
    }
    const ir = this.irOf.get(idx);
    if (ir !== undefined) return ir;
    if (this.isConstant(idx, where)) {
      throw new UnsupportedOpError(`${where}: ${role} ${this.tensorLabel(t)} is a constant; only run-time tensors are supported here`);
    }
    throw new ModelFormatError(`${where}: ${role} ${this.tensorLabel(t)} is read before any operator writes it`);
  }

  /** The conv/pool input, looking through a folded PAD. */
  private windowInput(idx: number, where: string): { x: TensorId; pads: Pads; padded: boolean } {
    const pending = this.pendingPads.get(idx);
    if (pending) return { x: this.activation(pending.source, where), pads: pending.pads, padded: true };
    return { x: this.activation(idx, where), pads: [0, 0, 0, 0], padded: false };
  }

  private fusedActivation(code: number, where: string): Activation {
    switch (code) {
      case FusedActivation.NONE:
        return NO_ACTIVATION;
      case FusedActivation.RELU:
        return RELU;
      case FusedActivation.RELU6:
        return RELU6;
      case FusedActivation.RELU_N1_TO_1:
        return { kind: 'clip', min: -1, max: 1 };
      default:
        throw new UnsupportedOpError(`${where}: fused activation ${activationName(code)} is not supported (NONE, RELU, RELU6, RELU_N1_TO_1 are)`);
    }
  }

  private nodeName(op: TfliteOperator, opName: string): string {
    const out = this.sg.tensors[op.outputs[0]];
    const first = out?.name.split(';')[0];
    return first || `${opName}_${op.index}`;
  }

  /** An op output must be written once and hold no constant data. */
  private checkFreshOutput(idx: number, where: string): void {
    const t = this.tensor(idx, where);
    if (this.irOf.has(idx) || this.pendingPads.has(idx) || this.constAlias.has(idx)) {
      throw new ModelFormatError(`${where}: output ${this.tensorLabel(t)} is written more than once`);
    }
    if (this.rawData(t, where) !== null) throw new ModelFormatError(`${where}: output ${this.tensorLabel(t)} is a constant`);
  }

  /** Records the IR tensor for the op's output, checking it against the declared dims. */
  private bindOutput(op: TfliteOperator, ir: TensorId, where: string): void {
    const idx = op.outputs[0];
    const t = this.tensor(idx, where);
    this.checkFreshOutput(idx, where);
    const declared = irShapeFromDims(t.shape);
    const computed = this.b.shape(ir);
    if (!declared || !sameShape(declared, computed)) {
      throw new ModelFormatError(
        `${where}: output ${this.tensorLabel(t)} is declared ${dimsToString(t.shape)} but the op computes ` +
          `${nhwc(computed)} (NHWC)`,
      );
    }
    this.irOf.set(idx, ir);
  }

  // ---- ops ----------------------------------------------------------------------------------------------

  private conv(op: TfliteOperator, depthwise: boolean, where: string, name: string): void {
    const o = depthwise ? depthwiseConv2dOptions(op.options) : conv2dOptions(op.options);
    const activation = this.fusedActivation(o.activation, where);
    const { x, pads: extra } = this.windowInput(op.inputs[0], where);
    const [, c, h, w] = this.b.shape(x);
    const filter = this.constant(op.inputs[1], 'filter', where);
    if (filter.dims.length !== 4) {
      throw new ModelFormatError(`${where}: filter is ${dimsToString(filter.dims)}, expected rank 4`);
    }
    const stride: [number, number] = [o.strideH, o.strideW];
    const dilation: [number, number] = [o.dilationH, o.dilationW];
    if (![...stride, ...dilation].every((v) => Number.isInteger(v) && v >= 1)) {
      throw new ModelFormatError(`${where}: stride ${stride.join('x')} and dilation ${dilation.join('x')} must be positive`);
    }
    let outC: number;
    let groups: number;
    let kh: number;
    let kw: number;
    let weight: Float32Array;
    const f = filter.data;
    if (depthwise) {
      const [one, fh, fw, oc] = filter.dims;
      [kh, kw, outC] = [fh, fw, oc];
      if (one !== 1 || oc % c !== 0) {
        throw new ModelFormatError(`${where}: depthwise filter ${dimsToString(filter.dims)} does not fit ${c} input channels`);
      }
      const m = oc / c;
      const declared = depthwiseConv2dOptions(op.options).depthMultiplier;
      if (declared !== 0 && declared !== m) {
        throw new ModelFormatError(`${where}: depth_multiplier ${declared} but filter has ${oc} channels for ${c} inputs`);
      }
      groups = c;
      // [1, kh, kw, C*m] -> [C*m, 1, kh, kw]; output channel o reads input channel floor(o / m) in both.
      weight = this.budget.floats(oc * kh * kw, `${where}: filter`);
      for (let y = 0; y < kh; y++) {
        for (let xx = 0; xx < kw; xx++) {
          for (let oo = 0; oo < oc; oo++) weight[(oo * kh + y) * kw + xx] = f[(y * kw + xx) * oc + oo];
        }
      }
    } else {
      const [oc, fh, fw, ic] = filter.dims;
      [kh, kw, outC] = [fh, fw, oc];
      if (ic < 1 || c % ic !== 0 || oc % (c / ic) !== 0) {
        throw new ModelFormatError(`${where}: filter ${dimsToString(filter.dims)} (OHWI) does not fit ${c} input channels`);
      }
      groups = c / ic;
      // OHWI -> OIHW.
      weight = this.budget.floats(oc * ic * kh * kw, `${where}: filter`);
      for (let oo = 0; oo < oc; oo++) {
        for (let y = 0; y < kh; y++) {
          for (let xx = 0; xx < kw; xx++) {
            const src = ((oo * kh + y) * kw + xx) * ic;
            for (let i = 0; i < ic; i++) weight[((oo * ic + i) * kh + y) * kw + xx] = f[src + i];
          }
        }
      }
    }
    const pads = this.windowPads(o.padding, [h + extra[0] + extra[2], w + extra[1] + extra[3]], [kh, kw], stride, dilation, extra, where);
    checkWindow({ kernel: [kh, kw], stride, dilation, pads }, where);
    const y = this.b.conv2d(
      x,
      { outChannels: outC, kernel: [kh, kw], stride, padding: pads, dilation, groups, weight, bias: this.bias(op, outC, where), activation },
      name,
    );
    this.bindOutput(op, y, where);
  }

  private windowPads(
    padding: number,
    padded: readonly [number, number],
    kernel: readonly [number, number],
    stride: readonly [number, number],
    dilation: readonly [number, number],
    extra: Pads,
    where: string,
  ): Pads {
    if (padding === Padding.VALID) return extra;
    if (padding !== Padding.SAME) throw new ModelFormatError(`${where}: padding ${padding} is neither SAME nor VALID`);
    const [t, bo] = samePadding(padded[0], kernel[0], stride[0], dilation[0]);
    const [l, r] = samePadding(padded[1], kernel[1], stride[1], dilation[1]);
    return [extra[0] + t, extra[1] + l, extra[2] + bo, extra[3] + r];
  }

  private pool(op: TfliteOperator, isMax: boolean, where: string, name: string): void {
    const o = pool2dOptions(op.options);
    const activation = this.fusedActivation(o.activation, where);
    const { x, pads: extra, padded } = this.windowInput(op.inputs[0], where);
    const [, , h, w] = this.b.shape(x);
    const kernel: [number, number] = [o.filterH, o.filterW];
    const stride: [number, number] = [o.strideH, o.strideW];
    if (![...kernel, ...stride].every((v) => Number.isInteger(v) && v >= 1)) {
      throw new ModelFormatError(`${where}: filter ${kernel.join('x')} and stride ${stride.join('x')} must be positive`);
    }
    const pads = this.windowPads(o.padding, [h + extra[0] + extra[2], w + extra[1] + extra[3]], kernel, stride, [1, 1], extra, where);
    checkWindow({ kernel, stride, dilation: [1, 1], pads }, where);
    // TFLite's average pool divides by the taps inside the input; zeros from a folded PAD are real taps.
    const options = { kernel, stride, padding: pads, countIncludePad: padded };
    let y = isMax ? this.b.maxPool(x, options, name) : this.b.avgPool(x, options, name);
    if (activation.kind !== 'none') y = this.b.activation(y, activation, `${name}/activation`);
    this.bindOutput(op, y, where);
  }

  private add(op: TfliteOperator, where: string, name: string): void {
    const activation = this.fusedActivation(addOptions(op.options).activation, where);
    if (op.inputs.length !== 2) throw new ModelFormatError(`${where}: ADD has ${op.inputs.length} inputs, expected 2`);
    const a = this.activation(op.inputs[0], where, 'input 0');
    const b = this.activation(op.inputs[1], where, 'input 1');
    const sa = this.b.shape(a);
    const sb = this.b.shape(b);
    if (!sameShape(sa, sb)) {
      throw new UnsupportedOpError(`${where}: ADD of ${nhwc(sa)} and ${nhwc(sb)} needs broadcasting, which is not supported`);
    }
    this.bindOutput(op, this.b.add(a, b, name, activation), where);
  }

  private mean(op: TfliteOperator, where: string, name: string): void {
    reducerOptions(op.options); // keep_dims either way: the IR result is [n, c, 1, 1]
    const t = this.tensor(op.inputs[0], where);
    const x = this.activation(op.inputs[0], where);
    const axes = this.intConstant(op.inputs[1], 'axes', where).map((a) => (a < 0 ? a + 4 : a));
    const set = new Set(axes);
    if (t.shape.length !== 4 || set.size !== 2 || !set.has(1) || !set.has(2)) {
      throw new UnsupportedOpError(
        `${where}: MEAN over axes [${axes.join(', ')}] of ${dimsToString(t.shape)}; only the spatial mean (axes 1 and 2 of NHWC) is supported`,
      );
    }
    this.bindOutput(op, this.b.globalAvgPool(x, name), where);
  }

  private fullyConnected(op: TfliteOperator, where: string, name: string): void {
    const o = fullyConnectedOptions(op.options);
    if (o.weightsFormat !== 0) throw new UnsupportedOpError(`${where}: shuffled FULLY_CONNECTED weights are not supported`);
    const activation = this.fusedActivation(o.activation, where);
    let x = this.activation(op.inputs[0], where);
    const [n, c, h, w] = this.b.shape(x);
    const weight = this.constant(op.inputs[1], 'weights', where);
    if (weight.dims.length !== 2) throw new ModelFormatError(`${where}: weights are ${dimsToString(weight.dims)}, expected [out, in]`);
    const [outF, inF] = weight.dims;
    if (h * w > 1) {
      if (c !== 1) {
        throw new UnsupportedOpError(
          `${where}: FULLY_CONNECTED on the spatial map ${nhwc(this.b.shape(x))} (NHWC) would flatten in NHWC order, ` +
            'which differs from the engine\'s NCHW flatten; only inputs with H = W = 1 (or C = 1) are supported',
        );
      }
      x = this.b.flatten(x, `${name}/flatten`);
    }
    if (c * h * w !== inF) {
      throw new UnsupportedOpError(
        `${where}: input ${nhwc([n, c, h, w])} has ${c * h * w} features per batch item, the weights expect ${inF}`,
      );
    }
    const y = this.b.linear(x, { outFeatures: outF, weight: weight.data, bias: this.bias(op, outF, where), activation }, name);
    this.bindOutput(op, y, where);
  }

  private softmax(op: TfliteOperator, where: string, name: string): void {
    const { beta } = softmaxOptions(op.options);
    if (beta !== 1) throw new UnsupportedOpError(`${where}: SOFTMAX with beta ${beta} is not supported (only beta = 1)`);
    const x = this.activation(op.inputs[0], where);
    const s = this.b.shape(x);
    if (s[2] !== 1 || s[3] !== 1) {
      throw new UnsupportedOpError(`${where}: SOFTMAX over the channels of each pixel of ${nhwc(s)} is not supported; only [n, classes]`);
    }
    this.bindOutput(op, this.b.softmax(x, name), where);
  }

  private standaloneActivation(op: TfliteOperator, code: number, where: string, name: string): void {
    const activation: Activation =
      code === BuiltinOp.RELU ? RELU : code === BuiltinOp.RELU6 ? RELU6 : { kind: 'clip', min: -1, max: 1 };
    const x = this.activation(op.inputs[0], where);
    this.bindOutput(op, this.b.activation(x, activation, name), where);
  }

  /** RESHAPE, SQUEEZE, QUANTIZE, DEQUANTIZE: no node, the output is the input's IR tensor (or constant). */
  private alias(op: TfliteOperator, opName: string, where: string): void {
    const src = op.inputs[0];
    const out = op.outputs[0];
    const outT = this.tensor(out, where);
    if (src === undefined) throw new ModelFormatError(`${where}: ${opName} has no input`);
    this.checkFreshOutput(out, where);
    if (out === src) throw new ModelFormatError(`${where}: ${opName} reads and writes ${this.tensorLabel(outT)}`);
    if (!this.irOf.has(src) && !this.pendingPads.has(src) && this.isConstant(src, where)) {
      const count = this.elementCount(this.tensor(src, where), where);
      if (count !== this.elementCount(outT, where)) {
        throw new ModelFormatError(`${where}: ${opName} of a constant changes its element count`);
      }
      // Chains of aliases point at the tensor that holds the data, so reading one never recurses.
      this.constAlias.set(out, this.constAlias.get(src) ?? src);
      return;
    }
    const x = this.activation(src, where);
    const s = this.b.shape(x);
    const target = irShapeFromDims(outT.shape);
    if (target && sameShape(target, s)) {
      this.irOf.set(out, x);
      return;
    }
    const count = s[0] * s[1] * s[2] * s[3];
    if (this.elementCount(outT, where) !== count) {
      throw new ModelFormatError(`${where}: ${opName} from ${nhwc(s)} to ${dimsToString(outT.shape)} changes the element count`);
    }
    throw new UnsupportedOpError(
      `${where}: ${opName} from ${nhwc(s)} (NHWC) to ${dimsToString(outT.shape)} would reorder elements of a spatial map; ` +
        'only reshapes that add or drop unit dims of [n, c] tensors are supported',
    );
  }

  private pad(op: TfliteOperator, code: number, opName: string, where: string): void {
    const src = op.inputs[0];
    const srcT = this.tensor(src, where);
    if (this.pendingPads.has(src)) throw new UnsupportedOpError(`${where}: ${opName} of a PAD output cannot be folded`);
    const x = this.activation(src, where);
    const [n, c, h, w] = this.b.shape(x);
    const p = this.intConstant(op.inputs[1], 'paddings', where);
    if (srcT.shape.length !== 4 || p.length !== 8) {
      throw new UnsupportedOpError(`${where}: ${opName} of a rank-${srcT.shape.length} tensor; only NHWC images are supported`);
    }
    if (p.some((v) => v < 0)) throw new ModelFormatError(`${where}: negative paddings [${p.join(', ')}]`);
    if (p[0] || p[1] || p[6] || p[7]) {
      throw new UnsupportedOpError(`${where}: ${opName} of the batch or channel axis ([${p.join(', ')}]) cannot be folded into a convolution`);
    }
    if (code === BuiltinOp.PADV2 && op.inputs.length > 2 && op.inputs[2] >= 0) {
      const value = this.constant(op.inputs[2], 'pad value', where).data;
      if (value.length !== 1 || value[0] !== 0) {
        throw new UnsupportedOpError(`${where}: ${opName} with pad value ${value[0]} (only zero padding folds into a convolution)`);
      }
    }
    const out = op.outputs[0];
    const outT = this.tensor(out, where);
    const why = this.padFoldProblem(out, [p[2], p[4], p[3], p[5]]);
    if (why) throw new UnsupportedOpError(`${where}: ${opName} cannot be folded: ${why}`);
    const declared = irShapeFromDims(outT.shape);
    const expected: Shape4 = [n, c, h + p[2] + p[3], w + p[4] + p[5]];
    if (!declared || !sameShape(declared, expected)) {
      throw new ModelFormatError(`${where}: output ${this.tensorLabel(outT)} is declared ${dimsToString(outT.shape)}, padding gives ${nhwc(expected)}`);
    }
    this.checkFreshOutput(out, where);
    this.pendingPads.set(out, { source: src, pads: [p[2], p[4], p[3], p[5]] });
    this.foldedPads++;
  }

  /** Why a PAD output cannot fold into its consumer, or null when it can. */
  private padFoldProblem(out: number, pads: Pads): string | null {
    if (this.sg.outputs.includes(out)) return 'its result is a model output';
    const users = this.consumers[out] ?? [];
    if (users.length !== 1) return `its result feeds ${users.length} operators; it folds only into a single convolution`;
    const user = this.sg.operators[users[0]];
    const code = this.model.operatorCodes[user.opcodeIndex]?.builtin ?? -1;
    const userName = builtinOpName(code);
    if (user.inputs[0] !== out || user.inputs.slice(1).includes(out)) return `it feeds ${userName} (operator ${user.index}) as a non-data input`;
    if (code === BuiltinOp.CONV_2D || code === BuiltinOp.DEPTHWISE_CONV_2D) return null;
    if (code === BuiltinOp.AVERAGE_POOL_2D) {
      const o = pool2dOptions(user.options);
      if (o.padding !== Padding.VALID) return `the following AVERAGE_POOL_2D (operator ${user.index}) also pads (SAME), which averages differently`;
      if (pads[0] >= o.filterH || pads[2] >= o.filterH || pads[1] >= o.filterW || pads[3] >= o.filterW) {
        return `pads [${pads.join(', ')}] reach past the ${o.filterH}x${o.filterW} window of AVERAGE_POOL_2D (operator ${user.index})`;
      }
      return null;
    }
    return `the following ${userName} (operator ${user.index}) is not a convolution (zero padding differs from its own semantics)`;
  }

  // ---- driver -------------------------------------------------------------------------------------------

  private opName(op: TfliteOperator): { code: number; name: string } {
    const oc = this.model.operatorCodes[op.opcodeIndex];
    if (!oc) {
      throw new ModelFormatError(
        `tflite subgraph ${this.sgIndex} operator ${op.index}: opcode_index ${op.opcodeIndex} is out of range [0, ${this.model.operatorCodes.length})`,
      );
    }
    if (oc.builtin === BuiltinOp.CUSTOM) return { code: oc.builtin, name: `CUSTOM '${oc.custom ?? ''}'` };
    return { code: oc.builtin, name: builtinOpName(oc.builtin) };
  }

  convert(): { builder: GraphBuilder; outputIrs: TensorId[] } {
    const sg = this.sg;
    const where0 = `tflite subgraph ${this.sgIndex}`;
    // Fail on unsupported ops first, naming the first and listing the rest.
    const unsupported = sg.operators.map((op) => ({ op, ...this.opName(op) })).filter((o) => !SUPPORTED_OPS.has(o.code));
    if (unsupported.length) {
      const first = unsupported[0];
      const others = [...new Set(unsupported.slice(1).map((u) => u.name))].filter((n) => n !== first.name);
      throw new UnsupportedOpError(
        `${where0} operator ${first.op.index}: op ${first.name} is not supported` +
          (unsupported.length > 1 ? ` (${unsupported.length} unsupported operators in all${others.length ? `, also ${others.join(', ')}` : ''})` : '') +
          `; supported: ${SUPPORTED_LIST}`,
      );
    }
    sg.operators.forEach((op) => {
      for (const i of op.inputs) if (i >= 0 && i < this.consumers.length) this.consumers[i].push(op.index);
    });
    if (sg.inputs.length === 0) throw new ModelFormatError(`${where0}: the model has no inputs`);
    if (sg.outputs.length === 0) throw new ModelFormatError(`${where0}: the model has no outputs`);
    sg.inputs.forEach((idx, k) => {
      const t = this.tensor(idx, `${where0} input ${k}`);
      const shape = irShapeFromDims(t.shape);
      if (!shape) {
        throw new UnsupportedOpError(`${where0} input ${k}: ${this.tensorLabel(t)} ${dimsToString(t.shape)} is not an NHWC image or [n, c] tensor`);
      }
      this.elementCount(t, `${where0} input ${k}`);
      this.irOf.set(idx, this.b.input(t.name || `input_${k}`, shape));
    });

    for (const op of sg.operators) {
      const { code, name: opName } = this.opName(op);
      const where = `${where0} operator ${op.index} (${opName})`;
      this.opCounts.set(opName, (this.opCounts.get(opName) ?? 0) + 1);
      const expected = EXPECTED_OPTIONS[code];
      if (op.optionsType !== OptionsType.NONE && expected !== undefined && op.optionsType !== expected) {
        throw new ModelFormatError(`${where}: builtin options of union type ${op.optionsType}, expected ${expected}`);
      }
      if (op.outputs.length !== 1) throw new ModelFormatError(`${where}: has ${op.outputs.length} outputs, expected 1`);
      if (op.inputs.length === 0) throw new ModelFormatError(`${where}: has no inputs`);
      const name = this.nodeName(op, opName);
      try {
        switch (code) {
          case BuiltinOp.CONV_2D:
            this.conv(op, false, where, name);
            break;
          case BuiltinOp.DEPTHWISE_CONV_2D:
            this.conv(op, true, where, name);
            break;
          case BuiltinOp.ADD:
            this.add(op, where, name);
            break;
          case BuiltinOp.AVERAGE_POOL_2D:
            this.pool(op, false, where, name);
            break;
          case BuiltinOp.MAX_POOL_2D:
            this.pool(op, true, where, name);
            break;
          case BuiltinOp.MEAN:
            this.mean(op, where, name);
            break;
          case BuiltinOp.FULLY_CONNECTED:
            this.fullyConnected(op, where, name);
            break;
          case BuiltinOp.SOFTMAX:
            this.softmax(op, where, name);
            break;
          case BuiltinOp.RELU:
          case BuiltinOp.RELU6:
          case BuiltinOp.RELU_N1_TO_1:
            this.standaloneActivation(op, code, where, name);
            break;
          case BuiltinOp.RESHAPE:
          case BuiltinOp.SQUEEZE:
          case BuiltinOp.QUANTIZE:
          case BuiltinOp.DEQUANTIZE:
            this.alias(op, opName, where);
            break;
          case BuiltinOp.PAD:
          case BuiltinOp.PADV2:
            this.pad(op, code, opName, where);
            break;
        }
      } catch (e) {
        // The builder's shape checks failing means the file's op parameters do not fit together.
        if (e instanceof ShapeError || e instanceof GraphError) throw new ModelFormatError(`${where}: ${e.message}`);
        throw e;
      }
    }

    const outputIrs = sg.outputs.map((idx, k) => {
      const where = `${where0} output ${k}`;
      const t = this.tensor(idx, where);
      if (this.pendingPads.has(idx)) throw new UnsupportedOpError(`${where}: ${this.tensorLabel(t)} is a PAD result`);
      const ir = this.irOf.get(idx);
      if (ir === undefined) {
        if (this.isConstant(idx, where)) throw new UnsupportedOpError(`${where}: ${this.tensorLabel(t)} is a constant`);
        throw new ModelFormatError(`${where}: ${this.tensorLabel(t)} is never written`);
      }
      this.b.output(ir);
      return ir;
    });
    return { builder: this.b, outputIrs };
  }
}

/** A uint8 / int8 input's per-tensor scale and zero point; null for float (or per-channel) inputs. */
function inputQuantizationOf(t: TfliteTensor): InputQuantization | null {
  const type = t.type === TensorType.UINT8 ? 'uint8' : t.type === TensorType.INT8 ? 'int8' : null;
  const q = t.quantization;
  if (type === null || !q || q.scale.length !== 1) return null;
  return { type, scale: q.scale[0], zeroPoint: q.zeroPoint[0] ?? 0 };
}

function preprocessingFor(t: TfliteTensor): { pre?: Preprocessing; note?: string } {
  if (t.shape.length !== 4 || t.shape[3] !== 3) return {};
  const size: [number, number] = [t.shape[1], t.shape[2]];
  const q = t.quantization;
  const scale = q && q.scale.length === 1 ? q.scale[0] : 1;
  const zp = q && q.zeroPoint.length >= 1 ? q.zeroPoint[0] : 0;
  const triple = (v: number): [number, number, number] => [v, v, v];
  if (t.type === TensorType.UINT8 || t.type === TensorType.INT8) {
    // x = scale * (q - zp) with q = pixel (uint8) or pixel - 128 (int8), pixel = 255 p.
    const offset = t.type === TensorType.INT8 ? zp + 128 : zp;
    return {
      pre: { size, resize: 'stretch', cropFraction: 1, mean: triple(offset / 255), std: triple(1 / (255 * scale)) },
    };
  }
  if (t.type === TensorType.FLOAT32) {
    return {
      pre: { size, resize: 'stretch', cropFraction: 1, mean: triple(0.5), std: triple(0.5) },
      note: 'float input: assumed x = (p - 0.5) / 0.5 in [-1, 1] (TF MobileNet convention); the file does not say',
    };
  }
  return {};
}

function metadataText(data: Uint8Array | null): string | null {
  if (!data) return null;
  // eslint-disable-next-line no-control-regex
  const s = new TextDecoder().decode(data).replace(/\0+$/g, '').trim();
  return /^[\x20-\x7e]*$/.test(s) ? s : null;
}

/** Converts the main subgraph (subgraph 0) of a parsed model. */
export function convertModel(model: TfliteModel, bytes: Uint8Array): LoadedModel {
  if (model.subgraphs.length === 0) throw new ModelFormatError('tflite: the model has no subgraphs');
  const sg = model.subgraphs[0];
  const conv = new Converter(model, sg, 0, new LoadBudget(bytes.length));
  const { builder, outputIrs } = conv.convert();
  const graph = builder.build();
  validateGraph(graph);
  checkGraphLimits(graph, bytes.length, 'tflite');

  const inputT = sg.tensors[sg.inputs[0]];
  const outputT = sg.tensors[sg.outputs[0]];
  const { pre, note } = preprocessingFor(inputT);
  const first = outputIrs[0];
  const outputsProbabilities = graph.nodes.some((n) => n.output === first && n.op === 'softmax');

  const metaBuffers = model.metadata.map((m) => ({ name: m.name, data: model.buffers[m.buffer] ?? null }));
  const classes = graph.tensors[first].shape[1];
  const { found, archiveProblem } = findLabels(bytes, metaBuffers, classes);

  const metadata: Record<string, string | number> = {
    format: 'tflite',
    schemaVersion: model.version,
    layout: 'NHWC',
    irLayout: 'NCHW',
    subgraphs: model.subgraphs.length,
    operators: sg.operators.length,
    opCounts: [...conv.opCounts].map(([k, v]) => `${k} x${v}`).join(', '),
    inputType: tensorTypeName(inputT.type),
    outputType: tensorTypeName(outputT.type),
    weights: [...conv.weightKinds].sort().join(', ') || 'none',
    activations: 'float32 (activation quantization ignored)',
  };
  if (model.description) metadata.description = model.description;
  if (sg.name) metadata.subgraphName = sg.name;
  const iq = inputT.quantization;
  if (iq && iq.scale.length === 1) {
    metadata.inputScale = iq.scale[0];
    metadata.inputZeroPoint = iq.zeroPoint[0] ?? 0;
  }
  if (conv.foldedPads) metadata.foldedPads = conv.foldedPads;
  if (note) metadata.preprocessingNote = note;
  const runtimeVersion = metaBuffers.find((m) => m.name === 'min_runtime_version');
  const version = runtimeVersion ? metadataText(runtimeVersion.data) : null;
  if (version) metadata.minRuntimeVersion = version;
  if (model.metadata.length) {
    const names = model.metadata.slice(0, 16).map((m) => m.name).join(', ');
    metadata.metadataEntries = model.metadata.length > 16 ? `${names}, ... (${model.metadata.length} in all)` : names;
  }
  if (found) metadata.labelsSource = found.source;

  return {
    format: 'tflite',
    graph,
    inputDims: sg.inputs.map((i) => [...sg.tensors[i].shape]),
    inputQuantization: sg.inputs.map((i) => inputQuantizationOf(sg.tensors[i])),
    outputDims: sg.outputs.map((i) => [...sg.tensors[i].shape]),
    ...(pre ? { preprocessing: pre } : {}),
    ...(found ? { labels: found.labels } : {}),
    outputsProbabilities,
    metadata,
    ...(archiveProblem ? { warnings: [`${archiveProblem}; the model loads, but its labels are unavailable`] } : {}),
  };
}

