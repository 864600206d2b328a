/**
 * Graph IR -> standard ONNX (opset 13, IR version 7, what onnxruntime and every converter accept), so that a
 * network built with `GraphBuilder` (or a model builder) can be benchmarked against other engines and
 * round-trips through `loadOnnx`.
 *
 * Ops: conv2d -> Conv (+ Add for a fused residual, + Relu / Clip for a fused activation), batchNorm ->
 * BatchNormalization, activation -> Relu / Clip, add -> Add, maxPool / avgPool -> MaxPool / AveragePool,
 * globalAvgPool -> GlobalAveragePool, flatten -> Flatten, linear -> Gemm (transB = 1; a fused global average pool
 * in front, `poolInput`, -> GlobalAveragePool + Flatten + Gemm), softmax -> Softmax,
 * reshape -> Reshape, pad -> Pad. IR tensors are written as rank-4 NCHW values, except that flatten, linear
 * and softmax of flat tensors produce rank-2 `[n, features]` values (as PyTorch's export does); Reshape nodes
 * bridge the two where needed.
 */
import { UnsupportedOpError } from '../../errors.ts';
import { activationEntry } from '../../graph/activations/index.ts';
import type { Activation, BinaryOp, Conv2dNode, Graph, GraphNode, Shape4, TensorId } from '../../graph/ir.ts';
import { convChannelScale, convResidual, convWeight } from '../../graph/ir.ts';
import { validateGraph } from '../../graph/validate.ts';
import { DataType } from './proto.ts';
import type { NodeInit, TensorInit, ValueInfoInit } from './writer.ts';
import { attr, encodeModel, makeGraph, makeModel, makeNode, makeTensor, makeValueInfo } from './writer.ts';

export interface ExportOnnxOptions {
  /** Graph name; default `webcnn`. */
  readonly name?: string;
  readonly producerName?: string;
  /** Extra `metadata_props`. */
  readonly metadata?: Readonly<Record<string, string>>;
}

export const EXPORT_OPSET = 13;
export const EXPORT_IR_VERSION = 7;

/** Encodes `graph` as an ONNX model file. */
export function exportOnnx(graph: Graph, options: ExportOnnxOptions = {}): Uint8Array {
  validateGraph(graph);
  return encodeModel(new Exporter(graph).model(options));
}

class Exporter {
  private readonly nodes: NodeInit[] = [];
  private readonly initializers: TensorInit[] = [];
  private readonly used = new Set<string>();
  private readonly nodeNames = new Set<string>();
  /** ONNX value name and rank (2 or 4) of each IR tensor. */
  private readonly names = new Map<TensorId, { name: string; rank: 2 | 4 }>();
  private readonly rank4 = new Map<TensorId, string>();
  private readonly rank2 = new Map<TensorId, string>();

  constructor(private readonly graph: Graph) {}

  model(options: ExportOnnxOptions) {
    const g = this.graph;
    const inputs: ValueInfoInit[] = g.inputs.map((id) => {
      const name = this.unique(g.tensors[id].name || `input_${id}`);
      this.names.set(id, { name, rank: 4 });
      return makeValueInfo(name, [...g.tensors[id].shape]);
    });
    for (const node of g.nodes) this.node(node);
    const outputs: ValueInfoInit[] = g.outputs.map((id) => {
      const v = this.names.get(id)!;
      return makeValueInfo(v.name, dimsOf(g.tensors[id].shape, v.rank));
    });
    return makeModel({
      opset: EXPORT_OPSET,
      irVersion: EXPORT_IR_VERSION,
      producerName: options.producerName ?? 'webcnn',
      metadata: options.metadata,
      graph: makeGraph({ name: options.name ?? 'webcnn', nodes: this.nodes, inputs, outputs, initializers: this.initializers }),
    });
  }

  private unique(base: string): string {
    const clean = base.length > 0 ? base : 'value';
    let name = clean;
    for (let k = 1; this.used.has(name); k++) name = `${clean}_${k}`;
    this.used.add(name);
    return name;
  }

  private constant(base: string, dims: readonly number[], values: ArrayLike<number>, dataType: number = DataType.FLOAT): string {
    const name = this.unique(base);
    this.initializers.push(makeTensor(name, dims, values, dataType));
    return name;
  }

  private emit(op: string, inputs: string[], attrs: Parameters<typeof makeNode>[3], nodeName: string, outputBase: string): string {
    const out = this.unique(outputBase);
    let name = nodeName;
    for (let k = 1; this.nodeNames.has(name); k++) name = `${nodeName}_${k}`;
    this.nodeNames.add(name);
    this.nodes.push(makeNode(op, inputs, [out], attrs, name));
    return out;
  }

