import { describe, expect, it } from 'vitest';
import { GraphError } from '../errors.ts';
import { GraphBuilder } from './builder.ts';
import type { Graph, GraphNode, Shape4, TensorId } from './ir.ts';
import { RELU } from './ir.ts';
import { validateGraph } from './validate.ts';

const zeros = (n: number): Float32Array => new Float32Array(n);
const ones = (n: number): Float32Array => new Float32Array(n).fill(1);

/**
 * Node indices (and names):
 * 0 conv1     x[1,3,8,8] -> [1,4,8,8]   3x3 pad 1
 * 1 bn1       -> [1,4,8,8]
 * 2 relu1     -> [1,4,8,8]
 * 3 dw        -> [1,4,8,8]  depthwise 3x3 pad 1
 * 4 add1      relu1 + dw -> [1,4,8,8]
 * 5 maxpool   -> [1,4,4,4]  2x2
 * 6 avgpool   -> [1,4,2,2]  3x3 s2 pad 1
 * 7 pw        -> [1,4,2,2]  1x1 (residual added below)
 * 8 gap       -> [1,4,1,1]
 * 9 flatten   -> [1,4,1,1]
 * 10 fc       -> [1,5,1,1]
 * 11 softmax  -> [1,5,1,1]
 */
function buildValid(): Graph {
  const b = new GraphBuilder();
  const x = b.input('x', [1, 3, 8, 8]);
  const c1 = b.conv2d(x, { outChannels: 4, kernel: 3, padding: 1, weight: zeros(4 * 3 * 9) }, 'conv1');
  const bn = b.batchNorm(c1, { gamma: ones(4), beta: zeros(4), mean: zeros(4), variance: ones(4), epsilon: 1e-5 }, 'bn1');
  const r = b.relu(bn, 'relu1');
  const dw = b.conv2d(r, { outChannels: 4, kernel: 3, padding: 1, groups: 4, weight: zeros(36) }, 'dw');
  const s = b.add(r, dw, 'add1');
  const mp = b.maxPool(s, { kernel: 2 }, 'maxpool');
  const ap = b.avgPool(mp, { kernel: 3, stride: 2, padding: 1 }, 'avgpool');
  const pw = b.conv2d(ap, { outChannels: 4, kernel: 1, weight: zeros(16), activation: RELU }, 'pw');
  const gap = b.globalAvgPool(pw, 'gap');
  const fl = b.flatten(gap, 'flatten');
  const fc = b.linear(fl, { outFeatures: 5, weight: zeros(20), bias: zeros(5) }, 'fc');
  const sm = b.softmax(fc, 'softmax');
  b.output(sm);
  const g = b.build();
  // Fuse the avgpool output as pw's residual.
  return withNode(g, 7, { inputs: [ap, ap] });
}

function withNode(g: Graph, index: number, patch: Partial<GraphNode>): Graph {
  const nodes = g.nodes.map((n, i) => (i === index ? ({ ...n, ...patch } as GraphNode) : n));
  return { ...g, nodes };
}

function withShape(g: Graph, id: TensorId, shape: Shape4): Graph {
  const tensors = g.tensors.map((t) => (t.id === id ? { ...t, shape } : t));
  return { ...g, tensors };
}

function expectGraphError(g: Graph, pattern: RegExp): void {
  let error: unknown;
  try {
    validateGraph(g);
  } catch (e) {
    error = e;
  }
  expect(error, 'validateGraph should throw').toBeInstanceOf(GraphError);
  const message = (error as Error).message;
  expect(message).toMatch(pattern);
  expect(message).not.toContain('\n');
}

