/**
 * ONNX-aware fuzz cases: a seed decoded to plain objects, edited (hostile dims and attributes, swapped data
 * types, truncated raw data, node inputs that reference later outputs or the node itself, duplicated or
 * dropped nodes, wrong opsets, deep chains and nested subgraphs) and encoded again; and hostile models built
 * from scratch (constant-folding broadcast bombs, huge channel counts, thousands of nodes, cycles).
 */
import { DataType, modelProtoType } from '../../src/formats/onnx/proto.ts';
import type { NodeInit, TensorInit } from '../../src/formats/onnx/writer.ts';
import { attr, encodeModel, makeGraph, makeModel, makeNode, makeTensor, makeValueInfo } from '../../src/formats/onnx/writer.ts';
import { SUPPORTED_ONNX_OPS } from '../../src/formats/onnx/loader.ts';
import type { Rng } from '../../src/util/random.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = any;

export const HOSTILE_INTS = [0, -1, -2, 1, 2, 3, 1024, 1025, 65536, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 40, 2 ** 53, -(2 ** 53), 2 ** 62, -(2 ** 62)];
const HOSTILE_FLOATS = [0, -1, 1e-45, 1e38, -1e38, NaN, Infinity, -Infinity];

const nodesOf = (m: Obj): Obj[] => (m.graph.node ??= []);

/** Every value name the graph defines, in order (inputs, initializers, node outputs). */
function valueNames(m: Obj): string[] {
  return [
    ...(m.graph.input ?? []).map((v: Obj) => v.name),
    ...(m.graph.initializer ?? []).map((t: Obj) => t.name),
    ...nodesOf(m).flatMap((n: Obj) => n.output ?? []),
  ].filter(Boolean);
}

/** Every list of int64 dims in the model: initializers, Constant tensors, value infos. */
function dimLists(m: Obj): { list: Obj[]; key: string; what: string }[] {
  const out: { list: Obj[]; key: string; what: string }[] = [];
  for (const t of m.graph.initializer ?? []) if (t.dims?.length) out.push({ list: t.dims, key: '', what: `initializer ${t.name}` });
  for (const v of [...(m.graph.input ?? []), ...(m.graph.output ?? []), ...(m.graph.value_info ?? [])]) {
    const dims = v.type?.tensor_type?.shape?.dim;
    if (dims?.length) out.push({ list: dims, key: 'dim_value', what: `value ${v.name}` });
  }
  for (const n of nodesOf(m)) for (const a of n.attribute ?? []) if (a.t?.dims?.length) out.push({ list: a.t.dims, key: '', what: `node ${n.name} tensor` });
  return out;
}

type Edit = (rng: Rng, m: Obj) => string;

