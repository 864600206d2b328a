/**
 * TFLite model (parsed by `schema.ts`) → graph IR: the converter's state and the helpers its op modules use.
 *
 * TFLite activations are NHWC; the IR is logical NCHW, so each tensor `[n, h, w, c]` becomes `[n, c, h, w]`
 * and `[n, c]` becomes `[n, c, 1, 1]`. Weights are dequantized to float32 and transposed to the IR's PyTorch
 * layouts at load; activation quantization is ignored (the model runs in float). The op converters live in
 * `ops/` (one module per op or small family, listed in `ops/index.ts`) and are passed to `convert`.
 */
import { GraphError, ModelFormatError, ShapeError, UnsupportedOpError } from '../../errors.ts';
import { GraphBuilder } from '../../graph/builder.ts';
import type { Activation, Pads, TensorId } from '../../graph/ir.ts';
import { NO_ACTIVATION, RELU, RELU6, sameShape } from '../../graph/ir.ts';
import { halfToFloat } from '../half.ts';
import { checkedElementCount } from '../limits.ts';
import type { LoadBudget } from '../limits.ts';
import { dimsToString, irShapeFromDims, nhwc, samePadding } from './dims.ts';
import type { TfliteModel, TfliteOperator, TfliteSubgraph, TfliteTensor } from './schema.ts';
import { activationName, BuiltinOp, builtinOpName, FusedActivation, OptionsType, Padding, TensorType, tensorTypeName } from './schema.ts';

/** Where an op converter is: its opcode and name, the `where` prefix of its messages, its node name. */
export interface OpSite {
  readonly code: number;
  readonly opName: string;
  readonly where: string;
  readonly name: string;
}

/** Converts one operator: reads its inputs through the converter, adds IR nodes and binds its output. */
export type TfliteOpConverter = (tc: TfliteConverter, op: TfliteOperator, site: OpSite) => void;

export interface TfliteOpEntry {
  readonly convert: TfliteOpConverter;
  /** The builtin options table type the op must carry, when it carries one. */
  readonly options?: number;
  /** The op may have several outputs (SPLIT); others must have one. */
  readonly multipleOutputs?: boolean;
}

/** A PAD result, which only the single convolution or pool reading it may take (`absorbPads` folds it in). */
export interface PendingPad {
  /** The IR pad node's output. */
  readonly padded: TensorId;
  /** `[top, left, bottom, right]`. */
  readonly pads: Pads;
}

export interface QuantInfo {
  readonly scale: readonly number[];
  readonly zeroPoint: readonly number[];
  /** Element stride and size of the quantized axis (per-tensor: inner = count, channels = 1). */
  readonly inner: number;
  readonly channels: number;
}

export class TfliteConverter {
  readonly b = new GraphBuilder();
  readonly irOf = new Map<number, TensorId>();
  /** QUANTIZE/DEQUANTIZE/RESHAPE of a constant: the output is the same data. */
  readonly constAlias = new Map<number, number>();
  readonly constCache = new Map<number, Float32Array>();
  readonly pendingPads = new Map<number, PendingPad>();
  readonly consumers: number[][];
  readonly opCounts = new Map<string, number>();
  readonly weightKinds = new Set<string>();
  foldedPads = 0;

  constructor(
    readonly model: TfliteModel,
    readonly sg: TfliteSubgraph,
    readonly sgIndex: number,
    readonly budget: LoadBudget,
  ) {
    this.consumers = sg.tensors.map(() => []);
  }

  // ---- tensors ------------------------------------------------------------------------------------------

  tensor(idx: number, where: string): TfliteTensor {
    const t = this.sg.tensors[idx];
    if (!Number.isInteger(idx) || !t) {
      throw new ModelFormatError(`${where}: tensor index ${idx} is out of range [0, ${this.sg.tensors.length})`);
    }
    return t;
  }

  tensorLabel(t: TfliteTensor): string {
    return `tensor ${t.index} '${t.name}'`;
  }

  rawData(t: TfliteTensor, where: string): Uint8Array | null {
    if (t.buffer >= this.model.buffers.length) {
      throw new ModelFormatError(
        `${where}: ${this.tensorLabel(t)} refers to buffer ${t.buffer}, out of range [0, ${this.model.buffers.length})`,
      );
    }
    return this.model.buffers[t.buffer];
  }

  isConstant(idx: number, where: string): boolean {
    if (this.constAlias.has(idx)) return true;
    return this.rawData(this.tensor(idx, where), where) !== null;
  }

  elementCount(t: TfliteTensor, where: string): number {
    return checkedElementCount(t.shape, `${where}: ${this.tensorLabel(t)}`);
  }