describe('validateGraph', () => {
  const g = buildValid();
  const out = (i: number): TensorId => g.nodes[i].output;

  it('accepts a valid graph', () => {
    expect(() => validateGraph(g)).not.toThrow();
  });

  it('accepts non-finite weights', () => {
    const conv = g.nodes[0];
    if (conv.op !== 'conv2d') throw new Error('test graph changed');
    const weight = zeros(conv.attrs.weight.length).fill(NaN);
    weight[0] = Infinity;
    expect(() => validateGraph(withNode(g, 0, { attrs: { ...conv.attrs, weight } } as Partial<GraphNode>))).not.toThrow();
  });

  it('rejects what is not a graph at all with a GraphError, not a TypeError', () => {
    expectGraphError({ bogus: true } as unknown as Graph, /^not a graph: tensors, nodes, inputs, outputs are not arrays/);
    expectGraphError(null as unknown as Graph, /^not a graph: got null/);
    expectGraphError('model.onnx' as unknown as Graph, /^not a graph: got a string/);
    expectGraphError({ ...g, nodes: undefined } as unknown as Graph, /^not a graph: nodes is not an array/);
    expectGraphError({ ...g, nodes: [null] } as unknown as Graph, /^node 0 is null, not a graph node/);
  });

  it('rejects an input tensor id out of range', () => {
    expectGraphError(withNode(g, 2, { inputs: [999] }), /node 2 \(relu1\).*999.*out of range/);
    expectGraphError(withNode(g, 2, { inputs: [-1] }), /node 2 \(relu1\)/);
  });

  it('rejects an output tensor id out of range', () => {
    expectGraphError(withNode(g, 3, { output: 999 }), /node 3 \(dw\).*out of range/);
  });

  it('rejects an input produced by a later node (out of order)', () => {
    expectGraphError(withNode(g, 1, { inputs: [out(2)] }), /node 1 \(bn1\).*neither a graph input nor produced by an earlier node/);
    const swapped = { ...g, nodes: [g.nodes[1], g.nodes[0], ...g.nodes.slice(2)] };
    expectGraphError(swapped, /node 0 \(bn1\)/);
  });

  it('rejects a node that consumes its own output (cycle)', () => {
    expectGraphError(withNode(g, 2, { inputs: [out(2)] }), /node 2 \(relu1\).*earlier node/);
  });

  it('rejects a tensor produced twice', () => {
    expectGraphError(withNode(g, 5, { output: out(4) }), /node 5 \(maxpool\).*already produced by node 4 \(add1\)/);
    expectGraphError(withNode(g, 0, { output: g.inputs[0] }), /node 0 \(conv1\).*graph input/);
  });

  it('rejects wrong arity', () => {
    expectGraphError(withNode(g, 4, { inputs: [out(2)] }), /node 4 \(add1\): add takes 2 input/);
    expectGraphError(withNode(g, 2, { inputs: [out(1), out(1)] }), /node 2 \(relu1\): activation takes 1 input/);
    expectGraphError(withNode(g, 0, { inputs: [] }), /node 0 \(conv1\): conv2d takes 1 or 2 input/);
    expectGraphError(withNode(g, 3, { inputs: [out(2), out(2), out(2)] }), /node 3 \(dw\): conv2d takes 1 or 2/);
    expectGraphError(withNode(g, 11, { inputs: [] }), /node 11 \(softmax\)/);
  });

  it('rejects graph outputs that are never produced', () => {
    const dangling: Graph = {
      ...g,
      tensors: [...g.tensors, { id: g.tensors.length, name: 'orphan', shape: [1, 5, 1, 1] }],
      outputs: [g.tensors.length],
    };
    expectGraphError(dangling, /graph output 0.*orphan.*never produced/);
    expectGraphError({ ...g, outputs: [out(11), 500] }, /graph output 1.*out of range/);
    expectGraphError({ ...g, outputs: [] }, /no outputs/);
  });

  it('rejects a residual whose shape differs from the conv output', () => {
    expectGraphError(withNode(g, 7, { inputs: [out(6), out(5)] }), /node 7 \(pw\): residual shape \[1, 4, 4, 4\]/);
  });

  it('rejects add operands of different shapes', () => {
    expectGraphError(withNode(g, 4, { inputs: [out(2), g.inputs[0]] }), /node 4 \(add1\): add operands differ.*\[1, 3, 8, 8\]/);
  });

  it('rejects conv and pool output shapes that disagree with shape inference', () => {
    expectGraphError(withShape(g, out(0), [1, 4, 6, 6]), /node 0 \(conv1\).*\[1, 4, 6, 6\].*\[1, 4, 8, 8\]/);
    expectGraphError(withShape(g, out(5), [1, 4, 5, 5]), /node 5 \(maxpool\)/);
    // avgpool output [1,4,3,3] would need ceil mode; downstream pw would also disagree but avgpool comes first.
    expectGraphError(withShape(g, out(6), [1, 4, 3, 3]), /node 6 \(avgpool\)/);
  });

  it('rejects a conv whose weight does not fit, naming the node', () => {
    const conv = g.nodes[3];
    if (conv.op !== 'conv2d') throw new Error('test graph changed');
    const bad = withNode(g, 3, { attrs: { ...conv.attrs, weight: zeros(35) } } as Partial<GraphNode>);
    expectGraphError(bad, /node 3 \(dw\).*weight/);
  });

  it('rejects inconsistent shapes for elementwise, gap, flatten, linear and softmax', () => {
    expectGraphError(withShape(g, out(1), [1, 4, 8, 7]), /node 1 \(bn1\)/);
    expectGraphError(withShape(g, out(8), [1, 4, 2, 2]), /node 8 \(gap\)/);
    expectGraphError(withShape(g, out(9), [1, 2, 2, 1]), /node 9 \(flatten\)/);
    expectGraphError(withShape(g, out(10), [1, 6, 1, 1]), /node 10 \(fc\)/);
    expectGraphError(withNode(g, 10, { inputs: [out(7)] }), /node 10 \(fc\).*flat/);
    expectGraphError(withNode(g, 11, { inputs: [out(8)], output: out(11) }), /node 11 \(softmax\)/);
    expectGraphError(withNode(g, 11, { inputs: [out(7)] }), /node 11 \(softmax\).*flat/);
  });

  it('rejects batch norm parameters of the wrong length', () => {
    const bn = g.nodes[1];
    if (bn.op !== 'batchNorm') throw new Error('test graph changed');
    expectGraphError(withNode(g, 1, { attrs: { ...bn.attrs, gamma: ones(3) } } as Partial<GraphNode>), /node 1 \(bn1\).*gamma/);
  });

  it('rejects an unknown op', () => {
    expectGraphError(withNode(g, 2, { op: 'gelu' } as unknown as Partial<GraphNode>), /node 2 \(relu1\): unknown op 'gelu'/);
  });

  it('rejects tensors whose id does not match their index', () => {
    const tensors = g.tensors.map((t, i) => (i === 3 ? { ...t, id: 4 } : t));
    expectGraphError({ ...g, tensors }, /tensor at index 3 has id 4/);
  });
});