const EDITS: Record<string, Edit> = {
  dim(rng, m) {
    const lists = dimLists(m);
    if (!lists.length) return 'no dims';
    const d = rng.pick(lists);
    const i = rng.int(0, d.list.length - 1);
    const v = rng.pick(HOSTILE_INTS);
    if (d.key) d.list[i] = rng.next() < 0.15 ? { dim_param: 'N' } : { dim_value: v };
    else d.list[i] = v;
    return `${d.what} dim ${i} = ${v}`;
  },
  rank(rng, m) {
    const lists = dimLists(m);
    if (!lists.length) return 'no dims';
    const d = rng.pick(lists);
    const extra = rng.int(1, 70);
    for (let k = 0; k < extra; k++) d.list.push(d.key ? { dim_value: 1 } : 1);
    return `${d.what} rank +${extra}`;
  },
  attribute(rng, m) {
    const withAttrs = nodesOf(m).filter((n: Obj) => n.attribute?.length);
    if (!withAttrs.length) return 'no attributes';
    const n = rng.pick(withAttrs);
    const a = rng.pick(n.attribute) as Obj;
    const r = rng.next();
    if (a.ints?.length) a.ints[rng.int(0, a.ints.length - 1)] = rng.pick(HOSTILE_INTS);
    else if (a.i !== undefined) a.i = rng.pick(HOSTILE_INTS);
    else if (a.floats?.length) a.floats[0] = rng.pick(HOSTILE_FLOATS);
    else if (a.f !== undefined) a.f = rng.pick(HOSTILE_FLOATS);
    if (r < 0.2) a.type = rng.int(0, 15);
    if (r > 0.9) a.ints = Array.from({ length: rng.int(0, 9) }, () => rng.pick(HOSTILE_INTS));
    return `node ${n.name} attribute ${a.name} = ${JSON.stringify({ i: a.i, ints: a.ints, f: a.f, type: a.type })}`;
  },
  addAttribute(rng, m) {
    const n = rng.pick(nodesOf(m));
    if (!n) return 'no nodes';
    const name = rng.pick([
      ...['kernel_shape', 'strides', 'pads', 'dilations', 'group', 'axis', 'auto_pad', 'ceil_mode', 'transA', 'transB', 'allowzero', 'mode', 'value', 'epsilon', 'training_mode', 'min', 'max', 'value_ints'],
      // Attributes of the ops issue #16 added (Resize, ArgMax, ConvTranspose, Split, Transpose, reductions, ...).
      ...['coordinate_transformation_mode', 'nearest_mode', 'cubic_coeff_a', 'exclude_outside', 'extrapolation_value', 'antialias', 'scales', 'keepdims', 'select_last_index'],
      ...['output_padding', 'output_shape', 'split', 'num_outputs', 'perm', 'axes', 'noop_with_empty_axes', 'stash_type', 'approximate', 'alpha', 'beta', 'gamma', 'count_include_pad'],
    ]);
    const kind = rng.int(0, 4);
    const a: Obj = { name };
    if (kind === 0) Object.assign(a, { type: 2, i: rng.pick(HOSTILE_INTS) });
    else if (kind === 1) Object.assign(a, { type: 7, ints: Array.from({ length: rng.int(0, 6) }, () => rng.pick(HOSTILE_INTS)) });
    else if (kind === 2) Object.assign(a, { type: 1, f: rng.pick(HOSTILE_FLOATS) });
    else if (kind === 3) Object.assign(a, { type: 3, s: new TextEncoder().encode(rng.pick(['SAME_UPPER', 'SAME_LOWER', 'VALID', 'NOTSET', 'reflect', 'x', 'half_pixel', 'align_corners', 'asymmetric', 'pytorch_half_pixel', 'tf_crop_and_resize', 'linear', 'cubic', 'nearest', 'round_prefer_ceil', 'tanh', 'none'])) });
    else Object.assign(a, { type: 4, t: { dims: [rng.pick(HOSTILE_INTS)], data_type: 1 } });
    n.attribute = [...(n.attribute ?? []).filter((x: Obj) => x.name !== name), a];
    return `node ${n.name} + attribute ${name} kind ${kind}`;
  },
  dataType(rng, m) {
    const inits = m.graph.initializer ?? [];
    if (!inits.length) return 'no initializers';
    const t = rng.pick(inits) as Obj;
    t.data_type = rng.int(0, 20);
    return `initializer ${t.name} data_type ${t.data_type}`;
  },
  rawData(rng, m) {
    const inits = (m.graph.initializer ?? []).filter((t: Obj) => t.raw_data?.length);
    if (!inits.length) return 'no raw data';
    const t = rng.pick(inits) as Obj;
    const r = rng.next();
    if (r < 0.5) t.raw_data = t.raw_data.subarray(0, rng.int(0, t.raw_data.length - 1));
    else if (r < 0.7) delete t.raw_data;
    else {
      t.float_data = [1, 2, 3];
      t.int64_data = [1];
    }
    return `initializer ${t.name} data edited`;
  },
  initValues(rng, m) {
    // The values of int64 / float initializers: Resize sizes and scales, axes, Slice starts / ends / steps, split
    // sizes, Reshape shapes, Pow exponents.
    const inits = (m.graph.initializer ?? []).filter((t: Obj) => t.data_type === DataType.INT64 || t.data_type === DataType.FLOAT);
    if (!inits.length) return 'no int64 / float initializers';
    const t = rng.pick(inits) as Obj;
    const isInt = t.data_type === DataType.INT64;
    const width = isInt ? 8 : 4;
    if (t.raw_data?.length >= width) {
      const raw = new Uint8Array(t.raw_data);
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      const at = width * rng.int(0, Math.floor(raw.length / width) - 1);
      if (isInt) view.setBigInt64(at, BigInt(rng.pick(HOSTILE_INTS)), true);
      else view.setFloat32(at, rng.pick(HOSTILE_FLOATS), true);
      t.raw_data = raw;
      return `initializer ${t.name} value at byte ${at}`;
    }
    const list = isInt ? t.int64_data : t.float_data;
    if (!list?.length) return `initializer ${t.name} has no values`;
    list[rng.int(0, list.length - 1)] = isInt ? rng.pick(HOSTILE_INTS) : rng.pick(HOSTILE_FLOATS);
    return `initializer ${t.name} value edited`;
  },
  inputRef(rng, m) {
    const nodes = nodesOf(m);
    if (!nodes.length) return 'no nodes';
    const k = rng.int(0, nodes.length - 1);
    const n = nodes[k];
    const later = nodes.slice(k).flatMap((x: Obj) => x.output ?? []);
    const v = rng.pick([...later, n.output?.[0] ?? 'y', 'missing', '', rng.pick(valueNames(m))]);
    n.input = [...(n.input ?? [])];
    if (!n.input.length || rng.next() < 0.1) n.input.push(v);
    else n.input[rng.int(0, n.input.length - 1)] = v;
    return `node ${k} inputs ${JSON.stringify(n.input)}`;
  },
  outputRef(rng, m) {
    const nodes = nodesOf(m);
    if (!nodes.length) return 'no nodes';
    const k = rng.int(0, nodes.length - 1);
    const n = nodes[k];
    const r = rng.next();
    if (r < 0.2) n.output = [];
    else if (r < 0.4) n.output = [...(n.output ?? []), rng.pick(valueNames(m))];
    else n.output = [rng.pick([...valueNames(m), '', 'fresh'])];
    return `node ${k} outputs ${JSON.stringify(n.output)}`;
  },
  nodes(rng, m) {
    const nodes = nodesOf(m);
    if (!nodes.length) return 'no nodes';
    const r = rng.next();
    if (r < 0.25) nodes.reverse();
    else if (r < 0.5) nodes.splice(rng.int(0, nodes.length - 1), 1);
    else if (r < 0.75) nodes.splice(rng.int(0, nodes.length), 0, structuredClone(rng.pick(nodes)));
    else {
      const i = rng.int(0, nodes.length - 1);
      const j = rng.int(0, nodes.length - 1);
      [nodes[i], nodes[j]] = [nodes[j], nodes[i]];
    }
    return 'node order edited';
  },
  opType(rng, m) {
    const n = rng.pick(nodesOf(m));
    if (!n) return 'no nodes';
    n.op_type = rng.pick([...SUPPORTED_ONNX_OPS, 'Loop', 'If', 'Scan', '', 'Conv\0', '__proto__', 'constructor', 'toString']);
    if (rng.next() < 0.1) n.domain = rng.pick(['com.microsoft', 'ai.onnx.ml', 'ai.onnx']);
    return `node ${n.name} op_type ${n.op_type}`;
  },
  graphIo(rng, m) {
    const r = rng.next();
    if (r < 0.2) m.graph.output = [];
    else if (r < 0.4) m.graph.input = [];
    else if (r < 0.6) m.graph.output = [{ name: rng.pick(valueNames(m)) }];
    else if (r < 0.8) m.graph.input = [...(m.graph.input ?? []), ...(m.graph.input ?? [])];
    else {
      const v = (m.graph.input ?? [])[0];
      if (v?.type?.tensor_type) v.type.tensor_type.elem_type = rng.int(0, 20);
    }
    return 'graph inputs/outputs edited';
  },
  versions(rng, m) {
    if (rng.next() < 0.5) m.ir_version = rng.pick([0, 1, 2, 3, 11, 65, -1, 2 ** 53]);
    else m.opset_import = [{ domain: rng.pick(['', 'ai.onnx', 'x']), version: rng.pick([0, 1, 6, 7, 10, 11, 12, 18, 21, 22, -1, 2 ** 40]) }];
    return `ir ${m.ir_version}, opset ${JSON.stringify(m.opset_import)}`;
  },
  deepChain(rng, m) {
    const out = m.graph.output?.[0]?.name;
    if (!out) return 'no output';
    const k = rng.pick([100, 1000, 3000, 10000]);
    const op = rng.pick(['Relu', 'Identity', 'Dropout', 'Flatten']);
    let prev = out;
    for (let i = 0; i < k; i++) {
      const next = `${out}_chain${i}`;
      nodesOf(m).push({ op_type: op, input: [prev], output: [next], name: `chain${i}` });
      prev = next;
    }
    m.graph.output = [{ name: prev }];
    return `chain of ${k} ${op}`;
  },
  cycle(rng, m) {
    const nodes = nodesOf(m);
    if (nodes.length < 2) return 'too few nodes';
    const i = rng.int(0, nodes.length - 2);
    const j = rng.int(i + 1, nodes.length - 1);
    nodes[i].input = [...(nodes[i].input ?? [])];
    nodes[i].input[0] = nodes[j].output?.[0] ?? 'x';
    return `node ${i} reads node ${j}'s output`;
  },
  nestedGraphs(rng, m) {
    // protobufjs refuses to encode (and decode) past 100 levels; deeper ones are `deepSubgraphs` below.
    const depth = rng.pick([5, 15, 30]);
    let g: Obj = { node: [{ op_type: 'Relu', input: ['a'], output: ['b'] }] };
    for (let d = 0; d < depth; d++) g = { node: [{ op_type: 'If', input: ['c'], output: ['o'], attribute: [{ name: 'then_branch', type: 5, g }] }] };
    const n = rng.pick(nodesOf(m));
    if (n) n.attribute = [...(n.attribute ?? []), { name: 'body', type: 5, g }];
    return `subgraphs nested ${depth} deep`;
  },
};

