/**
 * ONNX ModelProto -> graph IR: the importer walks the nodes in order and hands each to its converter from
 * `ops/index.ts`. It emits plain ops (conv, batchNorm, activation, add, ...) in the shapes `optimizeGraph`
 * fuses at compile time (conv -> batchNorm -> add -> relu/clip). A per-channel constant Add/Sub/Mul/Div becomes
 * a depthwise 1x1 convolution and a Pad a pad node; afterwards the shared graph passes merge those affine nodes
 * into their producer (`mergeAffineNodes`), drop dead nodes (`pruneDeadNodes`) and fold pads into the Conv or
 * pool that reads them (`absorbPads`).
 */
import { ModelFormatError, ResourceLimitError, UnsupportedOpError } from '../../errors.ts';
import { GraphBuilder } from '../../graph/builder.ts';
import type { Graph, TensorId } from '../../graph/ir.ts';
import { NO_ACTIVATION } from '../../graph/ir.ts';
import { absorbPads } from '../../graph/passes/absorb-pads.ts';
import { mergeAffineNodes } from '../../graph/passes/merge-affine.ts';
import { pruneDeadNodes } from '../../graph/passes/prune.ts';
import { foldChannelPermutations } from '../../graph/passes/fold-permutation.ts';
import { producers } from '../../graph/passes/util.ts';
import { validateGraph } from '../../graph/validate.ts';
import { checkGraphLimits, checkedElementCount } from '../limits.ts';
import type { LoadBudget } from '../limits.ts';
import type { LoadedModel } from '../model.ts';
import { TORCHVISION_PREPROCESSING } from '../model.ts';
import type { ImporterState } from './context.ts';
import { NodeContext } from './context.ts';
import { CONVERTERS, SUPPORTED_ONNX_OPS } from './ops/index.ts';
import { checkNoChannelsLastInputs } from './ops/channels-last.ts';
import { constantScalars, fuseErfGelu } from './gelu-pattern.ts';
import { fuseDecomposedLayerNorm } from './layer-norm-pattern.ts';
import type { GraphProto, ModelProto, NodeProto, ValueInfoProto } from './proto.ts';
import { DataType, has, int64 } from './proto.ts';
import { dataTypeName, decodeTensor } from './tensor.ts';
import type { ExternalDataSource, ExternalFiles } from './external-data.ts';
import type { RuntimeValue, Value } from './values.ts';
import { fmt, irShapeOf, sameDims } from './values.ts';

export interface LoadOnnxOptions {
  /**
   * The files the model's external tensors name (`data_location` EXTERNAL), by their `location`: bytes per name,
   * or a function that returns them (see `ExternalDataSource`).
   */
  readonly externalData?: ExternalDataSource;
  /**
   * Static dims for graph inputs, by input name, used instead of what the file declares (for symbolic dims
   * such as a dynamic height, or another batch size).
   */
  readonly inputDims?: Readonly<Record<string, readonly number[]>>;
}

export interface CheckedModel {
  readonly model: ModelProto;
  readonly graph: GraphProto;
  readonly irVersion: number;
  readonly opset: number;
}

// ---------------------------------------------------------------------------------------------------------
// The importer

export class Importer implements ImporterState {
  readonly b = new GraphBuilder();
  readonly values = new Map<string, Value>();
  readonly opset: number;
  /** How many node inputs and graph outputs read each ONNX value. */
  readonly uses = new Map<string, number>();
  /** ONNX value names of IR tensors. */
  readonly tensorNames = new Map<TensorId, string>();
  /** Outputs of per-channel affine depthwise 1x1 convs from constant Add/Sub/Mul/Div (mergeable). */
  readonly affineOutputs = new Set<TensorId>();
  private readonly readerNodes = new Map<string, NodeProto[]>();
  /** The input of each flatten / reshape node `reshapeTo` made. */
  private readonly reshapeSources = new Map<TensorId, TensorId>();
  private readonly inputDims: number[][] = [];
  private readonly inputIds: TensorId[] = [];

  constructor(
    private readonly checked: CheckedModel,
    private readonly options: LoadOnnxOptions,
    readonly budget: LoadBudget,
    readonly external: ExternalFiles,
  ) {
    this.opset = checked.opset;
  }

