import { GraphError, WebcnnError } from '../errors.ts';
import { BINARY_OP_NAMES } from './binary-ops.ts';
import type { BinaryNode, Conv2dNode, Graph, GraphNode, Shape4, TensorId, TensorInfo } from './ir.ts';
import { convChannelScale, convResidual, elementCount, sameShape, shapeToString } from './ir.ts';
import { broadcastShapes, checkReshape, checkSoftmaxAxes, conv2dOutputShape, linearOutputShape, padOutputShape, poolOutputShape } from './shapes.ts';
import { argMaxOutputShape, convTransposeOutputShape, resizeOutputShape } from './shapes-upsample.ts';
import { withArticle } from '../util/describe.ts';
import { concatOutputShape, shuffleChannelsShape, sliceChannelsShape } from './channel-shapes.ts';
import { checkLayerNorm } from './layer-norm-shapes.ts';
import { matMulOutputShape } from './matmul-shapes.ts';

const ARITY: Record<GraphNode['op'], readonly [number, number]> = {
  conv2d: [1, 2],
  batchNorm: [1, 1],
  activation: [1, 1],
  add: [2, 2],
  maxPool: [1, 1],
  avgPool: [1, 1],
  globalAvgPool: [1, 1],
  flatten: [1, 1],
  linear: [1, 1],
  softmax: [1, 1],
  reshape: [1, 1],
  pad: [1, 1],
  resize: [1, 1],
  argMax: [1, 1],
  convTranspose: [1, 1],
  binary: [1, 2],
  concat: [1, Number.MAX_SAFE_INTEGER],
  sliceChannels: [1, 1],
  shuffleChannels: [1, 1],
  layerNorm: [1, 1],
  matMul: [2, 3],
  reduceChannels: [1, 1],
};

function validShape(s: unknown): s is Shape4 {
  return Array.isArray(s) && s.length === 4 && s.every((d) => Number.isInteger(d) && d >= 1);
}

/**
 * Checks that a graph is well formed, in one pass over its nodes: tensor ids in range, every node input
 * defined before use (graph input or output of an earlier node, which also rules out cycles), each tensor
 * produced once, op arity, fused residual shapes, output shapes consistent with shape inference, and graph
 * outputs defined. Throws `GraphError` with a one-line message naming the offending node. Weight values
 * are not inspected.
 */