const EDIT_NAMES = Object.keys(EDITS);

/** A seed decoded, edited one to three times, and encoded again. */
export function editedOnnx(rng: Rng, seed: Uint8Array): { bytes: Uint8Array; what: string } {
  const type = modelProtoType();
  const m = type.toObject(type.decode(seed), { longs: Number }) as Obj;
  m.graph ??= {};
  const what: string[] = [];
  const n = rng.next() < 0.7 ? 1 : rng.int(2, 3);
  for (let k = 0; k < n; k++) {
    const name = rng.pick(EDIT_NAMES);
    what.push(`${name}: ${EDITS[name](rng, m)}`);
  }
  return { bytes: type.encode(type.fromObject(m)).finish(), what: what.join('; ') };
}

// ---- hostile models built from scratch ----------------------------------------------------------------

function model(nodes: NodeInit[], inputs: [string, number[]][], output: string, inits: TensorInit[] = [], opset = 13): Uint8Array {
  return encodeModel(
    makeModel({
      opset,
      graph: makeGraph({ nodes, inputs: inputs.map(([n, d]) => makeValueInfo(n, d)), outputs: [makeValueInfo(output, null)], initializers: inits }),
    }),
  );
}

/** Add of two constants whose broadcast is n x n values, added to the input. */
export function broadcastBomb(n: number): Uint8Array {
  return model(
    [makeNode('Add', ['a', 'b'], ['c']), makeNode('Add', ['x', 'c'], ['y'])],
    [['x', [n, n]]],
    'y',
    [makeTensor('a', [1, n], new Array(n).fill(1)), makeTensor('b', [n, 1], new Array(n).fill(2))],
  );
}