  checkedData(t: TfliteTensor, bytesPerElement: number, where: string): { raw: Uint8Array; count: number; view: DataView } {
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

  quantInfo(t: TfliteTensor, count: number, where: string): QuantInfo | null {
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
  constant(idx: number, role: string, where: string): { data: Float32Array; dims: readonly number[] } {
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
  intConstant(idx: number, role: string, where: string): number[] {
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
  bias(op: TfliteOperator, outC: number, where: string): Float32Array | null {
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
  activation(idx: number, where: string, role = 'input'): TensorId {
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

  /** The conv/pool input (a PAD's result included) and the padding of that PAD (zeros without one). */
  windowInput(idx: number, where: string): { x: TensorId; pads: Pads } {
    const pending = this.pendingPads.get(idx);
    if (pending) return { x: pending.padded, pads: pending.pads };
    return { x: this.activation(idx, where), pads: [0, 0, 0, 0] };
  }

  fusedActivation(code: number, where: string): Activation {
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

  nodeName(op: TfliteOperator, opName: string): string {
    const out = this.sg.tensors[op.outputs[0]];
    const first = out?.name.split(';')[0];
    return first || `${opName}_${op.index}`;
  }

  /** An op output must be written once and hold no constant data. */
  checkFreshOutput(idx: number, where: string): void {
    const t = this.tensor(idx, where);
    if (this.irOf.has(idx) || this.pendingPads.has(idx) || this.constAlias.has(idx)) {
      throw new ModelFormatError(`${where}: output ${this.tensorLabel(t)} is written more than once`);
    }
    if (this.rawData(t, where) !== null) throw new ModelFormatError(`${where}: output ${this.tensorLabel(t)} is a constant`);
  }

  /** Records the IR tensor for the op's output `k`, checking it against the declared dims. */
  bindOutput(op: TfliteOperator, ir: TensorId, where: string, k = 0): void {
    const idx = op.outputs[k];
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

  /** An op's own padding (SAME or VALID) on an input of `size` (a PAD's result included). */
  windowPads(
    padding: number,
    size: readonly [number, number],
    kernel: readonly [number, number],
    stride: readonly [number, number],
    dilation: readonly [number, number],
    where: string,
  ): Pads {
    if (padding === Padding.VALID) return [0, 0, 0, 0];
    if (padding !== Padding.SAME) throw new ModelFormatError(`${where}: padding ${padding} is neither SAME nor VALID`);
    const [t, bo] = samePadding(size[0], kernel[0], stride[0], dilation[0]);
    const [l, r] = samePadding(size[1], kernel[1], stride[1], dilation[1]);
    return [t, l, bo, r];
  }

  // ---- driver -------------------------------------------------------------------------------------------

  opName(op: TfliteOperator): { code: number; name: string } {
    const oc = this.model.operatorCodes[op.opcodeIndex];
    if (!oc) {
      throw new ModelFormatError(
        `tflite subgraph ${this.sgIndex} operator ${op.index}: opcode_index ${op.opcodeIndex} is out of range [0, ${this.model.operatorCodes.length})`,
      );
    }
    if (oc.builtin === BuiltinOp.CUSTOM) return { code: oc.builtin, name: `CUSTOM '${oc.custom ?? ''}'` };
    return { code: oc.builtin, name: builtinOpName(oc.builtin) };
  }

  /** Converts the subgraph's operators with the converters of `ops`; the builder then holds the graph. */
  convert(ops: ReadonlyMap<number, TfliteOpEntry>): GraphBuilder {
    const sg = this.sg;
    const where0 = `tflite subgraph ${this.sgIndex}`;
    // Fail on unsupported ops first, naming the first and listing the rest.
    const unsupported = sg.operators.map((op) => ({ op, ...this.opName(op) })).filter((o) => !ops.has(o.code));
    if (unsupported.length) {
      const first = unsupported[0];
      const others = [...new Set(unsupported.slice(1).map((u) => u.name))].filter((n) => n !== first.name);
      throw new UnsupportedOpError(
        `${where0} operator ${first.op.index}: op ${first.name} is not supported` +
          (unsupported.length > 1 ? ` (${unsupported.length} unsupported operators in all${others.length ? `, also ${others.join(', ')}` : ''})` : '') +
          `; supported: ${[...ops.keys()].map(builtinOpName).join(', ')}`,
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
      const entry = ops.get(code)!;
      const expected = entry.options;
      if (op.optionsType !== OptionsType.NONE && expected !== undefined && op.optionsType !== expected) {
        throw new ModelFormatError(`${where}: builtin options of union type ${op.optionsType}, expected ${expected}`);
      }
      if (op.outputs.length !== 1 && !(entry.multipleOutputs && op.outputs.length > 1)) throw new ModelFormatError(`${where}: has ${op.outputs.length} outputs, expected 1`);
      if (op.inputs.length === 0) throw new ModelFormatError(`${where}: has no inputs`);
      const name = this.nodeName(op, opName);
      try {
        entry.convert(this, op, { code, opName, where, name });
      } catch (e) {
        // The builder's shape checks failing means the file's op parameters do not fit together.
        if (e instanceof ShapeError || e instanceof GraphError) throw new ModelFormatError(`${where}: ${e.message}`);
        throw e;
      }
    }

    sg.outputs.forEach((idx, k) => {
      const where = `${where0} output ${k}`;
      const t = this.tensor(idx, where);
      if (this.pendingPads.has(idx)) throw new UnsupportedOpError(`${where}: ${this.tensorLabel(t)} is a PAD result`);
      const ir = this.irOf.get(idx);
      if (ir === undefined) {
        if (this.isConstant(idx, where)) throw new UnsupportedOpError(`${where}: ${this.tensorLabel(t)} is a constant`);
        throw new ModelFormatError(`${where}: ${this.tensorLabel(t)} is never written`);
      }
      this.b.output(ir);
    });
    return this.b;
  }
}
