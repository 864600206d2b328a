import { describe, expect, it } from 'vitest';
import { GraphError } from '../../errors.ts';
import { exportOnnx } from '../../formats/onnx/export.ts';
import { loadOnnx } from '../../formats/onnx/loader.ts';
import { runGraphReference } from '../../reference/run-graph.ts';
import { Rng } from '../../util/random.ts';
import { activationEntry, functionActivation } from '../activations/index.ts';
import { GraphBuilder } from '../builder.ts';
import type { Conv2dNode, Graph, TensorId } from '../ir.ts';
import { NO_ACTIVATION, RELU, convChannelScale, convResidual, elementCount } from '../ir.ts';
import { validateGraph } from '../validate.ts';
import { optimizeGraph } from './index.ts';

const SIGMOID = functionActivation('sigmoid', activationEntry('sigmoid').defaults);
const convs = (g: Graph): Conv2dNode[] => g.nodes.filter((n): n is Conv2dNode => n.op === 'conv2d');

function conv(b: GraphBuilder, rng: Rng, x: TensorId, outC: number, o: { kernel?: number; activation?: typeof RELU | typeof SIGMOID; name?: string } = {}): TensorId {
  const inC = b.shape(x)[1];
  const k = o.kernel ?? 1;
  const weight = rng.fill(outC * inC * k * k, -0.5, 0.5);
  return b.conv2d(x, { outChannels: outC, kernel: k, padding: (k - 1) / 2, weight, bias: rng.fill(outC, -0.2, 0.2), activation: o.activation ?? NO_ACTIVATION }, o.name);
}

/** x -> squeeze-and-excitation gate -> `reader` of the gated map (a 1x1 conv by default), optional residual of x. */
function squeezeExcite(o: { n?: number; kernel?: number; residual?: boolean; sharedGate?: boolean } = {}): Graph {
  const rng = new Rng(7);
  const b = new GraphBuilder();
  const x = b.input('x', [o.n ?? 2, 12, 5, 4]);
  const gate = conv(b, rng, conv(b, rng, b.globalAvgPool(x), 3, { activation: RELU }), 12, { activation: SIGMOID });
  const gated = b.binary('mul', x, gate, 'se.mul');
  let y = conv(b, rng, gated, 12, { kernel: o.kernel, name: 'project' });
  if (o.residual) y = b.add(y, x, 'residual');
  b.output(y);
  if (o.sharedGate) b.output(gated);
  return b.build();
}

/** Two inputs -> concat -> batch norm -> ReLU -> 1x1 conv (DenseNet's pre-activation). */
function preActivation(kernel = 1): Graph {
  const rng = new Rng(3);
  const b = new GraphBuilder();
  const cat = b.concat([b.input('a', [1, 6, 4, 4]), b.input('b', [1, 5, 4, 4])]);
  const norm = b.batchNorm(cat, { gamma: rng.fill(11, 0.5, 1.5), beta: rng.fill(11, -0.5, 0.5), mean: rng.fill(11, -0.3, 0.3), variance: rng.fill(11, 0.5, 1.5), epsilon: 1e-5 });
  b.output(conv(b, rng, b.relu(norm), 8, { kernel, name: 'conv1' }));
  return b.build();
}

function inputsOf(g: Graph): Float32Array[] {
  const rng = new Rng(11);
  return g.inputs.map((id) => rng.fill(elementCount(g.tensors[id].shape), -2, 2));
}

/** The fused graph computes what the graph fused with the pass off computes. */
function expectSameOutputs(g: Graph): void {
  const inputs = inputsOf(g);
  const want = runGraphReference(optimizeGraph(g, { fuseInputTransforms: false }), inputs);
  const got = runGraphReference(optimizeGraph(g), inputs);
  got.forEach((out, i) => out.forEach((v, k) => expect(v).toBeCloseTo(want[i][k], 5)));
}

describe('fuseInputTransforms', () => {
  it("folds squeeze-and-excitation's gate into the next 1x1 conv's input", () => {
    const g = optimizeGraph(squeezeExcite());
    validateGraph(g);
    expect(g.nodes.some((n) => n.op === 'binary')).toBe(false);
    const project = convs(g).find((n) => n.name === 'project')!;
    expect(project.attrs.input).toEqual({ kind: 'channelScale' });
    expect(project.inputs[0]).toBe(g.inputs[0]);
    expect(convResidual(project)).toBeUndefined();
    expect(g.tensors[convChannelScale(project)!].shape).toEqual([2, 12, 1, 1]);
    expectSameOutputs(squeezeExcite());
  });

  it('keeps a fused residual apart from the channel scale', () => {
    const g = optimizeGraph(squeezeExcite({ residual: true, n: 1 }));
    validateGraph(g);
    const project = convs(g).find((n) => n.output === g.outputs[0])!;
    expect(project.inputs).toHaveLength(3);
    expect(convResidual(project)).toBe(g.inputs[0]);
    expect(convChannelScale(project)).toBe(project.inputs[2]);
    expectSameOutputs(squeezeExcite({ residual: true, n: 1 }));
  });

  it('folds a batch norm + ReLU after a concat into the 1x1 conv as an affine with its clamp', () => {
    const g = optimizeGraph(preActivation());
    validateGraph(g);
    expect(convs(g)).toHaveLength(1);
    const [c] = convs(g);
    expect(c.attrs.input?.kind).toBe('affine');
    if (c.attrs.input?.kind === 'affine') expect(c.attrs.input.activation).toEqual(RELU);
    expect(g.nodes.find((n) => n.output === c.inputs[0])?.op).toBe('concat');
    expectSameOutputs(preActivation());
  });

  it('leaves padded convolutions, shared transforms and the pass switched off alone', () => {
    for (const g of [squeezeExcite({ kernel: 3 }), squeezeExcite({ sharedGate: true }), preActivation(3)]) {
      expect(convs(optimizeGraph(g)).every((n) => n.attrs.input === undefined)).toBe(true);
    }
    expect(optimizeGraph(squeezeExcite(), { fuseInputTransforms: false }).nodes.some((n) => n.op === 'binary')).toBe(true);
  });

  it('refuses a channel scale of the wrong shape with a GraphError', () => {
    const g = optimizeGraph(squeezeExcite());
    const project = convs(g).find((n) => n.name === 'project')!;
    const wrong = g.inputs[0];
    const nodes = g.nodes.map((n) => (n === project ? { ...project, inputs: [project.inputs[0], wrong] } : n));
    expect(() => validateGraph({ ...g, nodes })).toThrow(GraphError);
    expect(() => validateGraph({ ...g, nodes })).toThrow(/channel scale shape/);
  });

  it('exports a fused graph to ONNX as the Mul / Add / Relu it stands for', () => {
    for (const source of [squeezeExcite({ residual: true, n: 1 }), preActivation()]) {
      const fused = optimizeGraph(source);
      const reloaded = loadOnnx(exportOnnx(fused)).graph;
      const inputs = inputsOf(source);
      const want = runGraphReference(fused, inputs);
      const got = runGraphReference(reloaded, inputs);
      got[0].forEach((v, k) => expect(v).toBeCloseTo(want[0][k], 5));
    }
  });
});