/** A scalar constant multiplied into an input with `channels` channels (a per-channel vector that size). */
export function wideScalarMul(channels: number): Uint8Array {
  return model([makeNode('Mul', ['x', 's'], ['y'])], [['x', [1, channels, 1, 1]]], 'y', [makeTensor('s', [], [2])]);
}

/** `k` nodes in a chain. */
export function onnxChain(k: number, op = 'Relu'): Uint8Array {
  const nodes: NodeInit[] = [];
  for (let i = 0; i < k; i++) nodes.push(makeNode(op, [i === 0 ? 'x' : `t${i - 1}`], [`t${i}`]));
  return model(nodes, [['x', [1, 2, 2, 2]]], `t${k - 1}`);
}

/** Two nodes that read each other's outputs, or one that reads its own. */
export function onnxCycle(self: boolean): Uint8Array {
  const nodes = self ? [makeNode('Relu', ['y'], ['y'])] : [makeNode('Add', ['x', 'b'], ['a']), makeNode('Relu', ['a'], ['b'])];
  return model(nodes, [['x', [1, 4]]], self ? 'y' : 'b');
}

/** `n` empty nodes: 2 bytes each in the file, an object each when decoded. */
export function emptyNodes(n: number): Uint8Array {
  const body = new Uint8Array(2 * n);
  for (let i = 0; i < n; i++) body[2 * i] = 0x0a; // field 1 (node), length 0
  const len: number[] = [];
  for (let v = body.length; ; v = Math.floor(v / 128)) {
    if (v < 128) {
      len.push(v);
      break;
    }
    len.push((v & 127) | 128);
  }
  const out = new Uint8Array(2 + 1 + len.length + body.length);
  out.set([0x08, 7, 0x3a, ...len]);
  out.set(body, 3 + len.length);
  return out;
}

