/**
 * ONNX ModelProto -> graph IR.
 *
 * Every ONNX value is tracked with its ONNX dims (static; rank 0 to 4) and is either a runtime tensor of the
 * IR, a constant (initializer or Constant node), or a pending zero-pad that the next Conv / pool may absorb.
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
 *
 * The loader emits plain ops (conv, batchNorm, activation, add, ...) in the shapes `optimizeGraph` fuses at
 * compile time (conv -> batchNorm -> add -> relu/clip). It folds constants itself: a per-channel constant
 * Add/Sub/Mul/Div becomes a depthwise 1x1 convolution, merged into the producing conv / linear / batch norm
 * when that is its only reader; a zero Pad goes into the next Conv's (or average pool's) pads.
 */
import { ModelFormatError, ResourceLimitError, UnsupportedOpError, WebcnnError } from '../../errors.ts';
import { GraphBuilder } from '../../graph/builder.ts';
import type {
  Activation,
  BatchNormNode,
  Conv2dNode,
  Graph,
  GraphNode,
  LinearNode,
  Pads,
  Shape4,
  TensorId,
} from '../../graph/ir.ts';
import { convWeight, NO_ACTIVATION, RELU, RELU6 } from '../../graph/ir.ts';
import { producers, readerCounts, soleReader } from '../../graph/passes/util.ts';
import { validateGraph } from '../../graph/validate.ts';
import { checkGraphLimits, checkWindow, checkedElementCount, LoadBudget, MAX_PAD } from '../limits.ts';
import type { LoadedModel, ModelBytes } from '../model.ts';
import { TORCHVISION_PREPROCESSING, asModelBytes } from '../model.ts';
import type { AttributeProto, GraphProto, ModelProto, NodeProto, ValueInfoProto } from './proto.ts';
import { AttributeType, DataType, decodeModelProto, has, int64 } from './proto.ts';
import type { ConstantTensor } from './tensor.ts';
import { dataTypeName, decodeTensor, elementCountOf } from './tensor.ts';

export interface LoadOnnxOptions {
  /**
   * Static dims for graph inputs, by input name, used instead of what the file declares (for symbolic dims
   * such as a dynamic height, or another batch size).
   */
  readonly inputDims?: Readonly<Record<string, readonly number[]>>;
}

/** Opsets of the default (`ai.onnx`) domain this loader follows. */
export const MIN_OPSET = 7;
export const MAX_OPSET = 21;

/** Op types `loadOnnx` converts. */
export const SUPPORTED_ONNX_OPS: readonly string[] = [
  'Add',
  'AveragePool',
  'BatchNormalization',
  'Clip',
  'Constant',
  'Conv',
  'Div',
  'Dropout',
  'Flatten',
  'Gemm',
  'GlobalAveragePool',
  'GlobalMaxPool',
  'Identity',
  'MatMul',
  'MaxPool',
  'Mul',
  'Pad',
  'Relu',
  'Reshape',
  'Softmax',
  'Sub',
];

// ---------------------------------------------------------------------------------------------------------
// Values and dims

interface RuntimeValue {
  readonly kind: 'runtime';
  readonly dims: readonly number[];
  readonly id: TensorId;
}

/** A constant-mode Pad of the spatial axes not emitted yet: a following Conv or pool may take it as pads. */
interface PaddedValue {
  readonly kind: 'padded';
  readonly dims: readonly number[];
  readonly source: RuntimeValue;
  /** IR pads `[top, left, bottom, right]`. */
  readonly pads: Pads;
  readonly value: number;
  readonly nodeName: string;
  readonly valueName: string;
  materialized?: RuntimeValue;
}

interface ConstantValue {
  readonly kind: 'constant';
  readonly dims: readonly number[];
  readonly tensor: ConstantTensor;
}

type Value = RuntimeValue | PaddedValue | ConstantValue;

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
function irAxis(rank: number, axis: number): number {
  return rank === 1 ? 1 : axis;
}

