/**
 * Pool + FC fusion (`fusePoolLinear`): when it rewrites, what the fused node says, when it must leave the graph
 * alone, and that the fused graph computes what the unfused one does on the CPU reference (the test oracle);
 * plus what the rest of the IR's consumers make of a fused node (validation, ONNX export).
 */
import { describe, expect, it } from 'vitest';
import { GraphError } from '../../errors.ts';
import { decodeModelProto, exportOnnx, loadOnnx } from '../../formats/onnx/index.ts';
import { mobilenetV2, randomParams, resnet50 } from '../../models/index.ts';
import { globalAvgPool, linear } from '../../reference/ops.ts';
import { runGraphReference } from '../../reference/index.ts';
import { Rng } from '../../util/random.ts';
import { GraphBuilder } from '../builder.ts';
import type { Graph, GraphNode, LinearNode, Shape4, TensorId } from '../ir.ts';
import { NO_ACTIVATION, RELU, RELU6, elementCount } from '../ir.ts';
import { validateGraph } from '../validate.ts';
import { fusePoolLinear, optimizeGraph } from './index.ts';

const ops = (g: Graph): string[] => g.nodes.map((n) => n.op);

function inputsFor(g: Graph, seed = 5): Float32Array[] {
  const rng = new Rng(seed);
  return g.inputs.map((id) => rng.fill(elementCount(g.tensors[id].shape), -2, 2));
}

/** The fused graph gives the unfused graph's outputs on the CPU reference, value for value. */
function expectIdentical(fused: Graph, original: Graph): void {
  validateGraph(fused);
  const inputs = inputsFor(original);
  const a = runGraphReference(fused, inputs);
  const b = runGraphReference(original, inputs);
  expect(a.map((t) => Array.from(t))).toEqual(b.map((t) => Array.from(t)));
}

/** max |a - b| <= rel * max |b| + 1e-7 for every output (for rewrites that change the summation order). */
function expectClose(fused: Graph, original: Graph, rel: number): void {
  validateGraph(fused);
  const inputs = inputsFor(original);
  const a = runGraphReference(fused, inputs);
  const b = runGraphReference(original, inputs);
  b.forEach((ref, k) => {
    let maxRef = 0;
    let maxErr = 0;
    for (let i = 0; i < ref.length; i++) {
      maxRef = Math.max(maxRef, Math.abs(ref[i]));
      maxErr = Math.max(maxErr, Math.abs(a[k][i] - ref[i]));
    }
    expect(maxErr).toBeLessThanOrEqual(rel * maxRef + 1e-7);
  });
}

interface Head {
  readonly b: GraphBuilder;
  readonly x: TensorId;
  readonly pool: TensorId;
  readonly rng: Rng;
}

function head(shape: Shape4 = [2, 6, 3, 4], seed = 3): Head {
  const b = new GraphBuilder();
  const rng = new Rng(seed);
  const x = b.input('x', shape);
  return { b, x, pool: b.globalAvgPool(x, 'gap'), rng };
}

function fc(h: Head, input: TensorId, out = 5, name = 'fc'): TensorId {
  const c = h.b.shape(input)[1];
  return h.b.linear(input, { outFeatures: out, weight: h.rng.fill(out * c, -1, 1), bias: h.rng.fill(out, -1, 1) }, name);
}

function fusedNode(g: Graph): LinearNode {
  const last = g.nodes[g.nodes.length - 1];
  if (last.op !== 'linear') throw new Error(`last node is ${last.op}`);
  return last;
}

