/**
 * Test-only TFLite writer: builds small `.tflite` flatbuffers with the `flatbuffers` Builder, for the
 * loader's unit tests. Covers the schema subset the loader reads (field slots as in `schema.ts`).
 */
import { Builder } from 'flatbuffers';
import { BuiltinOp, OptionsType, TensorType } from '../../src/formats/tflite/schema.ts';

export interface WriterQuant {
  scale: number[];
  zeroPoint?: number[];
  quantizedDimension?: number;
}

export interface WriterTensor {
  name: string;
  shape: number[];
  type: number;
  /** Raw little-endian bytes for a constant. */
  data?: Uint8Array;
  quant?: WriterQuant;
}

/** A scalar option field: `[slot, kind, value]`. */
export type OptionField = [number, 'int8' | 'int32' | 'float32' | 'bool', number | boolean];

export interface WriterOptions {
  type: number;
  fields: OptionField[];
}

export interface WriterOp {
  /** Builtin op code, or a custom op name. */
  op: number | { custom: string };
  inputs: number[];
  outputs: number[];
  options?: WriterOptions;
}

export type Act = 'NONE' | 'RELU' | 'RELU_N1_TO_1' | 'RELU6' | 'TANH';
const ACT: Record<Act, number> = { NONE: 0, RELU: 1, RELU_N1_TO_1: 2, RELU6: 3, TANH: 4 };
export type Pad = 'SAME' | 'VALID';
const PAD: Record<Pad, number> = { SAME: 0, VALID: 1 };

export const options = {
  conv2d(o: { padding: Pad; stride: [number, number]; act?: Act; dilation?: [number, number] }): WriterOptions {
    return {
      type: OptionsType.Conv2DOptions,
      fields: [
        [0, 'int8', PAD[o.padding]], [1, 'int32', o.stride[1]], [2, 'int32', o.stride[0]],
        [3, 'int8', ACT[o.act ?? 'NONE']], [4, 'int32', o.dilation?.[1] ?? 1], [5, 'int32', o.dilation?.[0] ?? 1],
      ],
    };
  },
  depthwise(o: { padding: Pad; stride: [number, number]; multiplier: number; act?: Act }): WriterOptions {
    return {
      type: OptionsType.DepthwiseConv2DOptions,
      fields: [
        [0, 'int8', PAD[o.padding]], [1, 'int32', o.stride[1]], [2, 'int32', o.stride[0]],
        [3, 'int32', o.multiplier], [4, 'int8', ACT[o.act ?? 'NONE']],
      ],
    };
  },
  pool(o: { padding: Pad; stride: [number, number]; filter: [number, number]; act?: Act }): WriterOptions {
    return {
      type: OptionsType.Pool2DOptions,
      fields: [
        [0, 'int8', PAD[o.padding]], [1, 'int32', o.stride[1]], [2, 'int32', o.stride[0]],
        [3, 'int32', o.filter[1]], [4, 'int32', o.filter[0]], [5, 'int8', ACT[o.act ?? 'NONE']],
      ],
    };
  },
  fullyConnected(act: Act = 'NONE'): WriterOptions {
    return { type: OptionsType.FullyConnectedOptions, fields: [[0, 'int8', ACT[act]]] };
  },
  add(act: Act = 'NONE'): WriterOptions {
    return { type: OptionsType.AddOptions, fields: [[0, 'int8', ACT[act]]] };
  },
  softmax(beta = 1): WriterOptions {
    return { type: OptionsType.SoftmaxOptions, fields: [[0, 'float32', beta]] };
  },
  reducer(keepDims: boolean): WriterOptions {
    return { type: OptionsType.ReducerOptions, fields: [[0, 'bool', keepDims]] };
  },
  empty(type: number): WriterOptions {
    return { type, fields: [] };
  },
};

function f32Bytes(values: ArrayLike<number>): Uint8Array {
  const a = new Float32Array(values.length);
  for (let i = 0; i < a.length; i++) a[i] = values[i];
  return new Uint8Array(a.buffer);
}
function i32Bytes(values: ArrayLike<number>): Uint8Array {
  return new Uint8Array(Int32Array.from(values as ArrayLike<number>).buffer);
}

/** Collects tensors and operators, then writes a `TFL3` flatbuffer. */
export class TfliteWriter {
  readonly tensors: WriterTensor[] = [];
  readonly ops: WriterOp[] = [];
  readonly inputs: number[] = [];
  readonly outputs: number[] = [];
  readonly metadata: { name: string; data: Uint8Array }[] = [];
  version = 3;
  description = 'webcnn test model';
  /** Write op codes as the old byte field only, the new int32 field only, or both (as current converters do). */
  opcodeStyle: 'both' | 'deprecated' | 'new' = 'both';

