import { describe, expect, it } from 'vitest';
import { GraphError, ShapeError } from '../errors.ts';
import { GraphBuilder } from '../graph/builder.ts';
import type { Graph, GraphNode } from '../graph/ir.ts';
import { RELU } from '../graph/ir.ts';
import { runGraphReference, runGraphReferenceAll } from './run-graph.ts';

const f32 = (...v: number[]): Float32Array => Float32Array.from(v);

/**
 * x [1,1,3,3] = 1..9
 * t1 = conv 2x2 [1,2,3,4]                          -> [37, 47, 67, 77]
 * t2 = relu(conv 1x1 [2], bias -150, residual t1)  -> relu(3 t1 - 150) = [0, 0, 51, 81]
 * t3 = flatten(t2)                                 -> [1,4,1,1]
 * t4 = linear(t3, [[.01,.01,.01,.01],[0,0,.01,-.01]], b [0, .3]) -> [1.32, 0]
 * t5 = softmax(t4)                                 -> [sigmoid(1.32), 1 - sigmoid(1.32)]
 * outputs: t5, t1
 */
function buildGraph(): Graph {
  const b = new GraphBuilder();
  const x = b.input('x', [1, 1, 3, 3]);
  const t1 = b.conv2d(x, { outChannels: 1, kernel: 2, weight: f32(1, 2, 3, 4) }, 'conv1');
  const t2 = b.conv2d(t1, { outChannels: 1, kernel: 1, weight: f32(2), bias: f32(-150), activation: RELU }, 'conv2');
  const t3 = b.flatten(t2, 'flatten');
  const t4 = b.linear(t3, { outFeatures: 2, weight: f32(0.01, 0.01, 0.01, 0.01, 0, 0, 0.01, -0.01), bias: f32(0, 0.3) }, 'fc');
  const t5 = b.softmax(t4, 'softmax');
  b.output(t5);
  b.output(t1);
  const g = b.build();
  // Fuse t1 as the residual of conv2 (the builder has no residual form).
  const nodes = g.nodes.map((n): GraphNode => (n.name === 'conv2' ? { ...n, inputs: [t1, t1] } : n));
  return { ...g, nodes };
}

const X = f32(1, 2, 3, 4, 5, 6, 7, 8, 9);
const P = 1 / (1 + Math.exp(-1.32));

describe('runGraphReference', () => {
  it('evaluates nodes in order, with a fused residual, and returns outputs in order', () => {
    const [probs, t1] = runGraphReference(buildGraph(), [X]);
    expect(Array.from(t1)).toEqual([37, 47, 67, 77]);
    expect(probs[0]).toBeCloseTo(P, 6);
    expect(probs[1]).toBeCloseTo(1 - P, 6);
  });

  it('accepts inputs keyed by tensor id or by name', () => {
    const g = buildGraph();
    const byName = runGraphReference(g, new Map([['x', X]]));
    const byId = runGraphReference(g, new Map([[g.inputs[0], X]]));
    expect(byName[0][0]).toBeCloseTo(P, 6);
    expect(byId[0][0]).toBeCloseTo(P, 6);
  });

  it('returns every intermediate tensor from runGraphReferenceAll', () => {
    const g = buildGraph();
    const all = runGraphReferenceAll(g, [X]);
    expect(all.size).toBe(g.tensors.length);
    const t2 = g.nodes.find((n) => n.name === 'conv2')!.output;
    expect(Array.from(all.get(t2)!)).toEqual([0, 0, 51, 81]);
    const t4 = g.nodes.find((n) => n.name === 'fc')!.output;
    expect(all.get(t4)![0]).toBeCloseTo(1.32, 5);
    expect(all.get(t4)![1]).toBeCloseTo(0, 6);
  });

  it('throws ShapeError for inputs of the wrong size or count', () => {
    const g = buildGraph();
    expect(() => runGraphReference(g, [new Float32Array(8)])).toThrow(ShapeError);
    expect(() => runGraphReference(g, [X, X])).toThrow(ShapeError);
    expect(() => runGraphReference(g, new Map([['y', X]]))).toThrow(ShapeError);
  });

  it('validates the graph first', () => {
    const g = buildGraph();
    expect(() => runGraphReference({ ...g, nodes: [...g.nodes].reverse() }, [X])).toThrow(GraphError);
  });
});
