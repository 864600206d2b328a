/**
 * TFLite-aware fuzz cases: structured edits of a model before it is written (hostile dims, swapped tensor
 * types, out-of-range and cyclic operator inputs, hostile op options, broken quantization), and hostile files
 * built from scratch (alias and op chains thousands long, huge activations, flatbuffer tables shared by
 * thousands of vector entries).
 */
import { Builder } from 'flatbuffers';
import { BuiltinOp, OptionsType, TensorType } from '../../src/formats/tflite/schema.ts';
import type { OptionField } from '../helpers/tflite-writer.ts';
import { options, TfliteWriter } from '../helpers/tflite-writer.ts';
import type { Rng } from '../../src/util/random.ts';
import type { Encoding } from './corpus.ts';
import { tfliteClassifierWriter, tfliteMiscWriter } from './corpus.ts';
import { tfliteActivationNetWriter } from './activation-seeds.ts';
import { tfliteBinaryNetWriter } from './binary-seeds.ts';
import { tfliteChannelNetWriter } from './channels-corpus.ts';
import { tfliteReduceMaxWriter } from './corpus-reduce.ts';
import { tfliteUpsampleNetWriter } from './upsample-seeds.ts';
import { tfliteOracleCases } from '../tflite-oracle-cases.ts';

export const HOSTILE_DIMS = [0, -1, -2147483648, 2147483647, 1 << 30, 65536, 1 << 20, 1000000, 3, 1];
const HOSTILE_OPTION_INTS = [0, -1, -128, 127, 255, 1024, 1025, 65536, 2147483647, -2147483648, 2, 3];

/**
 * Writers of the seeds with the ops issue #16 added (binary ops, activations, concat / split / slice, resize,
 * ARG_MAX, TRANSPOSE_CONV, REDUCE_MAX, and the browser oracle's float32 / uint8 op models).
 */
const OP_SEED_WRITERS: readonly ((rng: Rng) => TfliteWriter)[] = [
  (rng) => tfliteUpsampleNetWriter(rng.int(1, 1000)),
  (rng) => tfliteBinaryNetWriter(rng.int(1, 1000)),
  (rng) => tfliteChannelNetWriter(rng.int(1, 1000)),
  () => tfliteReduceMaxWriter(),
  () => tfliteActivationNetWriter(),
  (rng) => rng.pick(tfliteOracleCases()).writer,
];

function base(rng: Rng): TfliteWriter {
  const r = rng.next();
  if (r < 0.45) return tfliteClassifierWriter(rng.pick<Encoding>(['float', 'float16', 'uint8', 'int8']), rng.int(1, 1000), rng.next() < 0.3);
  if (r < 0.6) return tfliteMiscWriter(rng.int(1, 1000));
  return rng.pick(OP_SEED_WRITERS)(rng);
}

const HOSTILE_INT_VALUES = [0, -1, -2, 1, 3, 4, 5, 65536, 1 << 20, 1 << 30, 2147483647, -2147483648];

type Edit = (rng: Rng, w: TfliteWriter) => string;