export function validateGraph(graph: Graph): void {
  // Callers from JavaScript can pass anything: say so in a GraphError rather than a TypeError from deep inside.
  checkGraphShape(graph);
  const { tensors, nodes } = graph;
  const count = tensors.length;
  for (let id = 0; id < count; id++) {
    const t = tensors[id];
    if (!t || t.id !== id) {
      throw new GraphError(`tensor at index ${id} has id ${t?.id}, expected ${id}`);
    }
    if (!validShape(t.shape)) {
      throw new GraphError(`tensor ${id} (${t.name}) has invalid shape ${JSON.stringify(t.shape)}`);
    }
  }
  const inRange = (id: TensorId): boolean => Number.isInteger(id) && id >= 0 && id < count;

  // defined[id] = 0: not yet; 1: graph input; 2 + i: output of node i.
  const defined = new Int32Array(count);
  if (graph.inputs.length === 0) throw new GraphError('graph has no inputs');
  graph.inputs.forEach((id, k) => {
    if (!inRange(id)) throw new GraphError(`graph input ${k} refers to tensor ${id}, out of range [0, ${count})`);
    if (defined[id]) throw new GraphError(`graph input ${k}: tensor ${id} (${tensors[id].name}) is listed twice`);
    defined[id] = 1;
  });

  nodes.forEach((node, i) => {
    if (!node || typeof node !== 'object' || !Array.isArray(node.inputs)) {
      throw new GraphError(`node ${i} is ${describeValue(node)}, not a graph node (an object with op, inputs and output)`);
    }
    const where = `node ${i} (${node.name})`;
    const known = ARITY[node.op];
    if (!known) throw new GraphError(`${where}: unknown op '${String(node.op)}'`);
    // A conv's channel scale (ConvInputTransform) is one input more.
    const arity = node.op === 'conv2d' && node.attrs?.input?.kind === 'channelScale' ? ([2, 3] as const) : known;
    const nIn = node.inputs.length;
    if (nIn < arity[0] || nIn > arity[1]) {
      const want = arity[0] === arity[1] ? `${arity[0]}` : arity[1] === Number.MAX_SAFE_INTEGER ? `at least ${arity[0]}` : `${arity[0]} or ${arity[1]}`;
      throw new GraphError(`${where}: ${node.op} takes ${want} input(s), got ${nIn}`);
    }
    node.inputs.forEach((id, k) => {
      if (!inRange(id)) throw new GraphError(`${where}: input ${k} refers to tensor ${id}, out of range [0, ${count})`);
      if (!defined[id]) {
        throw new GraphError(
          `${where}: input ${k} (tensor ${id} '${tensors[id].name}') is neither a graph input nor produced by an earlier node`,
        );
      }
    });
    const out = node.output;
    if (!inRange(out)) throw new GraphError(`${where}: output refers to tensor ${out}, out of range [0, ${count})`);
    if (defined[out]) {
      const by = defined[out] === 1 ? 'is a graph input' : `is already produced by node ${defined[out] - 2} (${nodes[defined[out] - 2].name})`;
      throw new GraphError(`${where}: output tensor ${out} '${tensors[out].name}' ${by}`);
    }
    defined[out] = 2 + i;

    const inShape = tensors[node.inputs[0]].shape;
    const outShape = tensors[out].shape;
    let addShape: Shape4 | null = null;
    if (node.op === 'add') {
      const bs = tensors[node.inputs[1]].shape;
      addShape = broadcastShapes(inShape, bs);
      if (!addShape) {
        throw new GraphError(`${where}: add operands differ in shape, ${shapeToString(inShape)} vs ${shapeToString(bs)}, and do not broadcast`);
      }
    }
    if (node.op === 'binary') addShape = binaryOutputShape(node, tensors, where);
    if (node.op === 'matMul') {
      const [a, b, c] = node.inputs.map((id) => tensors[id].shape);
      addShape = matMulOutputShape(a, b, c ?? null, node.attrs, where);
    }
    let expected: Shape4;
    try {
      expected = addShape ?? (node.op === 'concat' ? concatOutputShape(node.inputs.map((id) => tensors[id].shape), where) : expectedOutputShape(node, inShape, where));
    } catch (e) {
      if (e instanceof GraphError || !(e instanceof WebcnnError)) throw e;
      throw new GraphError(e.message, { cause: e });
    }
    if (!sameShape(expected, outShape)) {
      throw new GraphError(
        `${where}: output tensor ${out} has shape ${shapeToString(outShape)}, but ${node.op} of ` +
          `${shapeToString(inShape)} gives ${shapeToString(expected)}`,
      );
    }
    if (node.op === 'conv2d') checkConvInputs(node, tensors, where);
  });

  if (graph.outputs.length === 0) throw new GraphError('graph has no outputs');
  graph.outputs.forEach((id, k) => {
    if (!inRange(id)) throw new GraphError(`graph output ${k} refers to tensor ${id}, out of range [0, ${count})`);
    if (!defined[id]) {
      throw new GraphError(`graph output ${k}: tensor ${id} '${tensors[id].name}' is never produced`);
    }
  });
}

/** `null`, `an array`, `a string`, `an object without tensors` and the like, for messages. */
function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  const t = typeof v;
  return withArticle(t);
}

function checkGraphShape(graph: unknown): asserts graph is Graph {
  if (!graph || typeof graph !== 'object' || Array.isArray(graph)) {
    throw new GraphError(`not a graph: got ${describeValue(graph)}, expected an object with tensors, nodes, inputs and outputs arrays`);
  }
  const g = graph as Record<string, unknown>;
  const missing = ['tensors', 'nodes', 'inputs', 'outputs'].filter((k) => !Array.isArray(g[k]));
  if (missing.length) {
    throw new GraphError(`not a graph: ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not ${missing.length > 1 ? 'arrays' : 'an array'} (expected an object with tensors, nodes, inputs and outputs arrays)`);
  }
}