function sameDims(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function fmt(dims: readonly number[]): string {
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

function product(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

function clipActivation(min: number, max: number): Activation {
  if (min === -Infinity && max === Infinity) return NO_ACTIVATION;
  if (min === 0 && max === Infinity) return RELU;
  if (min === 0 && max === 6) return RELU6;
  return { kind: 'clip', min, max };
}

// ---------------------------------------------------------------------------------------------------------
// Entry point

/**
 * Reads an ONNX model (opsets 7 to 21) into the graph IR. Throws `ModelFormatError` for a file that is not a
 * plausible ONNX model or is inconsistent, and `UnsupportedOpError` naming the node (index, name, op type)
 * for an op, attribute value or data type webcnn does not implement.
 */
export function loadOnnx(bytes: ModelBytes, options: LoadOnnxOptions = {}): LoadedModel {
  const data = asModelBytes(bytes, 'onnx');
  try {
    const budget = new LoadBudget(data.length);
    return new Importer(checkModel(decodeModelProto(data)), options, budget).run();
  } catch (e) {
    if (e instanceof WebcnnError) throw e;
    const message = (e instanceof Error ? e.message : String(e)).split('\n')[0];
    throw new ModelFormatError(`invalid ONNX model: ${message}`, { cause: e });
  }
}

interface CheckedModel {
  readonly model: ModelProto;
  readonly graph: GraphProto;
  readonly irVersion: number;
  readonly opset: number;
}

/** Plausibility checks on the decoded ModelProto. */
function checkModel(model: ModelProto): CheckedModel {
  if (!has(model, 'ir_version')) {
    throw new ModelFormatError('not an ONNX model: ModelProto.ir_version is missing');
  }
  const irVersion = int64(model.ir_version);
  if (!Number.isSafeInteger(irVersion) || irVersion < 1 || irVersion > 64) {
    throw new ModelFormatError(`not an ONNX model: implausible ir_version ${irVersion}`);
  }
  if (!model.graph) throw new ModelFormatError('not an ONNX model: ModelProto.graph is missing');
  if (irVersion < 3) {
    throw new UnsupportedOpError(`ONNX IR version ${irVersion} predates operator sets; webcnn reads IR version 3 and later`);
  }
  const defaults = model.opset_import.filter((o) => !o.domain || o.domain === 'ai.onnx');
  if (defaults.length === 0) {
    throw new ModelFormatError('ONNX model imports no operator set of the default domain (ai.onnx)');
  }
  const opset = Math.max(...defaults.map((o) => int64(o.version)));
  if (!Number.isSafeInteger(opset) || opset < 1 || opset > 10000) {
    throw new ModelFormatError(`not an ONNX model: implausible opset version ${opset}`);
  }
  if (opset < MIN_OPSET || opset > MAX_OPSET) {
    throw new UnsupportedOpError(`ONNX opset ${opset} is not supported; webcnn reads opsets ${MIN_OPSET} to ${MAX_OPSET}`);
  }
  const graph = model.graph;
  if (graph.output.length === 0) throw new ModelFormatError('ONNX graph has no outputs');
  return { model, graph, irVersion, opset };
}

// ---------------------------------------------------------------------------------------------------------
// The importer

class Importer {
  readonly b = new GraphBuilder();
  readonly values = new Map<string, Value>();
  readonly opset: number;
  /** How many node inputs and graph outputs read each ONNX value. */
  readonly uses = new Map<string, number>();
  /** ONNX value names of IR tensors. */
  readonly tensorNames = new Map<TensorId, string>();
  /** Outputs of per-channel affine depthwise 1x1 convs from constant Add/Sub/Mul/Div (mergeable). */
  readonly affineOutputs = new Set<TensorId>();
  private readonly inputDims: number[][] = [];

  constructor(
    private readonly checked: CheckedModel,
    private readonly options: LoadOnnxOptions,
    readonly budget: LoadBudget,
  ) {
    this.opset = checked.opset;
  }

  run(): LoadedModel {
    const { graph, model } = this.checked;
    for (const node of graph.node) for (const name of node.input) if (name) this.uses.set(name, (this.uses.get(name) ?? 0) + 1);
    for (const o of graph.output) if (o.name) this.uses.set(o.name, (this.uses.get(o.name) ?? 0) + 1);

    graph.initializer.forEach((t, i) => {
      const name = t.name ?? '';
      if (!name) throw new ModelFormatError(`initializer ${i} has no name`);
      if (this.values.has(name)) throw new ModelFormatError(`initializer '${name}' is defined twice`);
      const tensor = decodeTensor(t, `initializer '${name}'`, this.budget);
      this.values.set(name, { kind: 'constant', dims: tensor.dims, tensor });
    });
    if (graph.sparse_initializer.length > 0) {
      throw new UnsupportedOpError('sparse initializers are not supported');
    }

    const overrides = this.options.inputDims ?? {};
    for (const input of graph.input) {
      const name = input.name ?? '';
      if (!name) throw new ModelFormatError('a graph input has no name');
      if (this.values.has(name)) {
        if (this.values.get(name)!.kind === 'constant') continue; // an initializer with a default: a weight
        throw new ModelFormatError(`graph input '${name}' is listed twice`);
      }
      const dims = Object.hasOwn(overrides, name) ? this.checkOverride(name, overrides[name]) : this.declaredInputDims(input);
      checkedElementCount(dims, `graph input '${name}'`);
      const id = this.b.input(name, irShapeOf(dims));
      this.tensorNames.set(id, name);
      this.inputDims.push(dims);
      this.values.set(name, { kind: 'runtime', dims, id });
    }
    for (const name of Object.keys(overrides)) {
      if (!graph.input.some((i) => i.name === name)) {
        throw new ModelFormatError(`inputDims names '${name}', which is not a graph input`);
      }
    }
    if (this.inputDims.length === 0) throw new ModelFormatError('ONNX graph has no runtime inputs (every input is an initializer)');

    graph.node.forEach((node, index) => this.convertNode(node, index));

    const outputDims: number[][] = [];
    const outputIds: TensorId[] = [];
    for (const output of graph.output) {
      const name = output.name ?? '';
      const v = this.values.get(name);
      if (!v) throw new ModelFormatError(`graph output '${name}' is not produced by any node, initializer or input`);
      if (v.kind === 'constant') {
        throw new UnsupportedOpError(`graph output '${name}' is a constant; webcnn computes outputs from the inputs`);
      }
      const r = this.materialize(v);
      if (!this.options.inputDims) this.checkDeclaredOutput(output, r.dims);
      this.b.output(r.id);
      this.tensorNames.set(r.id, name);
      outputIds.push(r.id);
      outputDims.push([...r.dims]);
    }

    let g = this.b.build();
    g = mergeAffineNodes(g, this.affineOutputs, this.budget);
    g = pruneDeadNodes(g);
    g = { ...g, tensors: g.tensors.map((t) => ({ ...t, name: this.tensorNames.get(t.id) ?? t.name })) };
    validateGraph(g);
    checkGraphLimits(g, this.budget.fileBytes, 'ONNX');

    const metadata: Record<string, string | number> = {
      format: 'ONNX',
      irVersion: this.checked.irVersion,
      opset: this.opset,
      nodes: graph.node.length,
      initializers: graph.initializer.length,
    };
    const producer = `${model.producer_name ?? ''} ${model.producer_version ?? ''}`.trim();
    if (producer) metadata.producer = producer;
    if (graph.name) metadata.graph = graph.name;
    if (model.domain) metadata.domain = model.domain;
    if (has(model, 'model_version')) metadata.modelVersion = int64(model.model_version);
    if (model.doc_string) metadata.doc = model.doc_string.split('\n')[0].slice(0, 200);
    for (const p of model.metadata_props) {
      if (p.key && p.key !== '__proto__' && !Object.hasOwn(metadata, p.key)) metadata[p.key] = p.value ?? '';
    }

    const first = this.inputDims[0];
    const preprocessing =
      first.length === 4 && first[1] === 3 ? { ...TORCHVISION_PREPROCESSING, size: [first[2], first[3]] as const } : undefined;
    return {
      format: 'onnx',
      graph: g,
      inputDims: this.inputDims,
      outputDims,
      ...(preprocessing ? { preprocessing } : {}),
      outputsProbabilities: endsInSoftmax(g, g.outputs[0]),
      metadata,
    };
  }

  private checkOverride(name: string, dims: readonly number[]): number[] {
    if (!Array.isArray(dims) || dims.length > 4 || !dims.every((d) => Number.isInteger(d) && d >= 1)) {
      throw new ModelFormatError(`inputDims['${name}'] = ${JSON.stringify(dims)} must be 0 to 4 positive integers`);
    }
    return [...dims];
  }

  /** Static dims of a runtime graph input; a symbolic first (batch) dim becomes 1. */
  private declaredInputDims(input: ValueInfoProto): number[] {
    const name = input.name!;
    const tt = input.type?.tensor_type;
    if (!tt) throw new UnsupportedOpError(`graph input '${name}' is not a tensor; webcnn takes float32 tensors`);
    if (tt.elem_type !== DataType.FLOAT) {
      throw new UnsupportedOpError(`graph input '${name}' has data type ${dataTypeName(tt.elem_type)}; webcnn takes float32 inputs`);
    }
    if (!tt.shape) throw new UnsupportedOpError(`graph input '${name}' declares no shape; pass its dims in options.inputDims`);
    const dims = tt.shape.dim.map((d, axis) => {
      if (has(d, 'dim_value')) {
        const v = int64(d.dim_value);
        if (!Number.isSafeInteger(v) || v < 1) throw new ModelFormatError(`graph input '${name}' has invalid dim ${v} at axis ${axis}`);
        return v;
      }
      if (axis === 0) return 1;
      const what = d.dim_param ? `the symbolic dim '${d.dim_param}'` : 'an unknown dim';
      throw new UnsupportedOpError(
        `graph input '${name}' has ${what} at axis ${axis}; webcnn needs static shapes (pass the dims in options.inputDims)`,
      );
    });
    if (dims.length > 4) throw new UnsupportedOpError(`graph input '${name}' has rank ${dims.length}; webcnn takes rank 1 to 4`);
    if (dims.length === 0) throw new UnsupportedOpError(`graph input '${name}' is a scalar; webcnn takes rank 1 to 4 tensors`);
    return dims;
  }

  private checkDeclaredOutput(output: ValueInfoProto, dims: readonly number[]): void {
    const shape = output.type?.tensor_type?.shape;
    if (!shape) return;
    const declared = shape.dim;
    const mismatch =
      declared.length !== dims.length ||
      declared.some((d, i) => has(d, 'dim_value') && int64(d.dim_value) !== dims[i] && !(i === 0 && dims[i] === 1));
    if (mismatch) {
      const shown = declared.map((d) => (has(d, 'dim_value') ? String(int64(d.dim_value)) : d.dim_param || '?'));
      throw new ModelFormatError(`graph output '${output.name}' is declared [${shown.join(', ')}] but computes to ${fmt(dims)}`);
    }
  }

  private convertNode(node: NodeProto, index: number): void {
    const ctx = new NodeContext(this, node, index);
    try {
      if (node.domain && node.domain !== 'ai.onnx') {
        throw ctx.unsupported(`operator domain '${node.domain}' is not supported (only the default ONNX domain)`);
      }
      const convert = Object.hasOwn(CONVERTERS, ctx.opType) ? CONVERTERS[ctx.opType] : undefined;
      if (!convert) {
        throw ctx.unsupported(`op type '${ctx.opType}' is not supported; webcnn reads ${SUPPORTED_ONNX_OPS.join(', ')}`);
      }
      convert(ctx);
    } catch (e) {
      // Every message names the node; helpers that do not know it get the prefix here. Limits stay
      // ResourceLimitErrors; the builder's shape and graph errors mean the file's values do not fit together.
      if (e instanceof UnsupportedOpError || e instanceof ModelFormatError || e instanceof ResourceLimitError) {
        if (e.message.startsWith(ctx.where)) throw e;
        const Cls = e instanceof UnsupportedOpError ? UnsupportedOpError : e instanceof ResourceLimitError ? ResourceLimitError : ModelFormatError;
        throw new Cls(`${ctx.where}: ${e.message}`, { cause: e });
      }
      const message = (e instanceof Error ? e.message : String(e)).split('\n')[0];
      throw new ModelFormatError(`${ctx.where}: ${message}`, { cause: e });
    }
  }

  /** The IR tensor of a runtime value, emitting a pending pad when it has not been absorbed. */
  materialize(v: RuntimeValue | PaddedValue): RuntimeValue {
    if (v.kind === 'runtime') return v;
    if (!v.materialized) {
      const id = this.b.pad(v.source.id, { pads: v.pads, value: v.value }, v.nodeName);
      this.tensorNames.set(id, v.valueName);
      v.materialized = { kind: 'runtime', dims: v.dims, id };
    }
    return v.materialized;
  }

  /**
   * `v` viewed with other dims of the same element count: the same tensor when the IR shape agrees, a
   * flatten when that is what it is, else a reshape node.
   */
  reshapeTo(v: RuntimeValue, dims: readonly number[], name: string): RuntimeValue {
    const target = irShapeOf(dims);
    const shape = this.b.shape(v.id);
    if (sameDims(shape, target)) return { kind: 'runtime', dims, id: v.id };
    const [n, c, h, w] = shape;
    const id =
      target[0] === n && target[1] === c * h * w && target[2] === 1 && target[3] === 1
        ? this.b.flatten(v.id, name)
        : this.b.reshape(v.id, target, name);
    return { kind: 'runtime', dims, id };
  }
}

// ---------------------------------------------------------------------------------------------------------
// Per-node access to inputs, attributes and outputs

class NodeContext {
  readonly opType: string;
  readonly name: string;
  readonly where: string;
  private readonly attrs = new Map<string, AttributeProto>();

  constructor(
    readonly imp: Importer,
    readonly node: NodeProto,
    readonly index: number,
  ) {
    this.opType = node.op_type ?? '';
    this.name = node.name || `${this.opType || 'node'}_${index}`;
    this.where = node.name ? `node ${index} '${node.name}' (${this.opType})` : `node ${index} (unnamed ${this.opType})`;
    for (const a of node.attribute) {
      if (a.name) this.attrs.set(a.name, a);
    }
  }

  get opset(): number {
    return this.imp.opset;
  }

  get b(): GraphBuilder {
    return this.imp.b;
  }

  unsupported(message: string): UnsupportedOpError {
    return new UnsupportedOpError(`${this.where}: ${message}`);
  }

  invalid(message: string): ModelFormatError {
    return new ModelFormatError(`${this.where}: ${message}`);
  }

  /** Input `k`, or undefined when it is absent (past the end, or an empty name). */
  input(k: number): Value | undefined {
    const name = this.node.input[k];
    if (!name) return undefined;
    const v = this.imp.values.get(name);
    if (!v) throw this.invalid(`input ${k} '${name}' is not a graph input, an initializer or the output of an earlier node`);
    return v;
  }

  requireInput(k: number, what: string): Value {
    const v = this.input(k);
    if (!v) throw this.invalid(`${what} (input ${k}) is missing`);
    return v;
  }

  /** A runtime input, pending pads emitted. */
  runtime(k: number, what = `input ${k}`): RuntimeValue {
    return this.imp.materialize(this.runtimeOrPadded(k, what));
  }

  runtimeOrPadded(k: number, what = `input ${k}`): RuntimeValue | PaddedValue {
    const v = this.requireInput(k, what);
    if (v.kind === 'constant') {
      throw this.unsupported(`${what} '${this.node.input[k]}' is a constant; webcnn evaluates ${this.opType} on computed tensors only`);
    }
    return v;
  }

  constant(k: number, what: string): ConstantValue {
    const v = this.requireInput(k, what);
    if (v.kind !== 'constant') {
      throw this.unsupported(`${what} '${this.node.input[k]}' must be a constant (an initializer or Constant output), not computed at run time`);
    }
    return v;
  }

  optionalConstant(k: number, what: string): ConstantValue | undefined {
    return this.input(k) ? this.constant(k, what) : undefined;
  }

  floats(c: ConstantValue, what: string): Float32Array {
    if (c.tensor.floats) return c.tensor.floats;
    if (c.tensor.ints) {
      const out = this.imp.budget.floats(c.tensor.ints.length, `${this.where}: ${what}`);
      out.set(c.tensor.ints);
      return out;
    }
    throw this.invalid(`${what} has no numeric data`);
  }

  ints(c: ConstantValue, what: string): number[] {
    if (c.tensor.ints) return [...c.tensor.ints];
    throw this.invalid(`${what} must be an integer tensor, got ${dataTypeName(c.tensor.dataType)}`);
  }

  scalar(c: ConstantValue, what: string): number {
    if (elementCountOf(c.dims) !== 1) throw this.invalid(`${what} must hold one value, got dims ${fmt(c.dims)}`);
    return this.floats(c, what)[0];
  }

  private attr(name: string, types: readonly number[], what: string): AttributeProto | undefined {
    const a = this.attrs.get(name);
    if (!a) return undefined;
    if (a.ref_attr_name) throw this.invalid(`attribute '${name}' refers to a function attribute outside a function`);
    if (a.type !== undefined && a.type !== AttributeType.UNDEFINED && !types.includes(a.type)) {
      throw this.invalid(`attribute '${name}' should be ${what}, got attribute type ${a.type}`);
    }
    return a;
  }

  hasAttr(name: string): boolean {
    return this.attrs.has(name);
  }

  attrInt(name: string, fallback: number): number {
    const a = this.attr(name, [AttributeType.INT], 'an int');
    return a ? int64(a.i) : fallback;
  }

  attrInts(name: string): number[] | undefined {
    const a = this.attr(name, [AttributeType.INTS], 'a list of ints');
    return a ? a.ints.map((v) => int64(v)) : undefined;
  }

  attrFloat(name: string, fallback: number): number {
    const a = this.attr(name, [AttributeType.FLOAT], 'a float');
    return a ? (a.f ?? 0) : fallback;
  }

  attrFloats(name: string): number[] | undefined {
    const a = this.attr(name, [AttributeType.FLOATS], 'a list of floats');
    return a ? [...a.floats] : undefined;
  }

  attrString(name: string, fallback: string): string {
    const a = this.attr(name, [AttributeType.STRING], 'a string');
    return a ? new TextDecoder().decode(a.s ?? new Uint8Array()) : fallback;
  }

  attrTensor(name: string): ConstantTensor | undefined {
    const a = this.attr(name, [AttributeType.TENSOR], 'a tensor');
    return a?.t ? decodeTensor(a.t, `${this.where}: attribute '${name}'`, this.imp.budget) : undefined;
  }

  /** Attributes present that this converter does not read (for the "is this attribute supported" check). */
  attrNames(): string[] {
    return [...this.attrs.keys()];
  }

  outputName(k = 0): string {
    return this.node.output[k] ?? '';
  }

  /** Binds output `k` to a value; runtime tensors get the ONNX value name. */
  setOutput(v: Value, k = 0): void {
    const name = this.node.output[k];
    if (!name) {
      if (k === 0) throw this.invalid('has no output');
      return;
    }
    if (this.imp.values.has(name)) throw this.invalid(`output '${name}' is already defined (ONNX values are assigned once)`);
    this.imp.values.set(name, v);
    if (v.kind === 'runtime' && !this.imp.tensorNames.has(v.id)) this.imp.tensorNames.set(v.id, name);
  }

  runtimeOut(id: TensorId, dims: readonly number[], k = 0): void {
    this.setOutput({ kind: 'runtime', dims, id }, k);
  }

  /** Outputs from `k` on must be unused (optional outputs webcnn does not compute). */
  requireUnusedOutputs(from: number, what: string): void {
    for (let k = from; k < this.node.output.length; k++) {
      const name = this.node.output[k];
      if (name && (this.imp.uses.get(name) ?? 0) > 0) {
        throw this.unsupported(`${what} (output ${k} '${name}') is used, but webcnn does not compute it`);
      }
    }
  }

  /** Normalizes an axis attribute in [-rank, rank + extra). */
  axis(axis: number, rank: number, what: string, allowRank = false): number {
    const a = axis < 0 ? axis + rank : axis;
    if (!Number.isInteger(a) || a < 0 || a > (allowRank ? rank : rank - 1)) {
      throw this.invalid(`${what} ${axis} is out of range for rank ${rank}`);
    }
    return a;
  }
}

type Converter = (ctx: NodeContext) => void;

// ---------------------------------------------------------------------------------------------------------
// Convolution and pooling helpers

interface Window {
  /** IR per-axis values `[h, w]`. */
  readonly kernel: [number, number];
  readonly stride: [number, number];
  readonly dilation: [number, number];
  /** IR pads `[top, left, bottom, right]`. */
  readonly pads: [number, number, number, number];
  readonly autoPad: string;
}

/**
 * Resolves kernel / strides / dilations / pads / auto_pad for an input of `spatialDims` (1 or 2 spatial
 * axes) into IR pairs and pads. SAME_UPPER / SAME_LOWER: output = ceil(in / stride), total padding
 * `max(0, (out - 1) * stride + (k - 1) * d + 1 - in)`, the odd unit at the end (UPPER) or start (LOWER).
 */
function resolveWindow(ctx: NodeContext, spatialDims: readonly number[], kernel: readonly number[], allowDilation: boolean): Window {
  const s = spatialDims.length;
  const list = (name: string, fallback: number, length = s): number[] => {
    const v = ctx.attrInts(name);
    if (!v) return new Array<number>(length).fill(fallback);
    if (v.length !== length) throw ctx.invalid(`attribute '${name}' has ${v.length} values, expected ${length}`);
    return v;
  };
  const strides = list('strides', 1);
  const dilations = list('dilations', 1);
  if (!allowDilation && dilations.some((d) => d !== 1)) {
    throw ctx.unsupported(`dilations ${fmt(dilations)} are not supported for ${ctx.opType}`);
  }
  if (![...strides, ...dilations, ...kernel].every((v) => Number.isInteger(v) && v >= 1)) {
    throw ctx.invalid(`kernel ${fmt(kernel)}, strides ${fmt(strides)} and dilations ${fmt(dilations)} must be positive`);
  }
  const autoPad = ctx.attrString('auto_pad', 'NOTSET');
  let begins: number[];
  let ends: number[];
  switch (autoPad) {
    case 'NOTSET':
    case '': {
      const pads = list('pads', 0, 2 * s);
      if (!pads.every((p) => Number.isInteger(p) && p >= 0)) throw ctx.invalid(`pads ${fmt(pads)} must be non-negative`);
      begins = pads.slice(0, s);
      ends = pads.slice(s);
      break;
    }
    case 'VALID':
      begins = new Array<number>(s).fill(0);
      ends = new Array<number>(s).fill(0);
      break;
    case 'SAME_UPPER':
    case 'SAME_LOWER': {
      begins = [];
      ends = [];
      for (let i = 0; i < s; i++) {
        const out = Math.ceil(spatialDims[i] / strides[i]);
        const total = Math.max(0, (out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - spatialDims[i]);
        const small = Math.floor(total / 2);
        begins.push(autoPad === 'SAME_UPPER' ? small : total - small);
        ends.push(autoPad === 'SAME_UPPER' ? total - small : small);
      }
      break;
    }
    default:
      throw ctx.invalid(`auto_pad '${autoPad}' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID`);
  }
  checkWindow({ kernel, stride: strides, dilation: dilations, pads: [...begins, ...ends] }, ctx.where);
  const pair = (v: readonly number[], one: number): [number, number] => (s === 1 ? [v[0], one] : [v[0], v[1]]);
  return {
    kernel: pair(kernel, 1),
    stride: pair(strides, 1),
    dilation: pair(dilations, 1),
    pads: s === 1 ? [begins[0], 0, ends[0], 0] : [begins[0], begins[1], ends[0], ends[1]],
    autoPad,
  };
}

function addPads(a: Pads, b: Pads): [number, number, number, number] {
  return [a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3]];
}

function spatialInput(ctx: NodeContext, v: { dims: readonly number[] }): number {
  const rank = v.dims.length;
  if (rank === 5) throw ctx.unsupported(`3-D ${ctx.opType} (input ${fmt(v.dims)}) is not supported; webcnn handles 1-D and 2-D`);
  if (rank !== 3 && rank !== 4) throw ctx.invalid(`input ${fmt(v.dims)} must have rank 3 or 4 ([N, C, H(, W)])`);
  return rank;
}

function outDimsFromIR(shape: Shape4, rank: number): number[] {
  return shape.slice(0, rank);
}

// ---------------------------------------------------------------------------------------------------------
// Converters

const CONVERTERS: Readonly<Record<string, Converter>> = {
  Conv(ctx) {
    const xv = ctx.runtimeOrPadded(0, 'input X');
    const rank = spatialInput(ctx, xv);
    const w = ctx.constant(1, 'weight W');
    if (w.dims.length !== rank) throw ctx.invalid(`weight W has dims ${fmt(w.dims)}, expected rank ${rank}`);
    const [M, perGroup, ...kernel] = w.dims;
    const group = ctx.attrInt('group', 1);
    const C = xv.dims[1];
    if (!Number.isInteger(group) || group < 1 || perGroup * group !== C || M % group !== 0) {
      throw ctx.invalid(`weight W ${fmt(w.dims)} with group ${group} does not fit input ${fmt(xv.dims)}`);
    }
    const ks = ctx.attrInts('kernel_shape');
    if (ks && !sameDims(ks, kernel)) throw ctx.invalid(`kernel_shape ${fmt(ks)} differs from the weight's ${fmt(kernel)}`);
    const win = resolveWindow(ctx, xv.dims.slice(2), kernel, true);
    const bias = ctx.optionalConstant(2, 'bias B');
    const biasValues = bias ? ctx.floats(bias, 'bias B') : null;
    if (biasValues && biasValues.length !== M) throw ctx.invalid(`bias B has ${biasValues.length} values, expected ${M}`);

    // Zero padding in front of a convolution is convolution padding.
    let src: RuntimeValue;
    let pads = win.pads;
    if (xv.kind === 'padded' && xv.value === 0 && xv.pads.every((p) => p >= 0)) {
      src = xv.source;
      pads = addPads(pads, xv.pads);
    } else {
      src = ctx.imp.materialize(xv);
    }
    const id = ctx.b.conv2d(
      src.id,
      {
        outChannels: M,
        kernel: win.kernel,
        stride: win.stride,
        padding: pads,
        dilation: win.dilation,
        groups: group,
        weight: ctx.floats(w, 'weight W'),
        bias: biasValues,
      },
      ctx.name,
    );
    ctx.runtimeOut(id, outDimsFromIR(ctx.b.shape(id), rank));
  },

  BatchNormalization(ctx) {
    const x = ctx.runtime(0, 'input X');
    if (x.dims.length < 2) throw ctx.invalid(`input ${fmt(x.dims)} needs a channel axis`);
    if (ctx.opset < 9 && ctx.attrInt('spatial', 1) !== 1) {
      throw ctx.unsupported('spatial=0 (per-activation statistics) is not supported');
    }
    if (ctx.opset >= 14 && ctx.attrInt('training_mode', 0) !== 0) {
      throw ctx.unsupported('training_mode=1 is not supported; webcnn runs inference');
    }
    ctx.requireUnusedOutputs(1, 'a training statistic');
    const C = x.dims[1];
    const param = (k: number, what: string): Float32Array => {
      const v = ctx.floats(ctx.constant(k, what), what);
      if (v.length !== C) throw ctx.invalid(`${what} has ${v.length} values, expected ${C} (the channels of ${fmt(x.dims)})`);
      return v;
    };
    const gamma = param(1, 'scale');
    const beta = param(2, 'B');
    const mean = param(3, 'input_mean');
    const variance = param(4, 'input_var');
    const epsilon = ctx.attrFloat('epsilon', 1e-5);
    for (let i = 0; i < C; i++) {
      if (!(variance[i] + epsilon > 0)) throw ctx.invalid(`input_var[${i}] + epsilon = ${variance[i] + epsilon} is not positive`);
    }
    ctx.runtimeOut(ctx.b.batchNorm(x.id, { gamma, beta, mean, variance, epsilon }, ctx.name), x.dims);
  },

  Relu(ctx) {
    const x = ctx.runtime(0, 'input X');
    ctx.runtimeOut(ctx.b.activation(x.id, RELU, ctx.name), x.dims);
  },

  Clip(ctx) {
    const x = ctx.runtime(0, 'input');
    let min: number;
    let max: number;
    if (ctx.opset < 11) {
      min = ctx.attrFloat('min', -Infinity);
      max = ctx.attrFloat('max', Infinity);
    } else {
      const lo = ctx.optionalConstant(1, 'min');
      const hi = ctx.optionalConstant(2, 'max');
      min = lo ? ctx.scalar(lo, 'min') : -Infinity;
      max = hi ? ctx.scalar(hi, 'max') : Infinity;
    }
    if (Number.isNaN(min) || Number.isNaN(max)) throw ctx.unsupported('NaN clip bounds are not supported');
    // min > max: every value becomes max (ONNX: Min(max, Max(input, min))).
    if (min > max) min = max;
    const act = clipActivation(min, max);
    if (act.kind === 'none') ctx.setOutput(x);
    else ctx.runtimeOut(ctx.b.activation(x.id, act, ctx.name), x.dims);
  },

  Add: binaryConverter('Add'),
  Sub: binaryConverter('Sub'),
  Mul: binaryConverter('Mul'),
  Div: binaryConverter('Div'),

  GlobalAveragePool(ctx) {
    const x = ctx.runtime(0, 'input X');
    const rank = spatialInput(ctx, x);
    ctx.runtimeOut(ctx.b.globalAvgPool(x.id, ctx.name), [x.dims[0], x.dims[1], ...new Array<number>(rank - 2).fill(1)]);
  },

  GlobalMaxPool(ctx) {
    const x = ctx.runtime(0, 'input X');
    const rank = spatialInput(ctx, x);
    const [, , h, w] = ctx.b.shape(x.id);
    const id = ctx.b.maxPool(x.id, { kernel: [h, w], stride: 1 }, ctx.name);
    ctx.runtimeOut(id, [x.dims[0], x.dims[1], ...new Array<number>(rank - 2).fill(1)]);
  },

  AveragePool: poolConverter('avg'),
  MaxPool: poolConverter('max'),

  Gemm(ctx) {
    let a = ctx.runtime(0, 'input A');
    if (a.dims.length !== 2) throw ctx.invalid(`input A ${fmt(a.dims)} must have rank 2`);
    if (ctx.attrInt('transA', 0) !== 0) {
      // A^T of a [K, 1] column is the [1, K] row with the same data.
      if (a.dims[1] !== 1) throw ctx.unsupported(`transA=1 on a computed input ${fmt(a.dims)} is not supported`);
      a = ctx.imp.reshapeTo(a, [1, a.dims[0]], `${ctx.name}/transpose_a`);
    }
    const [M, K] = a.dims;
    const bv = ctx.constant(1, 'input B');
    if (bv.dims.length !== 2) throw ctx.invalid(`input B ${fmt(bv.dims)} must have rank 2`);
    const transB = ctx.attrInt('transB', 0) !== 0;
    const [kb, N] = transB ? [bv.dims[1], bv.dims[0]] : [bv.dims[0], bv.dims[1]];
    if (kb !== K) throw ctx.invalid(`A ${fmt(a.dims)} and B ${fmt(bv.dims)}${transB ? ' (transposed)' : ''} do not multiply`);
    const alpha = ctx.attrFloat('alpha', 1);
    const beta = ctx.attrFloat('beta', 1);
    const B = ctx.floats(bv, 'input B');
    // PyTorch's Linear exports as transB = 1, alpha = 1: B is already `[out, in]` and serves as it is (weights
    // are never written to), which spares ResNet-50's loader an 8 MB copy.
    const weight = transB && alpha === 1 ? B : ctx.imp.budget.floats(N * K, `${ctx.where}: weights`);
    if (weight !== B) for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) weight[n * K + k] = alpha * (transB ? B[n * K + k] : B[k * N + n]);
    let bias: Float32Array | null = null;
    const c = ctx.input(2);
    if (c && beta !== 0) {
      if (c.kind !== 'constant') throw ctx.unsupported('a computed bias C is not supported (only constants)');
      bias = rowBias(ctx, ctx.floats(c, 'input C'), c.dims, M, N, 'input C');
      for (let i = 0; i < N; i++) bias[i] *= beta;
    }
    const id = ctx.b.linear(a.id, { outFeatures: N, weight, bias }, ctx.name);
    ctx.runtimeOut(id, [M, N]);
  },

  MatMul(ctx) {
    const a = ctx.runtime(0, 'input A');
    const bv = ctx.constant(1, 'input B');
    if (a.dims.length === 0) throw ctx.invalid('input A is a scalar');
    let bd = [...bv.dims];
    while (bd.length > 2 && bd[0] === 1) bd = bd.slice(1);
    if (bd.length > 2) throw ctx.unsupported(`a batched constant B ${fmt(bv.dims)} is not supported`);
    const vectorB = bd.length === 1;
    const [K, N] = vectorB ? [bd[0], 1] : [bd[0], bd[1]];
    const aK = a.dims[a.dims.length - 1];
    if (aK !== K) throw ctx.invalid(`A ${fmt(a.dims)} and B ${fmt(bv.dims)} do not multiply`);
    const B = ctx.floats(bv, 'input B');
    const weight = ctx.imp.budget.floats(N * K, `${ctx.where}: weights`);
    for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) weight[n * K + k] = B[k * N + n];
    // Rows of A (every leading index) through a linear layer, then back to A's leading dims.
    const lead = a.dims.slice(0, -1);
    const rows = product(lead);
    const flat = a.dims.length === 2 ? a : ctx.imp.reshapeTo(a, a.dims.length === 1 ? [K] : [rows, K], `${ctx.name}/rows`);
    const id = ctx.b.linear(flat.id, { outFeatures: N, weight }, ctx.name);
    const linearDims = a.dims.length === 1 ? [N] : [rows, N];
    // NumPy broadcasting: B's batch dims (all 1 here) still count towards the result's rank.
    const batchB = Math.max(0, bv.dims.length - 2);
    const batchA = Math.max(0, a.dims.length - 2);
    const ones = new Array<number>(Math.max(0, batchB - batchA)).fill(1);
    const outDims = [...ones, ...(vectorB ? lead : [...lead, N])];
    const out = ctx.imp.reshapeTo({ kind: 'runtime', dims: linearDims, id }, outDims, `${ctx.name}/unflatten`);
    ctx.setOutput(out);
  },

  Flatten(ctx) {
    const x = ctx.requireInput(0, 'input');
    const rank = x.dims.length;
    const axis = ctx.axis(ctx.attrInt('axis', 1), rank, 'axis', true);
    const dims = [product(x.dims.slice(0, axis)), product(x.dims.slice(axis))];
    ctx.setOutput(reshapeValue(ctx, x, dims));
  },

  Reshape(ctx) {
    const x = ctx.requireInput(0, 'data');
    const shape = ctx.ints(ctx.constant(1, 'shape'), 'shape');
    const allowZero = ctx.opset >= 14 && ctx.attrInt('allowzero', 0) !== 0;
    const total = product(x.dims);
    let inferred = -1;
    const dims = shape.map((d, i) => {
      if (d === 0 && !allowZero) {
        if (i >= x.dims.length) throw ctx.invalid(`shape ${fmt(shape)}: 0 at axis ${i} has no input dim to copy (input ${fmt(x.dims)})`);
        return x.dims[i];
      }
      if (d === 0) throw ctx.unsupported(`shape ${fmt(shape)} with allowzero=1 makes an empty tensor`);
      if (d === -1) {
        if (inferred >= 0) throw ctx.invalid(`shape ${fmt(shape)} has more than one -1`);
        inferred = i;
        return 1;
      }
      if (!Number.isInteger(d) || d < -1) throw ctx.invalid(`shape ${fmt(shape)} has invalid dim ${d}`);
      return d;
    });
    if (inferred >= 0) {
      const known = product(dims);
      if (known === 0 || total % known !== 0) throw ctx.invalid(`cannot reshape ${fmt(x.dims)} to ${fmt(shape)}`);
      dims[inferred] = total / known;
    }
    if (product(dims) !== total) throw ctx.invalid(`cannot reshape ${fmt(x.dims)} (${total} values) to ${fmt(dims)}`);
    ctx.setOutput(reshapeValue(ctx, x, dims));
  },

  Softmax(ctx) {
    const x = ctx.runtime(0, 'input');
    const rank = x.dims.length;
    if (rank === 0) throw ctx.invalid('input is a scalar');
    let axes: [number, number];
    if (ctx.opset < 13) {
      // Coerced to 2-D at `axis`: the softmax runs jointly over axes axis..rank-1.
      const axis = ctx.axis(ctx.attrInt('axis', 1), rank, 'axis');
      axes = [axis === 0 ? 0 : irAxis(rank, axis), 3];
    } else {
      const axis = irAxis(rank, ctx.axis(ctx.attrInt('axis', -1), rank, 'axis'));
      axes = [axis, axis];
    }
    const [n, , h, w] = ctx.b.shape(x.id);
    // The plain form (features of a flat tensor) when that is what it is.
    const flat = h === 1 && w === 1 && axes[0] <= 1 && axes[1] >= 1 && (axes[0] === 1 || n === 1);
    ctx.runtimeOut(flat ? ctx.b.softmax(x.id, ctx.name) : ctx.b.softmax(x.id, ctx.name, axes), x.dims);
  },

  Identity(ctx) {
    ctx.setOutput(ctx.requireInput(0, 'input'));
  },

  Dropout(ctx) {
    const x = ctx.requireInput(0, 'data');
    if (ctx.opset >= 12) {
      const training = ctx.input(2);
      if (training) {
        if (training.kind !== 'constant') throw ctx.unsupported('a computed training_mode is not supported');
        if (ctx.scalar(training, 'training_mode') !== 0) throw ctx.unsupported('training_mode=true is not supported; webcnn runs inference');
      }
    }
    ctx.requireUnusedOutputs(1, 'the dropout mask');
    ctx.setOutput(x);
  },

  Pad(ctx) {
    const mode = ctx.attrString('mode', 'constant');
    if (mode !== 'constant') throw ctx.unsupported(`Pad mode '${mode}' is not supported (only 'constant')`);
    const x0 = ctx.runtimeOrPadded(0, 'data');
    const x = ctx.imp.materialize(x0);
    const rank = x.dims.length;
    let pads: number[];
    let value = 0;
    let axes = Array.from({ length: rank }, (_, i) => i);
    if (ctx.opset < 11) {
      const p = ctx.attrInts('pads');
      if (!p) throw ctx.invalid("attribute 'pads' is missing");
      pads = p;
      value = ctx.attrFloat('value', 0);
    } else {
      pads = ctx.ints(ctx.constant(1, 'pads'), 'pads');
      const cv = ctx.optionalConstant(2, 'constant_value');
      if (cv) value = ctx.scalar(cv, 'constant_value');
      const ax = ctx.opset >= 18 ? ctx.optionalConstant(3, 'axes') : undefined;
      if (ax) axes = ctx.ints(ax, 'axes').map((a) => ctx.axis(a, rank, 'axes entry'));
    }
    if (pads.length !== 2 * axes.length) {
      throw ctx.invalid(`pads ${fmt(pads)} should have ${2 * axes.length} values (begin and end for each of ${axes.length} axes)`);
    }
    if (!pads.every((p) => Number.isSafeInteger(p))) throw ctx.invalid(`pads ${fmt(pads)} must be integers`);
    if (pads.some((p) => Math.abs(p) > MAX_PAD)) throw ctx.unsupported(`pads ${fmt(pads)}: webcnn pads (and crops) up to ${MAX_PAD} per side`);
    const begin = new Array<number>(rank).fill(0);
    const end = new Array<number>(rank).fill(0);
    axes.forEach((a, i) => {
      begin[a] += pads[i];
      end[a] += pads[i + axes.length];
    });
    const spatial = rank >= 3 ? [2, 3].filter((a) => a < rank) : [];
    for (let a = 0; a < rank; a++) {
      if (!spatial.includes(a) && (begin[a] !== 0 || end[a] !== 0)) {
        throw ctx.unsupported(`padding axis ${a} of ${fmt(x.dims)} is not supported; webcnn pads the spatial axes (2 and 3) only`);
      }
    }
    const dims = x.dims.map((d, a) => d + begin[a] + end[a]);
    if (dims.some((d) => d < 1)) throw ctx.invalid(`pads ${fmt(pads)} leave nothing of ${fmt(x.dims)}`);
    if (begin.every((p) => p === 0) && end.every((p) => p === 0)) {
      ctx.setOutput(x);
      return;
    }
    const irPads: Pads = [begin[2], begin[3] ?? 0, end[2], end[3] ?? 0];
    ctx.setOutput({
      kind: 'padded',
      dims,
      source: x,
      pads: irPads,
      value,
      nodeName: ctx.name,
      valueName: ctx.outputName(),
    });
  },

  Constant(ctx) {
    let tensor = ctx.attrTensor('value');
    if (!tensor) {
      const f = ctx.hasAttr('value_float') ? [ctx.attrFloat('value_float', 0)] : undefined;
      const fs = ctx.attrFloats('value_floats');
      const i = ctx.hasAttr('value_int') ? [ctx.attrInt('value_int', 0)] : undefined;
      const is = ctx.attrInts('value_ints');
      if (f) tensor = { dims: [], dataType: DataType.FLOAT, floats: Float32Array.from(f) };
      else if (fs) tensor = { dims: [fs.length], dataType: DataType.FLOAT, floats: Float32Array.from(fs) };
      else if (i) tensor = { dims: [], dataType: DataType.INT64, ints: i };
      else if (is) tensor = { dims: [is.length], dataType: DataType.INT64, ints: is };
    }
    if (!tensor) {
      const names = ctx.attrNames();
      if (names.length) throw ctx.unsupported(`Constant with attribute '${names[0]}' is not supported`);
      throw ctx.invalid('has no value attribute');
    }
    ctx.setOutput({ kind: 'constant', dims: tensor.dims, tensor });
  },
};

/** A value with new dims (same element count): constants keep their data, runtime tensors reshape. */
function reshapeValue(ctx: NodeContext, x: Value, dims: number[]): Value {
  if (x.kind === 'constant') return { kind: 'constant', dims, tensor: { ...x.tensor, dims } };
  return ctx.imp.reshapeTo(ctx.imp.materialize(x), dims, ctx.name);
}

/** A Gemm bias C, unidirectionally broadcast to `[M, N]`, as one row of N values (rows must agree). */
function rowBias(ctx: NodeContext, c: Float32Array, dims: readonly number[], M: number, N: number, what: string): Float32Array {
  const out = broadcastDims([M, N], dims);
  if (!out || !sameDims(out, [M, N])) throw ctx.invalid(`${what} ${fmt(dims)} does not broadcast to [${M}, ${N}]`);
  const aligned = [...new Array<number>(2 - Math.min(2, dims.length)).fill(1), ...dims.slice(-2)];
  const [rowsC, colsC] = aligned;
  if (rowsC > 1 && M > 1) throw ctx.unsupported(`a bias ${fmt(dims)} that differs between rows is not supported`);
  const row = ctx.imp.budget.floats(N, `${ctx.where}: ${what}`);
  for (let n = 0; n < N; n++) row[n] = c[colsC === 1 ? 0 : n];
  return row;
}

type BinaryOp = 'Add' | 'Sub' | 'Mul' | 'Div';

const BINARY: Record<BinaryOp, (a: number, b: number) => number> = {
  Add: (a, b) => a + b,
  Sub: (a, b) => a - b,
  Mul: (a, b) => a * b,
  Div: (a, b) => a / b,
};

/**
 * Add / Sub / Mul / Div. Two computed tensors: Add only, same shape or broadcast (operands reshaped to their
 * right-aligned rank first). A computed tensor and a per-channel (or scalar) constant: a per-channel affine
 * map, i.e. a depthwise 1x1 convolution `scale * x + shift`. Two constants: folded.
 */
function binaryConverter(op: BinaryOp): Converter {
  return (ctx) => {
    const a = ctx.requireInput(0, 'input A');
    const b = ctx.requireInput(1, 'input B');
    const out = broadcastDims(a.dims, b.dims);
    if (!out) throw ctx.invalid(`operands ${fmt(a.dims)} and ${fmt(b.dims)} do not broadcast`);
    if (a.kind === 'constant' && b.kind === 'constant') {
      ctx.setOutput(foldBinary(ctx, op, a, b, out));
      return;
    }
    if (a.kind !== 'constant' && b.kind !== 'constant') {
      if (op !== 'Add') throw ctx.unsupported(`${op} of two computed tensors is not supported (only Add)`);
      const ra = ctx.imp.materialize(a);
      const rb = ctx.imp.materialize(b);
      const align = (v: RuntimeValue, tag: string): RuntimeValue =>
        ctx.imp.reshapeTo(v, [...new Array<number>(out.length - v.dims.length).fill(1), ...v.dims], `${ctx.name}/${tag}`);
      const id = ctx.b.add(align(ra, 'align_a').id, align(rb, 'align_b').id, ctx.name);
      ctx.runtimeOut(id, out);
      return;
    }
    const xIsA = a.kind !== 'constant';
    const x = ctx.imp.materialize((xIsA ? a : b) as RuntimeValue | PaddedValue);
    const c = (xIsA ? b : a) as ConstantValue;
    if (!sameDims(out, x.dims)) {
      throw ctx.unsupported(`a constant ${fmt(c.dims)} that broadcasts ${fmt(x.dims)} up to ${fmt(out)} is not supported`);
    }
    const channels = ctx.b.shape(x.id)[1];
    const values = perChannel(ctx, c, x.dims, channels);
    const scale = ctx.imp.budget.floats(channels, `${ctx.where}: scale`).fill(1);
    const shift = ctx.imp.budget.floats(channels, `${ctx.where}: shift`);
    if (op === 'Add') shift.set(values);
    else if (op === 'Mul') scale.set(values);
    else if (op === 'Sub') {
      if (xIsA) for (let i = 0; i < channels; i++) shift[i] = -values[i];
      else {
        scale.fill(-1);
        shift.set(values);
      }
    } else {
      if (!xIsA) throw ctx.unsupported('dividing a constant by a computed tensor is not supported');
      for (let i = 0; i < channels; i++) scale[i] = 1 / values[i];
    }
    const id = ctx.b.conv2d(
      x.id,
      { outChannels: channels, kernel: 1, groups: channels, weight: scale, bias: shift },
      ctx.name,
    );
    ctx.imp.affineOutputs.add(id);
    ctx.runtimeOut(id, x.dims);
  };
}

/** The per-channel values of constant `c` broadcast against a value of `dims` (scalars repeat). */
function perChannel(ctx: NodeContext, c: ConstantValue, dims: readonly number[], channels: number): Float32Array {
  const v = ctx.floats(c, 'constant operand');
  if (v.length === 1) return ctx.imp.budget.floats(channels, `${ctx.where}: constant operand`).fill(v[0]);
  const aligned = [...new Array<number>(Math.max(0, dims.length - c.dims.length)).fill(1), ...c.dims];
  const s = irShapeOf(aligned);
  if (s[0] === 1 && s[2] === 1 && s[3] === 1 && s[1] === channels) return v;
  throw ctx.unsupported(
    `a constant operand ${fmt(c.dims)} on ${fmt(dims)} is only supported when it is a scalar or one value per channel`,
  );
}

/** Elementwise op on two constants with NumPy broadcasting. */
function foldBinary(ctx: NodeContext, op: BinaryOp, a: ConstantValue, b: ConstantValue, out: number[]): ConstantValue {
  const f = BINARY[op];
  const ints = Boolean(a.tensor.ints && b.tensor.ints);
  const av = a.tensor.ints ?? Array.from(ctx.floats(a, 'input A'));
  const bv = b.tensor.ints ?? Array.from(ctx.floats(b, 'input B'));
  const count = checkedElementCount(out, `${ctx.where}: folded constant`);
  ctx.imp.budget.charge(count * 12, `${ctx.where}: folded constant`);
  const index = (dims: readonly number[], flat: number): number => {
    // Position `flat` of the output, mapped to an operand of `dims` (right-aligned, size-1 axes broadcast).
    let idx = 0;
    let stride = 1;
    let rest = flat;
    for (let i = out.length - 1; i >= 0; i--) {
      const coord = rest % out[i];
      rest = Math.floor(rest / out[i]);
      const j = i - (out.length - dims.length);
      if (j >= 0) {
        if (dims[j] !== 1) idx += coord * stride;
        stride *= dims[j];
      }
    }
    return idx;
  };
  const result = new Array<number>(count);
  for (let i = 0; i < count; i++) {
    const v = f(av[index(a.dims, i)], bv[index(b.dims, i)]);
    result[i] = ints && op === 'Div' ? Math.trunc(v) : v;
  }
  const tensor: ConstantTensor = ints
    ? { dims: out, dataType: DataType.INT64, ints: result }
    : { dims: out, dataType: DataType.FLOAT, floats: Float32Array.from(result) };
  return { kind: 'constant', dims: out, tensor };
}

function poolConverter(kind: 'avg' | 'max'): Converter {
  return (ctx) => {
    const xv = ctx.runtimeOrPadded(0, 'input X');
    const rank = spatialInput(ctx, xv);
    const kernel = ctx.attrInts('kernel_shape');
    if (!kernel) throw ctx.invalid("attribute 'kernel_shape' is missing");
    if (kernel.length !== rank - 2) throw ctx.invalid(`kernel_shape ${fmt(kernel)} should have ${rank - 2} values`);
    const win = resolveWindow(ctx, xv.dims.slice(2), kernel, true);
    if (kind === 'avg' && (win.dilation[0] !== 1 || win.dilation[1] !== 1)) {
      throw ctx.unsupported(`dilations ${fmt(ctx.attrInts('dilations') ?? [])} are not supported for AveragePool`);
    }
    const explicitCeil = ctx.opset >= 10 && ctx.attrInt('ceil_mode', 0) !== 0;
    // SAME and VALID fix the output size exactly; ceil_mode matters with explicit pads only.
    const ceilMode = explicitCeil && (win.autoPad === 'NOTSET' || win.autoPad === '');
    let countIncludePad = kind === 'avg' && ctx.attrInt('count_include_pad', 0) !== 0;
    if (kind === 'max') ctx.requireUnusedOutputs(1, 'the Indices output');

    let src: RuntimeValue;
    let pads: Pads = win.pads;
    const extent = (p: Pads) => p[0] < win.kernel[0] * win.dilation[0] && p[2] < win.kernel[0] * win.dilation[0] &&
      p[1] < win.kernel[1] * win.dilation[1] && p[3] < win.kernel[1] * win.dilation[1];
    const foldable =
      xv.kind === 'padded' &&
      !ceilMode &&
      xv.pads.every((p) => p >= 0) &&
      extent(addPads(pads, xv.pads)) &&
      // Zeros that count in the divisor are padding an average pool counts; -inf never wins a max.
      (kind === 'avg' ? xv.value === 0 && (countIncludePad || pads.every((p) => p === 0)) : xv.value === -Infinity);
    if (xv.kind === 'padded' && foldable) {
      src = xv.source;
      pads = addPads(pads, xv.pads);
      if (kind === 'avg') countIncludePad = true;
    } else {
      src = ctx.imp.materialize(xv);
    }
    const options = { kernel: win.kernel, stride: win.stride, padding: pads, dilation: win.dilation, ceilMode, countIncludePad };
    const id = kind === 'max' ? ctx.b.maxPool(src.id, options, ctx.name) : ctx.b.avgPool(src.id, options, ctx.name);
    ctx.runtimeOut(id, outDimsFromIR(ctx.b.shape(id), rank));
  };
}

// ---------------------------------------------------------------------------------------------------------
// Graph clean-up after import

/**
 * Folds per-channel affine nodes (`scale * x + shift` depthwise 1x1 convs from constant Add/Sub/Mul/Div) into
 * the conv, linear or batch norm that produced their input, when they are its only reader and it has no
 * activation or residual yet: conv/linear rows scale and the bias becomes `bias * scale + shift`.
 */
function mergeAffineNodes(graph: Graph, affine: ReadonlySet<TensorId>, budget: LoadBudget): Graph {
  if (affine.size === 0) return graph;
  const counts = readerCounts(graph);
  const made = producers(graph);
  const current = new Map<GraphNode, GraphNode>();
  const removed = new Set<GraphNode>();
  for (const node of graph.nodes) {
    if (node.op !== 'conv2d' || !affine.has(node.output)) continue;
    const original = made.get(node.inputs[0]);
    if (!original || removed.has(original) || !soleReader(counts, graph, node.inputs[0])) continue;
    const src = current.get(original) ?? original;
    const scale = node.attrs.weight;
    const shift = node.attrs.bias!;
    let merged: GraphNode | undefined;
    if ((src.op === 'conv2d' && src.inputs.length === 1) || src.op === 'linear') {
      if (src.attrs.activation.kind !== 'none') continue;
      const rows = src.op === 'conv2d' ? src.attrs.outChannels : src.attrs.outFeatures;
      const source = src.op === 'conv2d' ? convWeight(src.attrs) : src.attrs.weight;
      const perRow = source.length / rows;
      const weight = budget.floats(source.length, `${src.name}: merged weights`);
      const bias = budget.floats(rows, `${src.name}: merged bias`);
      for (let o = 0; o < rows; o++) {
        for (let i = 0; i < perRow; i++) weight[o * perRow + i] = source[o * perRow + i] * scale[o];
        bias[o] = (src.attrs.bias ? src.attrs.bias[o] : 0) * scale[o] + shift[o];
      }
      // The merged weights hold any scale the conv had.
      merged =
        src.op === 'conv2d'
          ? { ...src, output: node.output, attrs: { ...src.attrs, weight, bias, weightScale: undefined } }
          : { ...src, output: node.output, attrs: { ...src.attrs, weight, bias } };
    } else if (src.op === 'batchNorm') {
      const p = src.attrs;
      budget.charge(8 * p.gamma.length, `${src.name}: merged batch norm`);
      const gamma = p.gamma.map((g, i) => g * scale[i]);
      const beta = p.beta.map((b, i) => b * scale[i] + shift[i]);
      merged = { ...src, output: node.output, attrs: { ...p, gamma, beta } } as BatchNormNode;
    }
    if (!merged) continue;
    removed.add(original);
    current.set(node, merged);
  }
  const nodes = graph.nodes.filter((n) => !removed.has(n)).map((n) => current.get(n) ?? n);
  return { ...graph, nodes };
}

/** Drops nodes whose outputs no graph output depends on (unused branches, training statistics, ...). */
function pruneDeadNodes(graph: Graph): Graph {
  const live = new Set<TensorId>(graph.outputs);
  const keep = new Set<GraphNode>();
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    const node = graph.nodes[i];
    if (!live.has(node.output)) continue;
    keep.add(node);
    node.inputs.forEach((id) => live.add(id));
  }
  if (keep.size === graph.nodes.length) return graph;
  return { ...graph, nodes: graph.nodes.filter((n) => keep.has(n)) };
}

/** Whether a tensor comes out of a softmax, possibly through reshapes. */
function endsInSoftmax(graph: Graph, id: TensorId | undefined): boolean {
  const made = producers(graph);
  let node = id === undefined ? undefined : made.get(id);
  while (node && (node.op === 'reshape' || node.op === 'flatten')) node = made.get(node.inputs[0]);
  return node?.op === 'softmax';
}