const EDITS: Record<string, Edit> = {
  tensorDim(rng, w) {
    const t = rng.pick(w.tensors);
    const v = rng.pick(HOSTILE_DIMS);
    if (t.shape.length === 0 || rng.next() < 0.2) {
      t.shape = [...t.shape, v];
    } else t.shape[rng.int(0, t.shape.length - 1)] = v;
    return `tensor '${t.name}' shape [${t.shape}]`;
  },
  tensorRank(rng, w) {
    const t = rng.pick(w.tensors);
    t.shape = rng.next() < 0.5 ? t.shape.slice(0, rng.int(0, t.shape.length)) : [...t.shape, ...new Array(rng.int(1, 40)).fill(1)];
    return `tensor '${t.name}' rank ${t.shape.length}`;
  },
  tensorType(rng, w) {
    const t = rng.pick(w.tensors);
    if (rng.next() < 0.5) {
      const u = rng.pick(w.tensors);
      [t.type, u.type] = [u.type, t.type];
      return `swap types of '${t.name}' and '${u.name}'`;
    }
    t.type = rng.int(-2, 20);
    return `tensor '${t.name}' type ${t.type}`;
  },
  tensorData(rng, w) {
    const t = rng.pick(w.tensors);
    const r = rng.next();
    if (t.data && r < 0.4) t.data = t.data.slice(0, rng.int(0, t.data.length));
    else if (t.data && r < 0.6) t.data = undefined;
    else {
      const n = rng.int(1, 64);
      t.data = Uint8Array.from({ length: n }, () => rng.int(0, 255));
    }
    return `tensor '${t.name}' data ${t.data?.length ?? 'none'}`;
  },
  quantization(rng, w) {
    const t = rng.pick(w.tensors);
    const r = rng.next();
    if (r < 0.3) t.quant = { scale: Array.from({ length: rng.int(0, 20) }, () => rng.pick([0.01, 0, -1, NaN, Infinity, 1e30])) };
    else if (r < 0.5) t.quant = { scale: [0.1, 0.2], zeroPoint: [1, 2, 3], quantizedDimension: rng.pick([-1, 0, 3, 99, 2147483647]) };
    else if (r < 0.7) t.quant = { scale: [0.05], zeroPoint: [rng.pick([0, -1, 2 ** 40, 2 ** 53, -(2 ** 62)])] };
    else t.quant = undefined;
    return `tensor '${t.name}' quantization ${JSON.stringify(t.quant ?? null)}`;
  },
  intConstant(rng, w) {
    // Sizes, axes, begin / end / strides, split sizes, output shapes: the constants the newer ops read.
    const ints = w.tensors.filter((t) => t.type === TensorType.INT32 && t.data && !t.quant);
    if (!ints.length) return 'no int32 constants';
    const t = rng.pick(ints);
    const values = new Int32Array(t.data!.slice().buffer, 0, t.data!.length >> 2);
    const r = rng.next();
    if (r < 0.7 && values.length) values[rng.int(0, values.length - 1)] = rng.pick(HOSTILE_INT_VALUES);
    else {
      const n = rng.pick([0, 1, 2, 3, 5, 8, 1000]);
      t.shape = [n];
      t.data = new Uint8Array(Int32Array.from({ length: n }, () => rng.pick(HOSTILE_INT_VALUES)).buffer);
      return `int32 constant '${t.name}' now ${n} values`;
    }
    t.data = new Uint8Array(values.buffer);
    return `int32 constant '${t.name}' = [${Array.from(values).slice(0, 8)}]`;
  },
  opInput(rng, w) {
    const k = rng.int(0, w.ops.length - 1);
    const op = w.ops[k];
    const later = w.ops.slice(k).flatMap((o) => o.outputs);
    const v = rng.pick([-1, -2, w.tensors.length, 9999, 2147483647, -2147483648, op.outputs[0] ?? 0, rng.pick(later.length ? later : [0]), rng.int(0, w.tensors.length - 1)]);
    if (op.inputs.length === 0 || rng.next() < 0.1) op.inputs = [...op.inputs, v];
    else op.inputs[rng.int(0, op.inputs.length - 1)] = v;
    return `op ${k} inputs [${op.inputs}]`;
  },
  opOutput(rng, w) {
    const k = rng.int(0, w.ops.length - 1);
    const op = w.ops[k];
    const r = rng.next();
    if (r < 0.2) op.outputs = [];
    else if (r < 0.35) op.outputs = [...op.outputs, rng.int(0, w.tensors.length - 1)];
    else op.outputs = [rng.pick([op.inputs[0] ?? 0, rng.int(-1, w.tensors.length + 1), w.ops[rng.int(0, w.ops.length - 1)].outputs[0] ?? 0])];
    return `op ${k} outputs [${op.outputs}]`;
  },
  opOptions(rng, w) {
    const k = rng.int(0, w.ops.length - 1);
    const op = w.ops[k];
    const r = rng.next();
    if (!op.options || r < 0.15) {
      op.options = { type: rng.int(0, 130), fields: [] };
    } else if (r < 0.25) {
      op.options = undefined;
    } else {
      const slot = rng.int(0, 7);
      const kind = rng.pick<OptionField[1]>(['int8', 'int32', 'float32', 'bool']);
      const value = kind === 'float32' ? rng.pick([0, -1, NaN, Infinity, 2, 1e38]) : rng.pick(HOSTILE_OPTION_INTS);
      op.options.fields = [...op.options.fields.filter((f) => f[0] !== slot), [slot, kind, value]];
    }
    return `op ${k} options ${JSON.stringify(op.options ?? null)}`;
  },
  opCode(rng, w) {
    const k = rng.int(0, w.ops.length - 1);
    w.ops[k].op = rng.next() < 0.1 ? { custom: 'TFLite_Detection_PostProcess' } : rng.pick([...Object.values(BuiltinOp), rng.int(0, 210), 127, 128]);
    return `op ${k} code ${JSON.stringify(w.ops[k].op)}`;
  },
  opOrder(rng, w) {
    const r = rng.next();
    if (r < 0.4) w.ops.reverse();
    else if (r < 0.7) {
      const i = rng.int(0, w.ops.length - 1);
      const j = rng.int(0, w.ops.length - 1);
      [w.ops[i], w.ops[j]] = [w.ops[j], w.ops[i]];
    } else w.ops.splice(rng.int(0, w.ops.length), 0, { ...rng.pick(w.ops) });
    return 'reordered ops';
  },
  graphIo(rng, w) {
    const list = rng.next() < 0.5 ? w.inputs : w.outputs;
    const r = rng.next();
    if (r < 0.25) list.length = 0;
    else if (r < 0.5) list.push(list[0] ?? 0);
    else list[0] = rng.pick([-1, 9999, 2147483647, rng.int(0, w.tensors.length - 1)]);
    return `graph ${list === w.inputs ? 'inputs' : 'outputs'} [${list}]`;
  },
  version(rng, w) {
    w.version = rng.pick([0, 1, 2, 4, -1, 2147483647]);
    return `version ${w.version}`;
  },
};