describe('fusePoolLinear', () => {
  it('fuses globalAvgPool -> flatten -> linear into one linear reading the map (poolInput), same values', () => {
    const h = head();
    const y = fc(h, h.b.flatten(h.pool, 'flatten'));
    h.b.output(y);
    const g = h.b.build();
    const out = fusePoolLinear(g);
    expect(ops(out)).toEqual(['linear']);
    const node = fusedNode(out);
    expect(node.name).toBe('fc');
    expect(node.inputs).toEqual([h.x]);
    expect(node.output).toBe(y);
    expect(node.attrs.poolInput).toBe(true);
    const original = g.nodes[2] as LinearNode;
    expect({ ...node.attrs, poolInput: undefined }).toEqual({ ...original.attrs, poolInput: undefined });
    // The weight array is the layer's own, not a copy.
    expect(node.attrs.weight).toBe(original.attrs.weight);
    expectIdentical(out, g);
  });

  it('fuses without an alias, and through a chain of same-shape reshapes and flattens', () => {
    const direct = head();
    direct.b.output(fc(direct, direct.pool));
    const g1 = direct.b.build();
    expect(ops(fusePoolLinear(g1))).toEqual(['linear']);
    expectIdentical(fusePoolLinear(g1), g1);

    const chain = head([1, 9, 5, 5]);
    const r = chain.b.reshape(chain.pool, [1, 9, 1, 1], 'reshape');
    chain.b.output(fc(chain, chain.b.flatten(chain.b.flatten(r, 'f1'), 'f2')));
    const g2 = chain.b.build();
    expect(ops(fusePoolLinear(g2))).toEqual(['linear']);
    expectIdentical(fusePoolLinear(g2), g2);
  });

  it('keeps the nodes before and after the head in place, and only the head changes', () => {
    const b = new GraphBuilder();
    const rng = new Rng(9);
    const x = b.input('x', [1, 3, 6, 6]);
    const c = b.conv2d(x, { outChannels: 8, kernel: 3, padding: 1, weight: rng.fill(8 * 3 * 9, -0.5, 0.5), activation: RELU }, 'conv');
    const p = b.flatten(b.globalAvgPool(c, 'gap'), 'flatten');
    const l = b.linear(p, { outFeatures: 4, weight: rng.fill(32, -1, 1), bias: null }, 'fc');
    b.output(b.softmax(l, 'softmax'));
    const g = b.build();
    const out = fusePoolLinear(g);
    expect(out.nodes.map((n) => n.name)).toEqual(['conv', 'fc', 'softmax']);
    expect(out.nodes[0]).toBe(g.nodes[0]);
    expect(out.nodes[2]).toBe(g.nodes[4]);
    expect(out.nodes[1].inputs).toEqual([c]);
    expectIdentical(out, g);
  });

  it('leaves the graph alone when the pooled tensor or an alias of it has another reader or is an output', () => {
    const cases: [string, (h: Head) => void][] = [
      ['pool output read twice', (h) => {
        h.b.output(fc(h, h.b.flatten(h.pool)));
        h.b.output(h.b.relu(h.pool, 'other'));
      }],
      ['pool output is a graph output', (h) => {
        h.b.output(fc(h, h.b.flatten(h.pool)));
        h.b.output(h.pool);
      }],
      ['flatten output read twice', (h) => {
        const f = h.b.flatten(h.pool);
        h.b.output(fc(h, f, 5, 'fc1'));
        h.b.output(fc(h, f, 3, 'fc2'));
      }],
      ['flatten output is a graph output', (h) => {
        const f = h.b.flatten(h.pool);
        h.b.output(fc(h, f));
        h.b.output(f);
      }],
      ['pool output feeds the linear twice (two heads)', (h) => {
        h.b.output(fc(h, h.pool, 5, 'fc1'));
        h.b.output(fc(h, h.pool, 3, 'fc2'));
      }],
      ['a reshape that changes the shape (batch folded into features)', (h) => {
        h.b.output(fc(h, h.b.reshape(h.pool, [1, 12, 1, 1])));
      }],
      ['an activation between pool and linear', (h) => {
        h.b.output(fc(h, h.b.relu(h.pool)));
      }],
    ];
    for (const [what, build] of cases) {
      const h = head();
      build(h);
      const g = h.b.build();
      expect(fusePoolLinear(g), what).toBe(g);
    }
  });

  it('does not fuse a linear fed by a max pool, a windowed average pool or a padded whole-map average pool', () => {
    for (const pool of ['max', 'window', 'padded'] as const) {
      const b = new GraphBuilder();
      const rng = new Rng(4);
      const x = b.input('x', [1, 4, 4, 4]);
      const p =
        pool === 'max' ? b.maxPool(x, { kernel: 4 })
        : pool === 'window' ? b.avgPool(x, { kernel: 2, stride: 2 })
        : b.avgPool(x, { kernel: 4, padding: 1, stride: 3 });
      const f = b.flatten(p);
      b.output(b.linear(f, { outFeatures: 3, weight: rng.fill(3 * b.shape(f)[1], -1, 1) }));
      const g = b.build();
      expect(fusePoolLinear(g), pool).toBe(g);
    }
  });

  it("fuses TFLite's head: a whole-map average pool and a 1x1 convolution of the pooled tensor", () => {
    const b = new GraphBuilder();
    const rng = new Rng(8);
    const x = b.input('x', [2, 12, 5, 3]);
    const p = b.avgPool(x, { kernel: [5, 3], stride: 2, countIncludePad: false }, 'avgpool');
    const weight = rng.fill(7 * 12, -1, 1);
    const bias = rng.fill(7, -1, 1);
    const y = b.conv2d(p, { outChannels: 7, kernel: 1, weight, bias, activation: RELU6 }, 'logits');
    b.output(b.softmax(y, 'softmax'));
    const g = b.build();
    const out = fusePoolLinear(g);
    expect(ops(out)).toEqual(['linear', 'softmax']);
    const node = out.nodes[0] as LinearNode;
    expect(node.inputs).toEqual([x]);
    expect(node.attrs).toEqual({ outFeatures: 7, weight, bias, activation: RELU6, poolInput: true });
    // The reference's conv and linear sum in different orders: equal to float rounding.
    expectClose(out, g, 1e-6);
  });

  it('does not take a grouped or residual 1x1 convolution, or one over a spatial map, for a linear layer', () => {
    const grouped = new GraphBuilder();
    const x = grouped.input('x', [1, 8, 3, 3]);
    const p = grouped.avgPool(x, { kernel: 3 });
    grouped.output(grouped.conv2d(p, { outChannels: 4, kernel: 1, groups: 2, weight: new Rng(1).fill(16, -1, 1) }));
    const g1 = grouped.build();
    expect(fusePoolLinear(g1)).toBe(g1);

    // A residual add fused into the 1x1 convolution (the add's other operand) is no part of a linear layer.
    const residual = new GraphBuilder();
    const r = residual.input('r', [1, 4, 1, 1]);
    const y = residual.input('y', [1, 4, 3, 3]);
    const q = residual.avgPool(y, { kernel: 3 });
    residual.output(residual.add(residual.conv2d(q, { outChannels: 4, kernel: 1, weight: new Rng(2).fill(16, -1, 1) }), r));
    const g2 = optimizeGraph(residual.build());
    expect(g2.nodes.map((n) => [n.op, n.inputs.length])).toEqual([['avgPool', 1], ['conv2d', 2]]);
    expect(fusePoolLinear(g2)).toBe(g2);

    const spatial = new GraphBuilder();
    const z = spatial.input('z', [1, 4, 3, 3]);
    spatial.output(spatial.conv2d(spatial.avgPool(z, { kernel: 2 }), { outChannels: 4, kernel: 1, weight: new Rng(3).fill(16, -1, 1) }));
    const g3 = spatial.build();
    expect(fusePoolLinear(g3)).toBe(g3);
  });

  it('is idempotent and leaves an already fused layer as it is', () => {
    const h = head();
    h.b.output(fc(h, h.b.flatten(h.pool)));
    const once = fusePoolLinear(h.b.build());
    expect(fusePoolLinear(once)).toBe(once);
  });
});