  tensor(t: WriterTensor): number {
    this.tensors.push(t);
    return this.tensors.length - 1;
  }

  input(name: string, shape: number[], type: number = TensorType.FLOAT32, quant?: WriterQuant): number {
    const id = this.tensor({ name, shape, type, quant });
    this.inputs.push(id);
    return id;
  }

  activation(name: string, shape: number[], type: number = TensorType.FLOAT32, quant?: WriterQuant): number {
    return this.tensor({ name, shape, type, quant });
  }

  float32(name: string, shape: number[], values: ArrayLike<number>): number {
    return this.tensor({ name, shape, type: TensorType.FLOAT32, data: f32Bytes(values) });
  }

  float16(name: string, shape: number[], bits: ArrayLike<number>): number {
    return this.tensor({ name, shape, type: TensorType.FLOAT16, data: new Uint8Array(Uint16Array.from(bits as ArrayLike<number>).buffer) });
  }

  int32(name: string, shape: number[], values: ArrayLike<number>, quant?: WriterQuant): number {
    return this.tensor({ name, shape, type: TensorType.INT32, data: i32Bytes(values), quant });
  }

  uint8(name: string, shape: number[], values: ArrayLike<number>, quant: WriterQuant): number {
    return this.tensor({ name, shape, type: TensorType.UINT8, data: Uint8Array.from(values as ArrayLike<number>), quant });
  }

  int8(name: string, shape: number[], values: ArrayLike<number>, quant: WriterQuant): number {
    return this.tensor({ name, shape, type: TensorType.INT8, data: new Uint8Array(Int8Array.from(values as ArrayLike<number>).buffer), quant });
  }

  op(op: WriterOp['op'], inputs: number[], outputs: number[], opts?: WriterOptions): void {
    this.ops.push({ op, inputs, outputs, options: opts });
  }

  output(id: number): void {
    this.outputs.push(id);
  }