/** The tag and varint length of a length-delimited field of `length` bytes. */
function lengthHeader(field: number, length: number): Uint8Array {
  const head: number[] = [(field << 3) | 2];
  for (let v = length; ; v = Math.floor(v / 128)) {
    if (v < 128) {
      head.push(v);
      break;
    }
    head.push((v & 127) | 128);
  }
  return Uint8Array.from(head);
}

function lengthDelimited(field: number, body: Uint8Array): Uint8Array {
  const head = lengthHeader(field, body.length);
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}

/** A model whose first node has an attribute graph with a node with an attribute graph ... `depth` times. */
export function deepSubgraphs(depth: number): Uint8Array {
  // Built from the inside out as headers only (each level is a tag and a length before its body), then written
  // once: wrapping the bytes level by level copied them depth times (quadratic: seconds at 20,000 levels,
  // which a loaded machine stretched past the fuzzer's 30 s hang limit).
  const core = lengthDelimited(4, new TextEncoder().encode('Relu'));
  const heads: Uint8Array[] = [];
  let length = core.length;
  for (let d = 0; d < depth; d++) {
    for (const field of [1, 6, 5]) {
      const head = lengthHeader(field, length); // attribute.g.node, innermost first
      heads.push(head);
      length += head.length;
    }
  }
  const node = new Uint8Array(length);
  let at = 0;
  for (let k = heads.length - 1; k >= 0; k--) {
    node.set(heads[k], at);
    at += heads[k].length;
  }
  node.set(core, at);
  const graph = lengthDelimited(7, lengthDelimited(1, node));
  const opset = lengthDelimited(8, Uint8Array.from([0x10, 13]));
  const out = new Uint8Array(2 + opset.length + graph.length);
  out.set([0x08, 7]);
  out.set(opset, 2);
  out.set(graph, 2 + opset.length);
  return out;
}

/** A conv with hostile window attributes. */
export function hostileConv(rng: Rng): Uint8Array {
  const k = rng.pick([1, 3, 1025, 0]);
  const attrs: Record<string, ReturnType<typeof attr.ints>> = {};
  const key = rng.pick(['strides', 'dilations', 'pads', 'kernel_shape', 'group']);
  attrs[key] = key === 'group' ? attr.int(rng.pick(HOSTILE_INTS)) : attr.ints(Array.from({ length: key === 'pads' ? 4 : 2 }, () => rng.pick(HOSTILE_INTS)));
  const weight = Math.max(k, 0);
  return model(
    [makeNode('Conv', ['x', 'w'], ['y'], attrs)],
    [['x', [1, 2, 8, 8]]],
    'y',
    [makeTensor('w', [2, 2, weight, 1], new Array(4 * weight).fill(0.1))],
  );
}