describe('optimizeGraph and the pool + FC head', () => {
  it('runs the fusion last: the head keeps its fused activation', () => {
    const h = head();
    h.b.output(h.b.relu(fc(h, h.b.flatten(h.pool)), 'relu'));
    const g = h.b.build();
    const out = optimizeGraph(g);
    expect(ops(out)).toEqual(['linear']);
    expect(fusedNode(out).attrs).toMatchObject({ poolInput: true, activation: RELU });
    expectIdentical(out, g);
  });

  it('fusePoolLinear: false keeps the pool and the alias', () => {
    const h = head();
    h.b.output(fc(h, h.b.flatten(h.pool)));
    expect(ops(optimizeGraph(h.b.build(), { fusePoolLinear: false }))).toEqual(['globalAvgPool', 'flatten', 'linear']);
  });

  it('MobileNetV2 and ResNet-50 end in one fused linear, with the unfused logits', () => {
    for (const g of [
      mobilenetV2({ params: randomParams(31), inputSize: 32, widthMultiplier: 0.5, numClasses: 10 }),
      resnet50({ params: randomParams(32), inputSize: 32, numClasses: 10 }),
    ]) {
      const fused = optimizeGraph(g);
      const unfused = optimizeGraph(g, { fusePoolLinear: false });
      expect(fused.nodes.length).toBe(unfused.nodes.length - 2);
      expect(ops(fused).filter((op) => op === 'globalAvgPool' || op === 'flatten')).toEqual([]);
      const last = fusedNode(fused);
      expect(last.attrs.poolInput).toBe(true);
      expect(fused.tensors[last.inputs[0]].shape.slice(2)).toEqual([1, 1]);
      expectIdentical(fused, unfused);
    }
  });
});