const EDIT_NAMES = Object.keys(EDITS);

/** A small model with one to three structured edits. */
export function editedTflite(rng: Rng): { bytes: Uint8Array; what: string } {
  const w = base(rng);
  const what: string[] = [];
  const n = rng.next() < 0.7 ? 1 : rng.int(2, 3);
  for (let k = 0; k < n; k++) {
    const name = rng.pick(EDIT_NAMES);
    what.push(`${name}: ${EDITS[name](rng, w)}`);
  }
  return { bytes: w.build(), what: what.join('; ') };
}

// ---- hostile files built from scratch ---------------------------------------------------------------------

/** A constant reshaped `k` times in a row (each RESHAPE of a constant is an alias of it), used as FC weights. */
export function aliasChain(k: number): Uint8Array {
  const w = new TfliteWriter();
  const x = w.input('x', [1, 4]);
  let c = w.float32('w', [3, 4], new Array(12).fill(0.5));
  for (let i = 0; i < k; i++) {
    const next = w.activation(`w_${i}`, i % 2 ? [3, 4] : [12]);
    w.op(BuiltinOp.RESHAPE, [c], [next], options.empty(OptionsType.ReshapeOptions));
    c = next;
  }
  const y = w.activation('y', [1, 3]);
  w.op(BuiltinOp.FULLY_CONNECTED, [x, c, -1], [y], options.fullyConnected());
  w.output(y);
  return w.build();
}

/** `k` activation ops in a chain (RELU, RELU6, ...). */
export function opChain(k: number, op: number = BuiltinOp.RELU): Uint8Array {
  const w = new TfliteWriter();
  let t = w.input('x', [1, 2, 2, 4]);
  for (let i = 0; i < k; i++) {
    const next = w.activation(`t${i}`, [1, 2, 2, 4]);
    w.op(op, [t], [next]);
    t = next;
  }
  w.output(t);
  return w.build();
}