/** Reshape and Pad with hostile constant inputs. */
export function hostileShapes(rng: Rng): Uint8Array {
  const shape = Array.from({ length: rng.int(1, 6) }, () => rng.pick([...HOSTILE_INTS, -1, 0]));
  const pads = Array.from({ length: 8 }, () => rng.pick([0, 0, 1, -1, 65536, 2 ** 31, -(2 ** 40)]));
  return model(
    [makeNode('Reshape', ['x', 'shape'], ['r']), makeNode('Pad', ['x', 'pads'], ['p']), makeNode('Add', ['r', 'r'], ['y'])],
    [['x', [1, 2, 4, 4]]],
    rng.next() < 0.5 ? 'y' : 'p',
    [makeTensor('shape', [shape.length], shape, DataType.INT64), makeTensor('pads', [8], pads, DataType.INT64)],
    rng.pick([11, 13, 18]),
  );
}

/** Resize to hostile sizes or by hostile scales (opset 13 inputs). */
export function hostileResize(rng: Rng): { bytes: Uint8Array; what: string } {
  const bySizes = rng.next() < 0.5;
  const values = bySizes ? [1, 2, rng.pick(HOSTILE_INTS), rng.pick(HOSTILE_INTS)] : [1, 1, rng.pick([0, -1, 1e-30, 1e6, 65536, NaN, Infinity]), rng.pick([2, 0.5, 1e9])];
  const mode = rng.pick(['nearest', 'linear', 'cubic']);
  const inputs = bySizes ? ['x', '', '', 'sizes'] : ['x', '', 'scales'];
  const init = bySizes ? makeTensor('sizes', [4], values, DataType.INT64) : makeTensor('scales', [4], values);
  return {
    bytes: model([makeNode('Resize', inputs, ['y'], { mode: attr.string(mode) })], [['x', [1, 2, 4, 4]]], 'y', [init]),
    what: `Resize (${mode}) ${bySizes ? 'sizes' : 'scales'} [${values}]`,
  };
}

/** Concat of `k` copies of the input on a hostile axis. */
export function wideConcat(k: number, axis: number): Uint8Array {
  return model([makeNode('Concat', new Array(k).fill('x'), ['y'], { axis: attr.int(axis) })], [['x', [1, 2, 2, 2]]], 'y');
}

export function hostileOnnx(rng: Rng): { bytes: Uint8Array; what: string } {
  switch (rng.int(0, 10)) {
    case 0: {
      const n = rng.pick([64, 4096, 65536, 1 << 20]);
      return { bytes: broadcastBomb(n), what: `broadcast of [1, ${n}] + [${n}, 1] constants` };
    }
    case 1: {
      const c = rng.pick([1 << 20, 1 << 26, 2 ** 31 - 1, 2 ** 40]);
      return { bytes: wideScalarMul(c), what: `scalar Mul on ${c} channels` };
    }
    case 2: {
      const k = rng.pick([1000, 5000, 20000]);
      const op = rng.pick(['Relu', 'Identity', 'Clip', 'Dropout']);
      return { bytes: onnxChain(k, op), what: `chain of ${k} ${op}` };
    }
    case 3: {
      const self = rng.next() < 0.5;
      return { bytes: onnxCycle(self), what: self ? 'self loop' : 'two-node cycle' };
    }
    case 4: {
      const n = rng.pick([1000, 100000, 1000000]);
      return { bytes: emptyNodes(n), what: `${n} empty nodes` };
    }
    case 5:
      return { bytes: hostileConv(rng), what: 'conv with hostile attributes' };
    case 6: {
      const depth = rng.pick([20, 40, 200, 20000]);
      return { bytes: deepSubgraphs(depth), what: `attribute subgraphs nested ${depth} deep` };
    }
    case 7:
      return hostileResize(rng);
    case 8: {
      const k = rng.pick([2, 1000, 20000, 100000]);
      const axis = rng.pick([1, -3, 0, 4, -5, 2 ** 31 - 1, 2 ** 40]);
      return { bytes: wideConcat(k, axis), what: `Concat of ${k} inputs on axis ${axis}` };
    }
    default:
      return { bytes: hostileShapes(rng), what: 'reshape/pad with hostile constants' };
  }
}