describe('a fused linear in the rest of the IR', () => {
  const fused = (): { g: Graph; node: LinearNode } => {
    const h = head([2, 5, 2, 3]);
    h.b.output(fc(h, h.b.flatten(h.pool), 4));
    const g = fusePoolLinear(h.b.build());
    return { g, node: fusedNode(g) };
  };
  const withNode = (g: Graph, node: GraphNode): Graph => ({ ...g, nodes: [node] });

  it('validation takes the map input and checks the weight against its channels', () => {
    const { g, node } = fused();
    expect(() => validateGraph(g)).not.toThrow();
    const bad = withNode(g, { ...node, attrs: { ...node.attrs, weight: new Float32Array(4 * 6) } });
    expect(() => validateGraph(bad)).toThrow(GraphError);
    expect(() => validateGraph(bad)).toThrow(/node 0 \(fc\).*weight has 24 values, expected 20/);
    const unpooled = withNode(g, { ...node, attrs: { ...node.attrs, poolInput: false } });
    expect(() => validateGraph(unpooled)).toThrow(/node 0 \(fc\).*flat/);
  });

  it('the reference op is linear(globalAvgPool(x)) exactly', () => {
    const x = new Rng(6).fill(2 * 5 * 2 * 3, -3, 3);
    const attrs = { outFeatures: 4, weight: new Rng(7).fill(20, -1, 1), bias: null, activation: NO_ACTIVATION };
    const pooled = globalAvgPool(x, [2, 5, 2, 3]);
    const expected = linear(pooled.data, pooled.shape, attrs);
    const got = linear(x, [2, 5, 2, 3], { ...attrs, poolInput: true });
    expect(got.shape).toEqual([2, 4, 1, 1]);
    expect(Array.from(got.data)).toEqual(Array.from(expected.data));
  });

  it('exports to ONNX as GlobalAveragePool + Flatten + Gemm, and loads back to the same function', () => {
    const { g } = fused();
    const bytes = exportOnnx(g);
    expect(decodeModelProto(bytes).graph?.node?.map((n) => n.op_type)).toEqual(['GlobalAveragePool', 'Flatten', 'Gemm']);
    const loaded = loadOnnx(bytes).graph;
    const inputs = inputsFor(g);
    const [a] = runGraphReference(loaded, inputs);
    const [b] = runGraphReference(g, inputs);
    expect(Array.from(a)).toEqual(Array.from(b));
  });
});