function expectedOutputShape(node: GraphNode, s: Shape4, where: string): Shape4 {
  const [n, c, h, w] = s;
  const flat = (what: string): void => {
    if (h !== 1 || w !== 1) throw new GraphError(`${where}: ${what} needs a flat [n, c, 1, 1] input, got ${shapeToString(s)}`);
  };
  switch (node.op) {
    case 'conv2d':
      return conv2dOutputShape(s, node.attrs, where);
    case 'batchNorm':
      for (const key of ['gamma', 'beta', 'mean', 'variance'] as const) {
        if (node.attrs[key].length !== c) {
          throw new GraphError(`${where}: batch norm ${key} has ${node.attrs[key].length} values, expected ${c}`);
        }
      }
      return s;
    case 'activation':
      return s;
    case 'add':
      return s;
    case 'maxPool':
    case 'avgPool':
      return poolOutputShape(s, node.attrs, where);
    case 'globalAvgPool':
      return [n, c, 1, 1];
    case 'flatten':
      return [n, c * h * w, 1, 1];
    case 'linear':
      return linearOutputShape(s, node.attrs, where);
    case 'softmax':
      if (node.attrs.axes) checkSoftmaxAxes(node.attrs.axes, where);
      else flat('softmax');
      return s;
    case 'reshape':
      return checkReshape(s, node.attrs.shape, where);
    case 'pad':
      if (typeof node.attrs.value !== 'number') throw new GraphError(`${where}: pad value must be a number`);
      return padOutputShape(s, node.attrs.pads, where);
    case 'resize':
      return resizeOutputShape(s, node.attrs, where);
    case 'argMax':
      return argMaxOutputShape(s, where);
    case 'convTranspose':
      return convTransposeOutputShape(s, node.attrs, where);
    case 'binary':
      return s;
    case 'concat':
      return concatOutputShape([s], where);
    case 'sliceChannels':
      return sliceChannelsShape(s, node.attrs.start, node.attrs.count, where);
    case 'shuffleChannels':
      return shuffleChannelsShape(s, node.attrs.groups, where);
    case 'layerNorm':
      checkLayerNorm(node.attrs, c, where);
      return s;
    case 'matMul':
      return s;
    case 'reduceChannels':
      if (node.attrs.op !== 'mean' && node.attrs.op !== 'max') throw new GraphError(`${where}: unknown channel reduction '${String(node.attrs.op)}'`);
      return [n, 1, h, w];
  }
}

/** A binary node's broadcast output shape, after checking its operands: two tensors, or one and a constant. */
function binaryOutputShape(node: BinaryNode, tensors: readonly TensorInfo[], where: string): Shape4 {
  const k = node.attrs.constant;
  if (!BINARY_OP_NAMES.includes(node.attrs.op)) throw new GraphError(`${where}: unknown binary op '${String(node.attrs.op)}'`);
  if ((k === undefined) !== (node.inputs.length === 2)) {
    throw new GraphError(`${where}: binary takes two tensors, or one tensor and a constant operand`);
  }
  const shapes = node.inputs.map((id) => tensors[id].shape);
  if (k) {
    if (!validShape(k.shape) || !(k.values instanceof Float32Array) || k.values.length !== elementCount(k.shape)) {
      throw new GraphError(`${where}: the constant operand is not a Float32Array of its shape's element count`);
    }
    shapes.splice(k.operand === 0 ? 0 : 1, 0, k.shape);
  }
  const out = broadcastShapes(shapes[0], shapes[1]);
  if (!out) {
    throw new GraphError(`${where}: ${node.attrs.op} operands differ in shape, ${shapeToString(shapes[0])} vs ${shapeToString(shapes[1])}, and do not broadcast`);
  }
  return out;
}

/** A conv's residual has its output's shape; a channel scale is `[n, c, 1, 1]` of its input; an affine has `c` values. */
function checkConvInputs(node: Conv2dNode, tensors: Graph['tensors'], where: string): void {
  const inShape = tensors[node.inputs[0]].shape;
  const outShape = tensors[node.output].shape;
  const residual = convResidual(node);
  const scale = convChannelScale(node);
  if (residual !== undefined && !sameShape(tensors[residual].shape, outShape)) {
    throw new GraphError(
      `${where}: residual shape ${shapeToString(tensors[residual].shape)} differs from conv output shape ${shapeToString(outShape)}`,
    );
  }
  if (scale !== undefined && !sameShape(tensors[scale].shape, [inShape[0], inShape[1], 1, 1])) {
    throw new GraphError(`${where}: channel scale shape ${shapeToString(tensors[scale].shape)} is not [n, c, 1, 1] of input ${shapeToString(inShape)}`);
  }
  const t = node.attrs.input;
  if (t?.kind === 'affine' && (t.scale.length !== inShape[1] || t.shift.length !== inShape[1])) {
    throw new GraphError(`${where}: input affine has ${t.scale.length} scales and ${t.shift.length} shifts for ${inShape[1]} channels`);
  }
}