  build(): Uint8Array {
    const b = new Builder(1024);
    const int32Vector = (values: readonly number[]): number => {
      b.startVector(4, values.length, 4);
      for (let i = values.length - 1; i >= 0; i--) b.addInt32(values[i]);
      return b.endVector();
    };
    const offsetVector = (offsets: readonly number[]): number => {
      b.startVector(4, offsets.length, 4);
      for (let i = offsets.length - 1; i >= 0; i--) b.addOffset(offsets[i]);
      return b.endVector();
    };

    // Buffers first, so that their bytes end up at the end of the file. Buffer 0 is the empty sentinel.
    const bufferData: (Uint8Array | null)[] = [null];
    const tensorBuffer = this.tensors.map((t) => {
      if (!t.data) return 0;
      bufferData.push(t.data);
      return bufferData.length - 1;
    });
    const metadataBuffer = this.metadata.map((m) => {
      bufferData.push(m.data);
      return bufferData.length - 1;
    });
    const dataOffsets = bufferData.map((d) => {
      if (!d) return 0;
      b.startVector(1, d.length, 16);
      for (let i = d.length - 1; i >= 0; i--) b.addInt8(d[i]);
      return b.endVector();
    });
    const buffers = dataOffsets.map((off) => {
      b.startObject(3);
      if (off) b.addFieldOffset(0, off, 0);
      return b.endObject();
    });

    const tensors = this.tensors.map((t, i) => {
      const shape = int32Vector(t.shape);
      const name = b.createString(t.name);
      let quant = 0;
      if (t.quant) {
        const scale = (() => {
          b.startVector(4, t.quant!.scale.length, 4);
          for (let k = t.quant!.scale.length - 1; k >= 0; k--) b.addFloat32(t.quant!.scale[k]);
          return b.endVector();
        })();
        const zps = t.quant.zeroPoint ?? [];
        b.startVector(8, zps.length, 8);
        for (let k = zps.length - 1; k >= 0; k--) b.addInt64(BigInt(zps[k]));
        const zp = b.endVector();
        b.startObject(7);
        b.addFieldOffset(2, scale, 0);
        b.addFieldOffset(3, zp, 0);
        b.addFieldInt32(6, t.quant.quantizedDimension ?? 0, 0);
        quant = b.endObject();
      }
      b.startObject(8);
      b.addFieldOffset(0, shape, 0);
      b.addFieldInt8(1, t.type, 0);
      b.addFieldInt32(2, tensorBuffer[i], 0);
      b.addFieldOffset(3, name, 0);
      if (quant) b.addFieldOffset(4, quant, 0);
      return b.endObject();
    });

    // Operator codes: one per distinct op.
    const codeKeys: string[] = [];
    const opcodeIndex = this.ops.map((o) => {
      const key = typeof o.op === 'number' ? `b${o.op}` : `c${o.op.custom}`;
      let k = codeKeys.indexOf(key);
      if (k < 0) {
        codeKeys.push(key);
        k = codeKeys.length - 1;
      }
      return k;
    });
    const codes = codeKeys.map((key) => {
      const custom = key[0] === 'c' ? b.createString(key.slice(1)) : 0;
      const code = key[0] === 'b' ? Number(key.slice(1)) : BuiltinOp.CUSTOM;
      b.startObject(4);
      if (this.opcodeStyle !== 'new') b.addFieldInt8(0, Math.min(code, BuiltinOp.PLACEHOLDER_FOR_GREATER_OP_CODES), 0);
      if (custom) b.addFieldOffset(1, custom, 0);
      b.addFieldInt32(2, 1, 1);
      if (this.opcodeStyle !== 'deprecated') b.addFieldInt32(3, code, 0);
      return b.endObject();
    });

    const operators = this.ops.map((o, i) => {
      const inputs = int32Vector(o.inputs);
      const outputs = int32Vector(o.outputs);
      let opts = 0;
      if (o.options) {
        b.startObject(8);
        for (const [slot, kind, value] of o.options.fields) {
          if (kind === 'int8') b.addFieldInt8(slot, Number(value), null);
          else if (kind === 'bool') b.addFieldInt8(slot, value ? 1 : 0, null);
          else if (kind === 'int32') b.addFieldInt32(slot, Number(value), null);
          else b.addFieldFloat32(slot, Number(value), null);
        }
        opts = b.endObject();
      }
      b.startObject(5);
      b.addFieldInt32(0, opcodeIndex[i], 0);
      b.addFieldOffset(1, inputs, 0);
      b.addFieldOffset(2, outputs, 0);
      if (o.options) {
        b.addFieldInt8(3, o.options.type, 0);
        b.addFieldOffset(4, opts, 0);
      }
      return b.endObject();
    });

    const sgTensors = offsetVector(tensors);
    const sgInputs = int32Vector(this.inputs);
    const sgOutputs = int32Vector(this.outputs);
    const sgOperators = offsetVector(operators);
    const sgName = b.createString('main');
    b.startObject(5);
    b.addFieldOffset(0, sgTensors, 0);
    b.addFieldOffset(1, sgInputs, 0);
    b.addFieldOffset(2, sgOutputs, 0);
    b.addFieldOffset(3, sgOperators, 0);
    b.addFieldOffset(4, sgName, 0);
    const subgraph = b.endObject();

    const metadata = this.metadata.map((m, i) => {
      const name = b.createString(m.name);
      b.startObject(2);
      b.addFieldOffset(0, name, 0);
      b.addFieldInt32(1, metadataBuffer[i], 0);
      return b.endObject();
    });

    const codesVec = offsetVector(codes);
    const subgraphs = offsetVector([subgraph]);
    const description = b.createString(this.description);
    const buffersVec = offsetVector(buffers);
    const metadataVec = metadata.length ? offsetVector(metadata) : 0;
    b.startObject(7);
    b.addFieldInt32(0, this.version, 0);
    b.addFieldOffset(1, codesVec, 0);
    b.addFieldOffset(2, subgraphs, 0);
    b.addFieldOffset(3, description, 0);
    b.addFieldOffset(4, buffersVec, 0);
    if (metadataVec) b.addFieldOffset(6, metadataVec, 0);
    const model = b.endObject();
    b.finish(model, 'TFL3');
    return b.asUint8Array().slice();
  }
}

/**
 * A 10-class TFLite classifier: mean over an 8 x 6 RGB image, fully connected, softmax; the input of type
 * `inputType` (quantized with `quant`), and `metadata` entries, for the preprocessing and labels tests.
 */
export function tinyClassifier(
  inputType: number = TensorType.FLOAT32,
  quant?: WriterQuant,
  metadata: readonly { name: string; data: Uint8Array }[] = [],
): Uint8Array {
  const w = new TfliteWriter();
  const x = w.input('image', [1, 8, 6, 3], inputType, quant);
  const axes = w.int32('axes', [2], [1, 2]);
  const m = w.activation('m', [1, 3]);
  w.op(BuiltinOp.MEAN, [x, axes], [m], options.reducer(false));
  const f = w.float32('fc', [10, 3], Array.from({ length: 30 }, (_, i) => i / 30));
  const y = w.activation('logits', [1, 10]);
  w.op(BuiltinOp.FULLY_CONNECTED, [m, f, -1], [y], options.fullyConnected());
  const p = w.activation('probs', [1, 10]);
  w.op(BuiltinOp.SOFTMAX, [y], [p], options.softmax());
  w.output(p);
  w.metadata.push(...metadata);
  return w.build();
}