  /** The tensor as a rank-4 value, reshaping a rank-2 one. */
  private as4(id: TensorId): string {
    const v = this.names.get(id)!;
    if (v.rank === 4) return v.name;
    let name = this.rank4.get(id);
    if (!name) {
      const shape = this.constant(`${v.name}.shape4`, [4], [...this.graph.tensors[id].shape], DataType.INT64);
      name = this.emit('Reshape', [v.name, shape], {}, `${v.name}/to4d`, `${v.name}_4d`);
      this.rank4.set(id, name);
    }
    return name;
  }

  /** The tensor as a rank-2 `[n, features]` value (Flatten of a rank-4 one). */
  private as2(id: TensorId): string {
    const v = this.names.get(id)!;
    if (v.rank === 2) return v.name;
    let name = this.rank2.get(id);
    if (!name) {
      name = this.emit('Flatten', [v.name], { axis: attr.int(1) }, `${v.name}/to2d`, `${v.name}_2d`);
      this.rank2.set(id, name);
    }
    return name;
  }

  /** Emits `act(x)` for a non-trivial activation and returns the output name. */
  /** A conv's input with its input transform (`ConvInputTransform`) as the Mul / Add / clamp nodes it stands for. */
  private convInput(node: Conv2dNode, inC: number, n: string, tensorName: string): string {
    const x = this.as4(node.inputs[0]);
    const t = node.attrs.input;
    if (!t) return x;
    if (t.kind === 'channelScale') return this.emit('Mul', [x, this.as4(convChannelScale(node)!)], {}, `${n}/in_scale`, `${tensorName}/in_scale`);
    const scale = this.constant(`${n}.in_scale`, [1, inC, 1, 1], t.scale);
    const shift = this.constant(`${n}.in_shift`, [1, inC, 1, 1], t.shift);
    const scaled = this.emit('Mul', [x, scale], {}, `${n}/in_scale`, `${tensorName}/in_scale`);
    const shifted = this.emit('Add', [scaled, shift], {}, `${n}/in_shift`, `${tensorName}/in_shift`);
    return this.activation(shifted, t.activation, `${n}/in_act`, `${tensorName}/in_act`);
  }

  private activation(x: string, a: Activation, nodeName: string, outputBase: string): string {
    switch (a.kind) {
      case 'none':
        return x;
      case 'relu':
        return this.emit('Relu', [x], {}, nodeName, outputBase);
      case 'relu6':
      case 'clip': {
        const [lo, hi] = a.kind === 'relu6' ? [0, 6] : [a.min, a.max];
        const min = lo === -Infinity ? '' : this.constant(`${nodeName}.min`, [], [lo]);
        const max = hi === Infinity ? '' : this.constant(`${nodeName}.max`, [], [hi]);
        const inputs = max ? [x, min, max] : min ? [x, min] : [x];
        return this.emit('Clip', inputs, {}, nodeName, outputBase);
      }
      case 'function': {
        const entry = activationEntry(a.name);
        const attrs = Object.fromEntries([
          ...entry.params.map((p, i) => [p, attr.float(a.params[i])] as const),
          ...Object.entries(entry.onnxStringAttrs ?? {}).map(([k, v]) => [k, attr.string(v)] as const),
        ]);
        return this.emit(entry.onnxOp, [x], attrs, nodeName, outputBase);
      }
    }
  }

  private setOutput(node: GraphNode, name: string, rank: 2 | 4): void {
    this.names.set(node.output, { name, rank });
  }

