import { GraphError, ShapeError } from '../errors.ts';
import type { Graph, GraphNode, TensorId } from '../graph/ir.ts';
import { convChannelScale, convResidual, elementCount, shapeToString } from '../graph/ir.ts';
import { validateGraph } from '../graph/validate.ts';
import { binary } from './binary.ts';
import {
  activation,
  add,
  addBroadcast,
  avgPool,
  batchNorm,
  conv2d,
  flatten,
  globalAvgPool,
  linear,
  maxPool,
  pad,
  reshape,
  softmax,
} from './ops.ts';
import { argMax, convTranspose, resize } from './upsample.ts';
import { concat, shuffleChannels, sliceChannels } from './channels.ts';
import { layerNorm } from './layer-norm.ts';
import { convInputTransformed } from './conv-input.ts';
import { matMul } from './matmul.ts';
import { reduceChannels } from './reduce-channels.ts';

/**
 * Graph inputs: an array in `graph.inputs` order, or a map keyed by tensor id or tensor name.
 */
export type ReferenceInputs = readonly Float32Array[] | ReadonlyMap<TensorId | string, Float32Array>;

function bindInputs(graph: Graph, inputs: ReferenceInputs): Float32Array[] {
  let bound: Float32Array[];
  if (inputs instanceof Map || !Array.isArray(inputs)) {
    const map = inputs as ReadonlyMap<TensorId | string, Float32Array>;
    bound = graph.inputs.map((id) => {
      const t = graph.tensors[id];
      const data = map.get(id) ?? map.get(t.name);
      if (!data) throw new ShapeError(`input ${id} (${t.name}) is missing`);
      return data;
    });
  } else {
    if (inputs.length !== graph.inputs.length) {
      throw new ShapeError(`graph takes ${graph.inputs.length} input(s), got ${inputs.length}`);
    }
    bound = [...inputs];
  }
  bound.forEach((data, k) => {
    const t = graph.tensors[graph.inputs[k]];
    const expected = elementCount(t.shape);
    if (!(data instanceof Float32Array) || data.length !== expected) {
      const got = data instanceof Float32Array ? `${data.length} values` : 'not a Float32Array';
      throw new ShapeError(
        `input ${k} (${t.name}): expected ${expected} values for shape ${shapeToString(t.shape)}, got ${got}`,
      );
    }
  });
  return bound;
}

function evalNode(graph: Graph, node: GraphNode, values: Map<TensorId, Float32Array>): Float32Array {
  const get = (id: TensorId): Float32Array => {
    const v = values.get(id);
    if (!v) throw new GraphError(`${node.name}: tensor ${id} has no value`);
    return v;
  };
  const x = get(node.inputs[0]);
  const shape = graph.tensors[node.inputs[0]].shape;
  const where = node.name;
  switch (node.op) {
    case 'conv2d': {
      const residual = convResidual(node);
      const scale = convChannelScale(node);
      const input = node.attrs.input ? convInputTransformed(x, shape, node.attrs.input, scale === undefined ? null : get(scale), where) : x;
      return conv2d(input, shape, node.attrs, residual === undefined ? null : get(residual), where).data;
    }
    case 'batchNorm':
      return batchNorm(x, shape, node.attrs, where).data;
    case 'activation':
      return activation(x, node.attrs.activation);
    case 'add': {
      const bShape = graph.tensors[node.inputs[1]].shape;
      if (shape.every((d, i) => d === bShape[i])) return add(x, get(node.inputs[1]), node.attrs.activation, where);
      return addBroadcast(x, shape, get(node.inputs[1]), bShape, node.attrs.activation, where).data;
    }
    case 'maxPool':
      return maxPool(x, shape, node.attrs, where).data;
    case 'avgPool':
      return avgPool(x, shape, node.attrs, where).data;
    case 'globalAvgPool':
      return globalAvgPool(x, shape, where).data;
    case 'flatten':
      return flatten(x, shape, where).data;
    case 'linear':
      return linear(x, shape, node.attrs, where).data;
    case 'softmax':
      return softmax(x, shape, where, node.attrs.axes).data;
    case 'reshape':
      return reshape(x, shape, node.attrs.shape, where).data;
    case 'pad':
      return pad(x, shape, node.attrs.pads, node.attrs.value, where).data;
    case 'resize':
      return resize(x, shape, node.attrs, where).data;
    case 'argMax':
      return argMax(x, shape, where).data;
    case 'convTranspose':
      return convTranspose(x, shape, node.attrs, where).data;
    case 'binary': {
      const k = node.attrs.constant;
      if (!k) return binary(node.attrs.op, x, shape, get(node.inputs[1]), graph.tensors[node.inputs[1]].shape, node.attrs.activation, where).data;
      const [a, aShape, b, bShape] = k.operand === 0 ? [k.values, k.shape, x, shape] : [x, shape, k.values, k.shape];
      return binary(node.attrs.op, a, aShape, b, bShape, node.attrs.activation, where).data;
    }
    case 'concat':
      return concat(node.inputs.map(get), node.inputs.map((id) => graph.tensors[id].shape), where).data;
    case 'sliceChannels':
      return sliceChannels(x, shape, node.attrs.start, node.attrs.count, where).data;
    case 'shuffleChannels':
      return shuffleChannels(x, shape, node.attrs.groups, where).data;
    case 'layerNorm':
      return layerNorm(x, shape, node.attrs);
    case 'matMul': {
      const c = node.inputs.length > 2 ? { data: get(node.inputs[2]), shape: graph.tensors[node.inputs[2]].shape } : null;
      return matMul(x, shape, get(node.inputs[1]), graph.tensors[node.inputs[1]].shape, c, node.attrs, where).data;
    }
    case 'reduceChannels':
      return reduceChannels(x, shape, node.attrs.op, where).data;
  }
}

function run(graph: Graph, inputs: ReferenceInputs, keepAll: boolean): Map<TensorId, Float32Array> {
  validateGraph(graph);
  const bound = bindInputs(graph, inputs);
  const values = new Map<TensorId, Float32Array>();
  graph.inputs.forEach((id, k) => values.set(id, bound[k]));

  // Free intermediates after their last use unless every tensor is wanted.
  const lastUse = new Map<TensorId, number>();
  if (!keepAll) {
    graph.nodes.forEach((node, i) => node.inputs.forEach((id) => lastUse.set(id, i)));
    for (const id of graph.outputs) lastUse.set(id, Infinity);
  }
  graph.nodes.forEach((node, i) => {
    values.set(node.output, evalNode(graph, node, values));
    if (!keepAll) {
      for (const id of node.inputs) if (lastUse.get(id) === i) values.delete(id);
    }
  });
  return values;
}

/**
 * Evaluates `graph` on the CPU, node by node, and returns its outputs in `graph.outputs` order. Validates
 * the graph first (`GraphError`) and checks input sizes (`ShapeError`).
 */
export function runGraphReference(graph: Graph, inputs: ReferenceInputs): Float32Array[] {
  const values = run(graph, inputs, false);
  return graph.outputs.map((id) => values.get(id)!);
}

/**
 * Like `runGraphReference`, but returns every tensor of the graph (inputs and each node's output), keyed by
 * tensor id: handy for finding the first node where a GPU result diverges.
 */
export function runGraphReferenceAll(graph: Graph, inputs: ReferenceInputs): Map<TensorId, Float32Array> {
  return run(graph, inputs, true);
}
