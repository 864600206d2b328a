/**
 * What an ONNX op converter sees: one node's inputs, attributes and outputs (`NodeContext`), and through it the
 * importer's state (`ImporterState`). Converters live in `ops/`, one module per op or small family.
 */
import { ModelFormatError, UnsupportedOpError } from '../../errors.ts';
import type { GraphBuilder } from '../../graph/builder.ts';
import type { TensorId } from '../../graph/ir.ts';
import type { LoadBudget } from '../limits.ts';
import type { ExternalFiles } from './external-data.ts';
import type { AttributeProto, NodeProto } from './proto.ts';
import { AttributeType, int64 } from './proto.ts';
import type { ConstantTensor } from './tensor.ts';
import { dataTypeName, decodeTensor, elementCountOf } from './tensor.ts';
import type { ConstantValue, RuntimeValue, Value } from './values.ts';
import { fmt } from './values.ts';

/** The importer as converters use it (an interface, so that `ops/` does not import the importer). */
export interface ImporterState {
  readonly b: GraphBuilder;
  readonly values: Map<string, Value>;
  readonly opset: number;
  /** How many node inputs and graph outputs read each ONNX value. */
  readonly uses: Map<string, number>;
  /** ONNX value names of IR tensors. */
  readonly tensorNames: Map<TensorId, string>;
  /** Outputs of per-channel affine depthwise 1x1 convs from constant Add/Sub/Mul/Div (mergeable). */
  readonly affineOutputs: Set<TensorId>;
  readonly budget: LoadBudget;
  /** The external files the model's tensors name (ONNX external data), when it names any. */
  readonly external?: ExternalFiles;
  /** `v` viewed with other dims of the same element count (no node when the IR shape agrees). */
  reshapeTo(v: RuntimeValue, dims: readonly number[], name: string): RuntimeValue;
  /** The nodes that read an ONNX value, in graph order (for converters that recognise a short pattern). */
  readers(name: string): readonly NodeProto[];
}

// ---------------------------------------------------------------------------------------------------------
// Per-node access to inputs, attributes and outputs

export class NodeContext {
  readonly opType: string;
  readonly name: string;
  readonly where: string;
  private readonly attrs = new Map<string, AttributeProto>();

  constructor(
    readonly imp: ImporterState,
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

  /** A runtime input (a computed tensor, not a constant). */
  runtime(k: number, what = `input ${k}`): RuntimeValue {
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
    return a?.t ? decodeTensor(a.t, `${this.where}: attribute '${name}'`, this.imp.budget, this.imp.external) : undefined;
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

export type Converter = (ctx: NodeContext) => void;