  private node(node: GraphNode): void {
    const tensorName = this.graph.tensors[node.output].name || node.name;
    const n = node.name || `${node.op}_${node.output}`;
    switch (node.op) {
      case 'conv2d': {
        const a = node.attrs;
        const inC = this.graph.tensors[node.inputs[0]].shape[1];
        const w = this.constant(`${n}.weight`, [a.outChannels, inC / a.groups, a.kernel[0], a.kernel[1]], convWeight(a));
        const inputs = [this.convInput(node, inC, n, tensorName), w];
        if (a.bias) inputs.push(this.constant(`${n}.bias`, [a.outChannels], a.bias));
        const residual = convResidual(node);
        const fused = residual !== undefined || a.activation.kind !== 'none';
        let out = this.emit(
          'Conv',
          inputs,
          {
            dilations: attr.ints(a.dilation),
            group: attr.int(a.groups),
            kernel_shape: attr.ints(a.kernel),
            pads: attr.ints(a.pads),
            strides: attr.ints(a.stride),
          },
          n,
          fused ? `${tensorName}/conv` : tensorName,
        );
        if (residual !== undefined) {
          out = this.emit('Add', [out, this.as4(residual)], {}, `${n}/add`, a.activation.kind !== 'none' ? `${tensorName}/add` : tensorName);
        }
        out = this.activation(out, a.activation, `${n}/act`, tensorName);
        this.setOutput(node, out, 4);
        return;
      }
      case 'batchNorm': {
        const p = node.attrs;
        const c = p.gamma.length;
        const inputs = [
          this.as4(node.inputs[0]),
          this.constant(`${n}.weight`, [c], p.gamma),
          this.constant(`${n}.bias`, [c], p.beta),
          this.constant(`${n}.running_mean`, [c], p.mean),
          this.constant(`${n}.running_var`, [c], p.variance),
        ];
        this.setOutput(node, this.emit('BatchNormalization', inputs, { epsilon: attr.float(p.epsilon) }, n, tensorName), 4);
        return;
      }
      case 'activation': {
        const v = this.names.get(node.inputs[0])!;
        const out = this.activation(v.name, node.attrs.activation, n, tensorName);
        this.setOutput(node, out === v.name ? this.emit('Identity', [v.name], {}, n, tensorName) : out, v.rank);
        return;
      }
      case 'add': {
        const [a, b] = node.inputs.map((id) => this.names.get(id)!);
        const same = a.rank === b.rank && shapesEqual(this.graph.tensors[node.inputs[0]].shape, this.graph.tensors[node.inputs[1]].shape);
        const rank = same ? a.rank : 4;
        const inputs = same ? [a.name, b.name] : [this.as4(node.inputs[0]), this.as4(node.inputs[1])];
        const act = node.attrs.activation.kind !== 'none';
        let out = this.emit('Add', inputs, {}, n, act ? `${tensorName}/add` : tensorName);
        out = this.activation(out, node.attrs.activation, `${n}/act`, tensorName);
        this.setOutput(node, out, rank);
        return;
      }
      case 'maxPool':
      case 'avgPool': {
        const a = node.attrs;
        const attrs: Parameters<typeof makeNode>[3] = {
          kernel_shape: attr.ints(a.kernel),
          strides: attr.ints(a.stride),
          pads: attr.ints(a.pads),
          ceil_mode: attr.int(a.ceilMode ? 1 : 0),
          ...(node.op === 'maxPool' ? { dilations: attr.ints(a.dilation) } : { count_include_pad: attr.int(a.countIncludePad ? 1 : 0) }),
        };
        const op = node.op === 'maxPool' ? 'MaxPool' : 'AveragePool';
        this.setOutput(node, this.emit(op, [this.as4(node.inputs[0])], attrs, n, tensorName), 4);
        return;
      }
      case 'globalAvgPool':
        this.setOutput(node, this.emit('GlobalAveragePool', [this.as4(node.inputs[0])], {}, n, tensorName), 4);
        return;
      case 'flatten':
        this.setOutput(node, this.emit('Flatten', [this.as4(node.inputs[0])], { axis: attr.int(1) }, n, tensorName), 2);
        return;
      case 'linear': {
        const a = node.attrs;
        const inF = this.graph.tensors[node.inputs[0]].shape[1];
        // A fused global average pool (`poolInput`, see fusePoolLinear) is written back as the op it was.
        let x: string;
        if (a.poolInput) {
          const pooled = this.emit('GlobalAveragePool', [this.as4(node.inputs[0])], {}, `${n}/pool`, `${tensorName}/pool`);
          x = this.emit('Flatten', [pooled], { axis: attr.int(1) }, `${n}/flatten`, `${tensorName}/flat`);
        } else {
          x = this.as2(node.inputs[0]);
        }
        const inputs = [x, this.constant(`${n}.weight`, [a.outFeatures, inF], a.weight)];
        if (a.bias) inputs.push(this.constant(`${n}.bias`, [a.outFeatures], a.bias));
        const act = a.activation.kind !== 'none';
        let out = this.emit('Gemm', inputs, { transB: attr.int(1) }, n, act ? `${tensorName}/gemm` : tensorName);
        out = this.activation(out, a.activation, `${n}/act`, tensorName);
        this.setOutput(node, out, 2);
        return;
      }
      case 'softmax': {
        const v = this.names.get(node.inputs[0])!;
        const axes = node.attrs.axes ?? [1, 1];
        if (axes[0] !== axes[1]) {
          throw new UnsupportedOpError(`node ${n}: exporting a softmax over axes ${axes[0]}..${axes[1]} is not supported`);
        }
        const input = axes[0] === 1 && v.rank === 2 ? v.name : this.as4(node.inputs[0]);
        const rank = input === v.name ? v.rank : 4;
        this.setOutput(node, this.emit('Softmax', [input], { axis: attr.int(axes[0]) }, n, tensorName), rank);
        return;
      }
      case 'reshape': {
        const shape = this.constant(`${n}.shape`, [4], [...node.attrs.shape], DataType.INT64);
        this.setOutput(node, this.emit('Reshape', [this.names.get(node.inputs[0])!.name, shape], {}, n, tensorName), 4);
        return;
      }
      case 'pad': {
        const [t, l, b, r] = node.attrs.pads;
        const pads = this.constant(`${n}.pads`, [8], [0, 0, t, l, 0, 0, b, r], DataType.INT64);
        const value = this.constant(`${n}.value`, [], [node.attrs.value]);
        this.setOutput(node, this.emit('Pad', [this.as4(node.inputs[0]), pads, value], { mode: attr.string('constant') }, n, tensorName), 4);
        return;
      }
      case 'resize':
      case 'argMax':
      case 'convTranspose':
        throw new UnsupportedOpError(`ONNX export: node ${node.name}: op '${node.op}' is not exported`);
      case 'binary': {
        const { op, activation, constant } = node.attrs;
        const operands = node.inputs.map((id) => this.as4(id));
        if (constant) operands.splice(constant.operand, 0, this.constant(`${n}.constant`, [...constant.shape], constant.values));
        const act = activation.kind !== 'none';
        const base = act ? `${tensorName}/${op}` : tensorName;
        let out: string;
        if (op === 'squaredDifference') {
          const d = this.emit('Sub', operands, {}, `${n}/sub`, `${tensorName}/difference`);
          out = this.emit('Mul', [d, d], {}, n, base);
        } else {
          out = this.emit(ONNX_BINARY[op], operands, {}, n, base);
        }
        this.setOutput(node, this.activation(out, activation, `${n}/act`, tensorName), 4);
        return;
      }
      case 'concat':
        this.setOutput(node, this.emit('Concat', node.inputs.map((id) => this.as4(id)), { axis: attr.int(1) }, n, tensorName), 4);
        return;
      case 'sliceChannels': {
        const { start, count } = node.attrs;
        const starts = this.constant(`${n}.starts`, [1], [start], DataType.INT64);
        const ends = this.constant(`${n}.ends`, [1], [start + count], DataType.INT64);
        const axes = this.constant(`${n}.axes`, [1], [1], DataType.INT64);
        this.setOutput(node, this.emit('Slice', [this.as4(node.inputs[0]), starts, ends, axes], {}, n, tensorName), 4);
        return;
      }
      case 'shuffleChannels': {
        // ShuffleNet's own pattern, which the importer reads back as this node.
        const [bn, c, h, w] = this.graph.tensors[node.output].shape;
        const g = node.attrs.groups;
        const to5 = this.constant(`${n}.groups`, [5], [bn, g, c / g, h, w], DataType.INT64);
        const to4 = this.constant(`${n}.shape`, [4], [bn, c, h, w], DataType.INT64);
        const grouped = this.emit('Reshape', [this.as4(node.inputs[0]), to5], {}, `${n}/reshape`, `${tensorName}/grouped`);
        const swapped = this.emit('Transpose', [grouped], { perm: attr.ints([0, 2, 1, 3, 4]) }, `${n}/transpose`, `${tensorName}/transposed`);
        this.setOutput(node, this.emit('Reshape', [swapped, to4], {}, n, tensorName), 4);
        return;
      }
      case 'layerNorm':
        // Opset 13 has no LayerNormalization (17), and its decomposed form does not load back as one.
        throw new UnsupportedOpError(`ONNX export: node ${node.name}: op '${node.op}' is not exported`);
      case 'matMul':
        throw new UnsupportedOpError(`ONNX export: node ${node.name}: op '${node.op}' is not exported`);
      case 'reduceChannels': {
        const op = node.attrs.op === 'mean' ? 'ReduceMean' : 'ReduceMax';
        this.setOutput(node, this.emit(op, [this.as4(node.inputs[0])], { axes: attr.ints([1]), keepdims: attr.int(1) }, n, tensorName), 4);
        return;
      }
    }
  }
}

/** The ONNX op of each IR binary op that has one (squared difference is written as Sub, then Mul). */
const ONNX_BINARY: { readonly [K in Exclude<BinaryOp, 'squaredDifference'>]: string } = {
  add: 'Add',
  sub: 'Sub',
  mul: 'Mul',
  div: 'Div',
  pow: 'Pow',
  min: 'Min',
  max: 'Max',
  prelu: 'PRelu',
};

function shapesEqual(a: Shape4, b: Shape4): boolean {
  return a.every((d, i) => d === b[i]);
}

function dimsOf(shape: Shape4, rank: 2 | 4): number[] {
  return rank === 2 ? [shape[0], shape[1]] : [...shape];
}