/** An op that reads a tensor a later op writes, or its own output. */
export function cyclicTflite(selfLoop: boolean): Uint8Array {
  const w = new TfliteWriter();
  const x = w.input('x', [1, 4]);
  const a = w.activation('a', [1, 4]);
  const b = w.activation('b', [1, 4]);
  if (selfLoop) w.op(BuiltinOp.RELU, [a], [a]);
  else {
    w.op(BuiltinOp.ADD, [x, b], [a], options.add());
    w.op(BuiltinOp.RELU, [a], [b]);
  }
  w.output(selfLoop ? a : b);
  return w.build();
}

/** A network whose input (and so every activation) is enormous. */
export function hugeActivation(rng: Rng): Uint8Array {
  const w = new TfliteWriter();
  const side = rng.pick([65536, 1 << 20, 46341, 2147483647]);
  const x = w.input('x', [1, side, side, 3]);
  const f = w.float32('f', [2, 3, 3, 3], new Array(54).fill(0.1));
  const y = w.activation('y', [1, side, side, 2]);
  w.op(BuiltinOp.CONV_2D, [x, f, -1], [y], options.conv2d({ padding: 'SAME', stride: [1, 1] }));
  w.output(y);
  return w.build();
}

/**
 * A raw flatbuffer whose tensors, operators, buffers and metadata vectors repeat one table `n` times, the
 * tensor with a `dims`-long shape and a `nameBytes`-long name, and `n` metadata entries all naming one buffer
 * of `metaBytes` bytes: decoding must not multiply the shared data.
 */
export function sharedTables(n: number, dims: number, nameBytes: number, metaBytes: number, metaName = 'labels'): Uint8Array {
  const b = new Builder(1024);
  const vec = (values: number[], kind: 'i32' | 'off') => {
    b.startVector(4, values.length, 4);
    for (let i = values.length - 1; i >= 0; i--) (kind === 'i32' ? b.addInt32(values[i]) : b.addOffset(values[i]));
    return b.endVector();
  };
  b.startVector(1, metaBytes, 16);
  for (let i = metaBytes - 1; i >= 0; i--) b.addInt8(i % 7 === 6 ? 10 : 97);
  const metaData = b.endVector();
  b.startObject(3);
  b.addFieldOffset(0, metaData, 0);
  const metaBuffer = b.endObject();
  b.startObject(3);
  const emptyBuffer = b.endObject();
  const shape = vec(new Array(dims).fill(1), 'i32');
  const name = b.createString('n'.repeat(nameBytes));
  b.startObject(8);
  b.addFieldOffset(0, shape, 0);
  b.addFieldInt8(1, TensorType.FLOAT32, 0);
  b.addFieldOffset(3, name, 0);
  const tensor = b.endObject();
  const io = vec([0], 'i32');
  const out = vec([1], 'i32');
  b.startObject(5);
  b.addFieldOffset(1, io, 0);
  b.addFieldOffset(2, out, 0);
  const op = b.endObject();
  const tensors = vec(new Array(n).fill(tensor), 'off');
  const ops = vec(new Array(n).fill(op), 'off');
  b.startObject(5);
  b.addFieldOffset(0, tensors, 0);
  b.addFieldOffset(1, io, 0);
  b.addFieldOffset(2, out, 0);
  b.addFieldOffset(3, ops, 0);
  b.addFieldOffset(4, name, 0);
  const sg = b.endObject();
  b.startObject(4);
  b.addFieldInt8(0, BuiltinOp.RELU, 0);
  b.addFieldInt32(3, BuiltinOp.RELU, 0);
  const code = b.endObject();
  const metaName2 = b.createString(metaName);
  b.startObject(2);
  b.addFieldOffset(0, metaName2, 0);
  b.addFieldInt32(1, 1, 0);
  const meta = b.endObject();
  const codes = vec([code], 'off');
  const sgs = vec([sg], 'off');
  const buffers = vec([emptyBuffer, metaBuffer, ...new Array(n).fill(emptyBuffer)], 'off');
  const metas = vec(new Array(n).fill(meta), 'off');
  b.startObject(7);
  b.addFieldInt32(0, 3, 0);
  b.addFieldOffset(1, codes, 0);
  b.addFieldOffset(2, sgs, 0);
  b.addFieldOffset(3, name, 0);
  b.addFieldOffset(4, buffers, 0);
  b.addFieldOffset(6, metas, 0);
  b.finish(b.endObject(), 'TFL3');
  return b.asUint8Array().slice();
}