  run(): LoadedModel {
    const { graph, model } = this.checked;
    for (const node of graph.node) {
      for (const name of node.input) {
        if (!name) continue;
        this.uses.set(name, (this.uses.get(name) ?? 0) + 1);
        const list = this.readerNodes.get(name);
        if (list) list.push(node);
        else this.readerNodes.set(name, [node]);
      }
    }
    for (const o of graph.output) if (o.name) this.uses.set(o.name, (this.uses.get(o.name) ?? 0) + 1);

    graph.initializer.forEach((t, i) => {
      const name = t.name ?? '';
      if (!name) throw new ModelFormatError(`initializer ${i} has no name`);
      if (this.values.has(name)) throw new ModelFormatError(`initializer '${name}' is defined twice`);
      const tensor = decodeTensor(t, `initializer '${name}'`, this.budget, this.external);
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
      this.inputIds.push(id);
      this.values.set(name, { kind: 'runtime', dims, id });
    }
    for (const name of Object.keys(overrides)) {
      if (!graph.input.some((i) => i.name === name)) {
        throw new ModelFormatError(`inputDims names '${name}', which is not a graph input`);
      }
    }
    if (this.inputDims.length === 0) throw new ModelFormatError('ONNX graph has no runtime inputs (every input is an initializer)');

    const scalarOf = (name: string): number | undefined => {
      const v = this.values.get(name);
      const data = v?.kind === 'constant' ? (v.tensor.floats ?? v.tensor.ints) : undefined;
      return data && data.length === 1 ? Number(data[0]) : undefined;
    };
    const scalars = constantScalars(graph.node, scalarOf);
    // Constant before conversion: an initializer, a Constant node's output, or an Identity of one (PyTorch shares
    // equal weights that way).
    const constantNodes = new Set(graph.node.filter((n) => n.op_type === 'Constant').flatMap((n) => n.output));
    const identityOf = new Map(graph.node.filter((n) => n.op_type === 'Identity' && n.input[0]).map((n) => [n.output[0], n.input[0]]));
    const isConstant = (name: string, depth = 0): boolean =>
      this.values.get(name)?.kind === 'constant' || constantNodes.has(name) || (depth < 8 && identityOf.has(name) && isConstant(identityOf.get(name)!, depth + 1));
    const nodes = fuseDecomposedLayerNorm(fuseErfGelu(graph.node, this.uses, scalars), this.uses, scalars, isConstant);
    nodes.forEach((node, index) => this.convertNode(node, index));

    const outputDims: number[][] = [];
    // A tensor already named (a graph input, or an output bound under another name) gets a copy, so that a
    // graph whose nodes all fold away (Identity, Dropout, ...) keeps its input and its output name.
    const named = new Set<TensorId>(this.inputIds);
    for (const output of graph.output) {
      const name = output.name ?? '';
      const v = this.values.get(name);
      if (!v) throw new ModelFormatError(`graph output '${name}' is not produced by any node, initializer or input`);
      if (v.kind === 'constant') {
        throw new UnsupportedOpError(`graph output '${name}' is a constant; webcnn computes outputs from the inputs`);
      }
      if (v.channelsLast) throw new UnsupportedOpError(`graph output '${name}' is a channels-last view (Transpose [0, 2, 3, 1]); webcnn outputs NCHW tensors`);
      if (!this.options.inputDims) this.checkDeclaredOutput(output, v.dims);
      const id = named.has(v.id) ? this.b.activation(v.id, NO_ACTIVATION, name) : v.id;
      named.add(id);
      this.b.output(id);
      this.tensorNames.set(id, name);
      outputDims.push([...v.dims]);
    }

    let g = this.b.build();
    g = mergeAffineNodes(g, this.affineOutputs, this.budget);
    g = foldChannelPermutations(g, this.budget);
    g = pruneDeadNodes(g);
    g = { ...g, tensors: g.tensors.map((t) => ({ ...t, name: this.tensorNames.get(t.id) ?? t.name })) };
    // Last: it renumbers tensors, and the maps above are by tensor id.
    g = absorbPads(g);
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
      checkNoChannelsLastInputs(ctx);
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

  /**
   * `v` viewed with other dims of the same element count: the same tensor when the IR shape agrees, a
   * flatten when that is what it is, else a reshape node.
   */
  readers(name: string): readonly NodeProto[] {
    return this.readerNodes.get(name) ?? [];
  }

  reshapeTo(v: RuntimeValue, dims: readonly number[], name: string): RuntimeValue {
    const target = irShapeOf(dims);
    // A reshape of a reshape reads the first one's input (e.g. Gather's `[n, h, w]` then Unsqueeze back to
    // `[n, 1, h, w]` costs nothing); the skipped node is pruned when nothing else reads it.
    const source = this.reshapeSources.get(v.id) ?? v.id;
    for (const id of [v.id, source]) if (sameDims(this.b.shape(id), target)) return { kind: 'runtime', dims, id };
    const [n, c, h, w] = this.b.shape(source);
    const id =
      target[0] === n && target[1] === c * h * w && target[2] === 1 && target[3] === 1
        ? this.b.flatten(source, name)
        : this.b.reshape(source, target, name);
    this.reshapeSources.set(id, source);
    return { kind: 'runtime', dims, id };
  }
}

/** Whether a tensor comes out of a softmax, possibly through reshapes. */
function endsInSoftmax(graph: Graph, id: TensorId | undefined): boolean {
  const made = producers(graph);
  let node = id === undefined ? undefined : made.get(id);
  while (node && (node.op === 'reshape' || node.op === 'flatten')) node = made.get(node.inputs[0]);
  return node?.op === 'softmax';
}