/** RESIZE_BILINEAR / RESIZE_NEAREST_NEIGHBOR to a hostile size. */
export function hostileResize(rng: Rng): { bytes: Uint8Array; what: string } {
  const w = new TfliteWriter();
  const x = w.input('x', [1, 4, 4, 3]);
  const size = [rng.pick(HOSTILE_INT_VALUES), rng.pick(HOSTILE_INT_VALUES)];
  const y = w.activation('y', [1, Math.max(size[0], 1), Math.max(size[1], 1), 3]);
  const nearest = rng.next() < 0.5;
  const opts = nearest
    ? { type: OptionsType.ResizeNearestNeighborOptions, fields: [] as OptionField[] }
    : { type: OptionsType.ResizeBilinearOptions, fields: [[2, 'bool', rng.next() < 0.5], [3, 'bool', rng.next() < 0.5]] as OptionField[] };
  w.op(nearest ? BuiltinOp.RESIZE_NEAREST_NEIGHBOR : BuiltinOp.RESIZE_BILINEAR, [x, w.int32('size', [2], size)], [y], opts);
  w.output(y);
  return { bytes: w.build(), what: `${nearest ? 'RESIZE_NEAREST_NEIGHBOR' : 'RESIZE_BILINEAR'} to [${size}]` };
}

/** CONCATENATION of `k` inputs (one tensor repeated), on a hostile axis. */
export function wideConcat(k: number, axis: number): Uint8Array {
  const w = new TfliteWriter();
  const x = w.input('x', [1, 2, 2, 3]);
  const y = w.activation('y', [1, 2, 2, 3 * k]);
  w.op(BuiltinOp.CONCATENATION, new Array(k).fill(x), [y], { type: OptionsType.ConcatenationOptions, fields: [[0, 'int32', axis]] });
  w.output(y);
  return w.build();
}

/** Hostile TFLite files built from scratch. */
export function hostileTflite(rng: Rng): { bytes: Uint8Array; what: string } {
  const r = rng.int(0, 8);
  switch (r) {
    case 0: {
      const k = rng.pick([10, 100, 1000, 5000, 20000]);
      return { bytes: aliasChain(k), what: `alias chain of ${k} RESHAPEs of a constant` };
    }
    case 1: {
      const k = rng.pick([100, 1000, 5000, 20000]);
      const op = rng.pick([BuiltinOp.RELU, BuiltinOp.RELU6, BuiltinOp.RESHAPE, BuiltinOp.DEQUANTIZE]);
      return { bytes: opChain(k, op), what: `chain of ${k} op ${op}` };
    }
    case 2: {
      const self = rng.next() < 0.5;
      return { bytes: cyclicTflite(self), what: self ? 'op reads its own output' : 'op reads a later op output' };
    }
    case 3:
      return { bytes: hugeActivation(rng), what: 'huge input dims' };
    case 4: {
      const n = rng.pick([1000, 20000, 100000]);
      const dims = rng.pick([1, 1000, 20000]);
      const nameBytes = rng.pick([1, 1000, 100000]);
      return { bytes: sharedTables(n, dims, nameBytes, rng.pick([16, 100000]), rng.pick(['labels', 'min_runtime_version'])), what: `${n} shared tables, ${dims} dims, ${nameBytes}-byte name` };
    }
    case 5:
      return hostileResize(rng);
    case 6: {
      const k = rng.pick([2, 1000, 20000, 100000]);
      const axis = rng.pick([3, -1, 0, 1, 4, -5, 2147483647]);
      return { bytes: wideConcat(k, axis), what: `CONCATENATION of ${k} inputs on axis ${axis}` };
    }
    default: {
      const e = editedTflite(rng);
      return { bytes: e.bytes, what: `edited: ${e.what}` };
    }
  }
}
