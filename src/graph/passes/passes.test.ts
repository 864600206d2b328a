import { describe, expect, it } from 'vitest';
import { buildBottleneckGraph, buildInvertedResidualGraph, mobilenetV2, randomParams, resnet50 } from '../../models/index.ts';
import { runGraphReference } from '../../reference/index.ts';
import { Rng } from '../../util/random.ts';
import { GraphBuilder } from '../builder.ts';
import type { Activation, BatchNormParams, Conv2dNode, Graph, GraphNode, OpType } from '../ir.ts';
import { NO_ACTIVATION, RELU, RELU6, composeActivations, convWeight, elementCount } from '../ir.ts';
import { validateGraph } from '../validate.ts';
import { foldBatchNorm, foldBatchNormIntoConv, fuseActivations, fuseResidualAdds, optimizeGraph } from './index.ts';

const f32 = (...v: number[]): Float32Array => Float32Array.from(v);
const count = (g: Graph, op: OpType): number => g.nodes.filter((n) => n.op === op).length;
const convs = (g: Graph): Conv2dNode[] => g.nodes.filter((n): n is Conv2dNode => n.op === 'conv2d');
const clip = (min: number, max: number): Activation => ({ kind: 'clip', min, max });

function randomInputs(g: Graph, seed = 7): Float32Array[] {
  const rng = new Rng(seed);
  return g.inputs.map((id) => rng.fill(elementCount(g.tensors[id].shape), -2, 2));
}

/** max |a - b| <= rel * max |a| (+ a tiny absolute floor), for every output. */
function expectClose(actual: readonly Float32Array[], expected: readonly Float32Array[], rel: number): void {
  expect(actual.length).toBe(expected.length);
  expected.forEach((e, k) => {
    const a = actual[k];
    expect(a.length).toBe(e.length);
    let maxRef = 0;
    let maxErr = 0;
    for (let i = 0; i < e.length; i++) {
      maxRef = Math.max(maxRef, Math.abs(e[i]));
      maxErr = Math.max(maxErr, Math.abs(a[i] - e[i]));
    }
    expect(maxErr, `output ${k}: max error ${maxErr} vs max |ref| ${maxRef}`).toBeLessThanOrEqual(rel * maxRef + 1e-7);
  });
}

/** Runs both graphs on the same inputs and compares. */
function expectSameFunction(optimized: Graph, original: Graph, rel: number, seed = 7): void {
  validateGraph(optimized);
  const inputs = randomInputs(original, seed);
  expectClose(runGraphReference(optimized, inputs), runGraphReference(original, inputs), rel);
}

function randomBn(rng: Rng, c: number, epsilon = 1e-5): BatchNormParams {
  return {
    gamma: rng.fill(c, 0.5, 1.5),
    beta: rng.fill(c, -0.3, 0.3),
    mean: rng.fill(c, -0.3, 0.3),
    variance: rng.fill(c, 0.5, 1.5),
    epsilon,
  };
}

interface ConvConfig {
  name: string;
  inC: number;
  outC: number;
  kernel: number;
  stride: number;
  pad: number;
  groups: number;
  bias: boolean;
  size: [number, number];
  n?: number;
  dilation?: number;
}

const CONV_CONFIGS: ConvConfig[] = [
  { name: 'dense 3x3 with bias', inC: 5, outC: 6, kernel: 3, stride: 1, pad: 1, groups: 1, bias: true, size: [7, 6] },
  { name: 'dense 3x3 stride 2 without bias, batch 2', inC: 4, outC: 7, kernel: 3, stride: 2, pad: 1, groups: 1, bias: false, size: [9, 8], n: 2 },
  { name: 'pointwise without bias', inC: 9, outC: 5, kernel: 1, stride: 1, pad: 0, groups: 1, bias: false, size: [4, 5] },
  { name: 'grouped (groups 3) with bias', inC: 6, outC: 9, kernel: 3, stride: 1, pad: 1, groups: 3, bias: true, size: [5, 5] },
  { name: 'depthwise 3x3 without bias', inC: 8, outC: 8, kernel: 3, stride: 2, pad: 1, groups: 8, bias: false, size: [9, 9] },
  { name: 'depthwise 5x5 dilated with bias', inC: 5, outC: 5, kernel: 5, stride: 1, pad: 4, groups: 5, bias: true, size: [6, 7], dilation: 2 },
  { name: 'depthwise multiplier 2 (groups 3, outC 6)', inC: 3, outC: 6, kernel: 3, stride: 1, pad: 1, groups: 3, bias: false, size: [5, 4] },
];

function convBnGraph(c: ConvConfig, seed = 11): Graph {
  const rng = new Rng(seed);
  const b = new GraphBuilder();
  const x = b.input('x', [c.n ?? 1, c.inC, c.size[0], c.size[1]]);
  const fanIn = (c.inC / c.groups) * c.kernel * c.kernel;
  const y = b.conv2d(
    x,
    {
      outChannels: c.outC,
      kernel: c.kernel,
      stride: c.stride,
      padding: c.pad,
      dilation: c.dilation ?? 1,
      groups: c.groups,
      weight: rng.fill(c.outC * fanIn, -1, 1),
      bias: c.bias ? rng.fill(c.outC, -0.5, 0.5) : null,
    },
    'conv',
  );
  b.output(b.batchNorm(y, randomBn(rng, c.outC), 'bn'));
  return b.build();
}

describe('foldBatchNorm', () => {
  for (const c of CONV_CONFIGS) {
    it(`folds into the conv and keeps its values: ${c.name}`, () => {
      const g = convBnGraph(c);
      const folded = foldBatchNorm(g);
      expect(folded.nodes.map((n) => n.op)).toEqual(['conv2d']);
      const conv = convs(folded)[0];
      expect(conv.name).toBe('conv');
      expect(conv.output).toBe(g.outputs[0]);
      expect(conv.attrs.groups).toBe(c.groups);
      expect(conv.attrs.bias).not.toBeNull();
      expectSameFunction(folded, g, 1e-5);
    });
  }

  it('matches w\' = w*g/sqrt(var+eps), b\' = beta + (b-mean)*g/sqrt(var+eps) on a 1-channel example', () => {
    // gamma 3, var 3, eps 1 -> scale 3 / sqrt(4) = 1.5.
    const bn: BatchNormParams = { gamma: f32(3), beta: f32(0.5), mean: f32(2), variance: f32(3), epsilon: 1 };
    const build = (bias: Float32Array | null, kernel: number, weight: Float32Array): Graph => {
      const b = new GraphBuilder();
      const x = b.input('x', [1, 1, 3, 3]);
      const y = b.conv2d(x, { outChannels: 1, kernel, padding: (kernel - 1) / 2, weight, bias }, 'conv');
      b.output(b.batchNorm(y, bn, 'bn'));
      return b.build();
    };

    // 1x1 conv, weight 2, bias 1: w' = 3, b' = 0.5 + (1 - 2) * 1.5 = -1.
    const withBias = foldBatchNorm(build(f32(1), 1, f32(2)));
    const c1 = convs(withBias)[0];
    expect(Array.from(convWeight(c1.attrs))).toEqual([3]);
    expect(Array.from(c1.attrs.bias!)).toEqual([-1]);
    const x = f32(1, 2, 3, 4, 5, 6, 7, 8, 9);
    // y = 3x - 1.
    expect(Array.from(runGraphReference(withBias, [x])[0])).toEqual([2, 5, 8, 11, 14, 17, 20, 23, 26]);

    // No conv bias: b' = 0.5 - 2 * 1.5 = -2.5.
    const noBias = convs(foldBatchNorm(build(null, 1, f32(2))))[0];
    expect(Array.from(convWeight(noBias.attrs))).toEqual([3]);
    expect(Array.from(noBias.attrs.bias!)).toEqual([-2.5]);

    // 3x3 kernel: every tap scales by 1.5.
    const k3 = convs(foldBatchNorm(build(f32(0.25), 3, f32(1, 2, 3, 4, 5, 6, 7, 8, 9))))[0];
    expect(Array.from(convWeight(k3.attrs))).toEqual([1.5, 3, 4.5, 6, 7.5, 9, 10.5, 12, 13.5]);
    expect(Array.from(k3.attrs.bias!)).toEqual([0.5 + (0.25 - 2) * 1.5]);
  });

  it('uses each output channel\'s own statistics', () => {
    // 1x1, 1 -> 2 channels: w = [1, 2], b = [0, 1]. var [3, 0], eps 1 -> sqrt [2, 1]; gamma [2, 3] -> scale [1, 3].
    const b = new GraphBuilder();
    const x = b.input('x', [1, 1, 1, 2]);
    const y = b.conv2d(x, { outChannels: 2, kernel: 1, weight: f32(1, 2), bias: f32(0, 1) });
    b.output(b.batchNorm(y, { gamma: f32(2, 3), beta: f32(1, -1), mean: f32(3, 0.5), variance: f32(3, 0), epsilon: 1 }));
    const conv = convs(foldBatchNorm(b.build()))[0];
    expect(Array.from(convWeight(conv.attrs))).toEqual([1, 6]);
    // b' = beta + (b - mean) * scale = [1 + (0 - 3) * 1, -1 + (1 - 0.5) * 3].
    expect(Array.from(conv.attrs.bias!)).toEqual([-2, 0.5]);
  });

  it('keeps the weights and puts the factor in weightScale (no copy of the weights), in f64', () => {
    // 1x1, 1 -> 2 channels; var [3, 2], eps 1 -> scale [2 / 2, 1 / sqrt(3)].
    const b = new GraphBuilder();
    const x = b.input('x', [1, 1, 1, 2]);
    const weight = f32(1, 2);
    const y = b.conv2d(x, { outChannels: 2, kernel: 1, weight, bias: null });
    b.output(b.batchNorm(y, { gamma: f32(2, 1), beta: f32(0, 0), mean: f32(0, 0), variance: f32(3, 2), epsilon: 1 }));
    const conv = convs(foldBatchNorm(b.build()))[0];
    expect(conv.attrs.weight).toBe(weight);
    expect(conv.attrs.weightScale).toBeInstanceOf(Float64Array);
    // 1 / sqrt(3) kept in f64, which f32 would round.
    expect(Array.from(conv.attrs.weightScale!)).toEqual([1, 1 / Math.sqrt(3)]);
    expect(Math.fround(1 / Math.sqrt(3))).not.toBe(1 / Math.sqrt(3));
    // The effective weight rounds once: f32(2 / sqrt(3)), computed once and kept.
    expect(Array.from(convWeight(conv.attrs))).toEqual([1, Math.fround(2 / Math.sqrt(3))]);
    expect(convWeight(conv.attrs)).toBe(convWeight(conv.attrs));
  });

  it('gives the same effective weights, bit for bit, as scaling the weights eagerly did', () => {
    const g = convBnGraph(CONV_CONFIGS[0]);
    const conv = g.nodes[0] as Conv2dNode;
    const bn = g.nodes[1] as Extract<GraphNode, { op: 'batchNorm' }>;
    const folded = convs(foldBatchNorm(g))[0];
    const perOut = conv.attrs.weight.length / conv.attrs.outChannels;
    const eager = Float32Array.from(conv.attrs.weight, (w, k) => {
      const o = Math.floor(k / perOut);
      return w * (bn.attrs.gamma[o] / Math.sqrt(bn.attrs.variance[o] + bn.attrs.epsilon));
    });
    expect(Array.from(convWeight(folded.attrs))).toEqual(Array.from(eager));
  });

  it('multiplies a second fold into the scale already there', () => {
    const g = convBnGraph(CONV_CONFIGS[0]);
    const once = convs(foldBatchNorm(g))[0];
    const bn = g.nodes[1] as Extract<GraphNode, { op: 'batchNorm' }>;
    const twice = foldBatchNormIntoConv(once, bn);
    const s = (o: number) => bn.attrs.gamma[o] / Math.sqrt(bn.attrs.variance[o] + bn.attrs.epsilon);
    expect(Array.from(twice.attrs.weightScale!)).toEqual(Array.from(once.attrs.weightScale!, (v, o) => v * s(o)));
    expect(twice.attrs.weight).toBe(once.attrs.weight);
  });

  it('does not mutate the input graph', () => {
    const g = convBnGraph(CONV_CONFIGS[0]);
    const weightBefore = Float32Array.from((g.nodes[0] as Conv2dNode).attrs.weight);
    foldBatchNorm(g);
    expect(g.nodes.map((n) => n.op)).toEqual(['conv2d', 'batchNorm']);
    expect(Array.from((g.nodes[0] as Conv2dNode).attrs.weight)).toEqual(Array.from(weightBefore));
  });
});

describe('foldBatchNorm: standalone batch norms become depthwise 1x1 convs', () => {
  // var [3, 0], eps 1 -> sqrt [2, 1]; gamma [2, 3] -> scale [1, 3]; shift = beta - mean * scale = [-0.5, -7].
  const bn: BatchNormParams = { gamma: f32(2, 3), beta: f32(0.5, -1), mean: f32(1, 2), variance: f32(3, 0), epsilon: 1 };

  function expectDepthwiseBn(node: GraphNode | undefined, channels: number): Conv2dNode {
    expect(node?.op).toBe('conv2d');
    const conv = node as Conv2dNode;
    expect(conv.attrs.groups).toBe(channels);
    expect(conv.attrs.outChannels).toBe(channels);
    expect(conv.attrs.kernel).toEqual([1, 1]);
    expect(conv.attrs.stride).toEqual([1, 1]);
    expect(conv.attrs.pads).toEqual([0, 0, 0, 0]);
    expect(conv.attrs.dilation).toEqual([1, 1]);
    expect(conv.attrs.activation.kind).toBe('none');
    return conv;
  }

  it('when its input is a graph input', () => {
    const b = new GraphBuilder();
    const x = b.input('x', [1, 2, 1, 2]);
    b.output(b.batchNorm(x, bn, 'bn'));
    const g = b.build();
    const out = foldBatchNorm(g);
    expect(out.nodes).toHaveLength(1);
    const conv = expectDepthwiseBn(out.nodes[0], 2);
    expect(conv.name).toBe('bn');
    expect(conv.inputs).toEqual([x]);
    expect(conv.output).toBe(g.outputs[0]);
    expect(Array.from(conv.attrs.weight)).toEqual([1, 3]);
    expect(Array.from(conv.attrs.bias!)).toEqual([-0.5, -7]);
    // x = [[1, 2], [3, 4]] per channel: ch0 -> x - 0.5, ch1 -> 3x - 7.
    const y = runGraphReference(out, [f32(1, 2, 3, 4)])[0];
    expect(Array.from(y)).toEqual([0.5, 1.5, 2, 5]);
    expectSameFunction(out, g, 1e-6);
  });

  it('when the conv output has a second reader', () => {
    const rng = new Rng(3);
    const b = new GraphBuilder();
    const x = b.input('x', [2, 3, 5, 5]);
    const y = b.conv2d(x, { outChannels: 4, kernel: 3, padding: 1, weight: rng.fill(4 * 3 * 9, -1, 1) }, 'conv');
    b.output(b.batchNorm(y, randomBn(rng, 4), 'bn'));
    b.output(b.relu(y, 'relu'));
    const g = b.build();
    const out = foldBatchNorm(g);
    expect(out.nodes.map((n) => [n.name, n.op])).toEqual([
      ['conv', 'conv2d'],
      ['bn', 'conv2d'],
      ['relu', 'activation'],
    ]);
    expect(out.nodes[0]).toBe(g.nodes[0]);
    expectDepthwiseBn(out.nodes[1], 4);
    expectSameFunction(out, g, 1e-5);
  });

  it('when the conv output is a graph output, or the conv already has an activation', () => {
    const rng = new Rng(4);
    const b = new GraphBuilder();
    const x = b.input('x', [1, 3, 4, 4]);
    const y = b.conv2d(x, { outChannels: 3, kernel: 1, weight: rng.fill(9, -1, 1) }, 'conv');
    b.output(y);
    b.output(b.batchNorm(y, randomBn(rng, 3), 'bn'));
    const z = b.conv2d(x, { outChannels: 5, kernel: 1, weight: rng.fill(15, -1, 1), activation: RELU }, 'convRelu');
    b.output(b.batchNorm(z, randomBn(rng, 5), 'bn2'));
    const g = b.build();
    const out = foldBatchNorm(g);
    expect(out.nodes.map((n) => n.name)).toEqual(['conv', 'bn', 'convRelu', 'bn2']);
    expectDepthwiseBn(out.nodes[1], 3);
    expectDepthwiseBn(out.nodes[3], 5);
    expectSameFunction(out, g, 1e-5);
  });
});

describe('fuseResidualAdds (via optimizeGraph)', () => {
  function residualConvs(g: Graph): Conv2dNode[] {
    return convs(g).filter((c) => c.inputs.length === 2);
  }

  for (const downsample of [false, true]) {
    it(`bottleneck ${downsample ? 'with' : 'without'} downsample: one conv takes the residual, relu after the add`, () => {
      const g = buildBottleneckGraph(randomParams(5), {
        inC: downsample ? 32 : 64,
        width: 16,
        stride: downsample ? 2 : 1,
        downsample,
        inputShape: [1, downsample ? 32 : 64, 9, 9],
      });
      const out = optimizeGraph(g);
      expect(count(out, 'add')).toBe(0);
      expect(count(out, 'batchNorm')).toBe(0);
      expect(count(out, 'activation')).toBe(0);
      expect(count(out, 'conv2d')).toBe(downsample ? 4 : 3);
      const fused = residualConvs(out);
      expect(fused).toHaveLength(1);
      expect(fused[0].attrs.activation).toEqual(RELU);
      expect(fused[0].output).toBe(g.outputs[0]);
      // Every other conv clamps with relu (conv1, conv2) or nothing (conv3 / downsample feeding the add).
      if (downsample) {
        // The later producer (downsample.0) absorbs the add; conv3's result is its residual.
        expect(fused[0].name).toBe('block.downsample.0');
        const conv3 = out.nodes.find((n) => n.name === 'block.conv3') as Conv2dNode;
        expect(conv3.attrs.activation.kind).toBe('none');
        expect(fused[0].inputs).toEqual([g.inputs[0], conv3.output]);
      } else {
        expect(fused[0].name).toBe('block.conv3');
        expect(fused[0].inputs[1]).toBe(g.inputs[0]);
      }
      expectSameFunction(out, g, 1e-5);
    });
  }

  it('inverted residual with shortcut: the projection conv takes the input as residual, no activation', () => {
    const g = buildInvertedResidualGraph(randomParams(6), { inC: 24, outC: 24, stride: 1, expandRatio: 6, inputShape: [2, 24, 7, 7] });
    const out = optimizeGraph(g);
    expect(count(out, 'add')).toBe(0);
    expect(out.nodes.map((n) => n.op)).toEqual(['conv2d', 'conv2d', 'conv2d']);
    const fused = residualConvs(out);
    expect(fused).toHaveLength(1);
    expect(fused[0].name).toBe('block.conv.2');
    expect(fused[0].attrs.activation).toEqual(NO_ACTIVATION);
    expect(fused[0].inputs[1]).toBe(g.inputs[0]);
    expect(out.nodes[0].op === 'conv2d' && out.nodes[0].attrs.activation).toEqual(RELU6);
    expect(out.nodes[1].op === 'conv2d' && out.nodes[1].attrs.groups).toBe(144);
    expectSameFunction(out, g, 1e-5);
  });

  it('inverted residual without shortcut has no residual conv', () => {
    const g = buildInvertedResidualGraph(randomParams(6), { inC: 16, outC: 24, stride: 2, expandRatio: 6, inputShape: [1, 16, 9, 9] });
    const out = optimizeGraph(g);
    expect(residualConvs(out)).toHaveLength(0);
    expectSameFunction(out, g, 1e-5);
  });

  it('does not fuse when the conv operand has a second reader', () => {
    const rng = new Rng(8);
    const b = new GraphBuilder();
    const x = b.input('x', [1, 4, 3, 3]);
    const r = b.input('r', [1, 4, 3, 3]);
    const y = b.conv2d(x, { outChannels: 4, kernel: 1, weight: rng.fill(16, -1, 1) }, 'conv');
    const s = b.add(y, r, 'add');
    b.output(b.relu(y, 'relu'));
    b.output(s);
    const g = b.build();
    const out = fuseResidualAdds(g);
    expect(out.nodes).toEqual(g.nodes);
    expect(residualConvs(optimizeGraph(g))).toHaveLength(0);
    expect(count(optimizeGraph(g), 'add')).toBe(1);
    expectSameFunction(optimizeGraph(g), g, 1e-6);
  });

  it('does not fuse when the conv output is a graph output or the conv has an activation', () => {
    const rng = new Rng(9);
    const b = new GraphBuilder();
    const x = b.input('x', [1, 4, 3, 3]);
    const r = b.input('r', [1, 4, 3, 3]);
    const y = b.conv2d(x, { outChannels: 4, kernel: 1, weight: rng.fill(16, -1, 1) }, 'conv');
    b.output(y);
    b.output(b.add(y, r, 'add1'));
    const z = b.conv2d(x, { outChannels: 4, kernel: 1, weight: rng.fill(16, -1, 1), activation: RELU6 }, 'convRelu6');
    b.output(b.add(z, r, 'add2'));
    const g = b.build();
    const out = fuseResidualAdds(g);
    expect(out.nodes).toEqual(g.nodes);
  });

  it('fuses into the conv operand when the other operand is not a conv, whichever side it is on', () => {
    const rng = new Rng(10);
    const b = new GraphBuilder();
    const x = b.input('x', [1, 4, 3, 3]);
    const y = b.conv2d(x, { outChannels: 4, kernel: 3, padding: 1, weight: rng.fill(144, -1, 1), bias: rng.fill(4, -1, 1) }, 'conv');
    const p = b.maxPool(x, { kernel: 3, stride: 1, padding: 1 }, 'pool');
    b.output(b.add(p, y, 'add', RELU6));
    const g = b.build();
    const out = fuseResidualAdds(g);
    expect(out.nodes.map((n) => n.name)).toEqual(['pool', 'conv']);
    const conv = out.nodes[1] as Conv2dNode;
    expect(conv.inputs).toEqual([x, p]);
    expect(conv.output).toBe(g.outputs[0]);
    // The add's own activation moves to the conv's epilogue.
    expect(conv.attrs.activation).toEqual(RELU6);
    expectSameFunction(out, g, 1e-6);
  });

  it('an add of two graph inputs stays an add; a following relu fuses into it', () => {
    const b = new GraphBuilder();
    const a = b.input('a', [1, 3, 2, 2]);
    const c = b.input('c', [1, 3, 2, 2]);
    b.output(b.relu(b.add(a, c, 'add'), 'relu'));
    const g = b.build();
    expect(fuseResidualAdds(g).nodes).toEqual(g.nodes);
    const out = optimizeGraph(g);
    expect(out.nodes).toHaveLength(1);
    const add = out.nodes[0];
    expect(add.op).toBe('add');
    expect(add.inputs).toEqual([a, c]);
    expect(add.output).toBe(g.outputs[0]);
    expect(add.op === 'add' && add.attrs.activation).toEqual(RELU);
    const y = runGraphReference(out, [f32(1, -2, 3, -4, 5, -6, 7, -8, 9, -10, 11, -12), f32(-2, 1, -2, 1, -2, 1, -2, 10, 0, 0, 0, 0)])[0];
    expect(Array.from(y)).toEqual([0, 0, 1, 0, 3, 0, 5, 2, 9, 0, 11, 0]);
  });
});

describe('fuseActivations', () => {
  function convThen(acts: Activation[], opts: { outputConv?: boolean } = {}): Graph {
    const rng = new Rng(12);
    const b = new GraphBuilder();
    const x = b.input('x', [1, 3, 4, 4]);
    let y = b.conv2d(x, { outChannels: 4, kernel: 3, padding: 1, weight: rng.fill(108, -3, 3), bias: rng.fill(4, -1, 1) }, 'conv');
    if (opts.outputConv) b.output(y);
    acts.forEach((a, i) => {
      y = b.activation(y, a, `act${i}`);
    });
    b.output(y);
    return b.build();
  }

  it('conv -> relu6 fuses into the conv', () => {
    const g = convThen([RELU6]);
    const out = fuseActivations(g);
    expect(out.nodes).toHaveLength(1);
    const conv = out.nodes[0] as Conv2dNode;
    expect(conv.op).toBe('conv2d');
    expect(conv.name).toBe('conv');
    expect(conv.attrs.activation).toEqual(RELU6);
    expect(conv.output).toBe(g.outputs[0]);
    expectSameFunction(out, g, 1e-6);
  });

  it('conv -> relu -> relu6 composes into relu6; relu6 -> relu stays relu6', () => {
    for (const acts of [[RELU, RELU6], [RELU6, RELU]]) {
      const g = convThen(acts);
      const out = fuseActivations(g);
      expect(out.nodes).toHaveLength(1);
      expect((out.nodes[0] as Conv2dNode).attrs.activation).toEqual(RELU6);
      expect(out.nodes[0].output).toBe(g.outputs[0]);
      expectSameFunction(out, g, 1e-6);
    }
  });

  it('clip(min, max) chains compose to their intersection', () => {
    const cases: [Activation[], Activation][] = [
      [[clip(-1, 2), clip(0, 5)], clip(0, 2)],
      [[clip(-3, 10), RELU6], RELU6],
      [[RELU, clip(-1, 3)], clip(0, 3)],
      [[clip(-0.5, 0.5), clip(-1, 1), clip(-0.25, 4)], clip(-0.25, 0.5)],
      // Disjoint ranges: everything ends at the nearer bound of the second clamp.
      [[clip(2, 3), clip(-1, 1)], clip(1, 1)],
      [[clip(-3, -2), RELU], clip(0, 0)],
    ];
    for (const [acts, expected] of cases) {
      const g = convThen(acts);
      const out = fuseActivations(g);
      expect(out.nodes).toHaveLength(1);
      expect((out.nodes[0] as Conv2dNode).attrs.activation).toEqual(expected);
      expectSameFunction(out, g, 1e-6);
    }
  });

  it('composeActivations on concrete bounds', () => {
    expect(composeActivations(NO_ACTIVATION, RELU)).toEqual(RELU);
    expect(composeActivations(RELU6, NO_ACTIVATION)).toEqual(RELU6);
    expect(composeActivations(clip(0, Infinity), clip(-5, Infinity))).toEqual(RELU);
    expect(composeActivations(clip(-1, 7), clip(0, 6))).toEqual(RELU6);
    expect(composeActivations(clip(1, 7), RELU6)).toEqual(clip(1, 6));
    expect(composeActivations(clip(5, 7), clip(0, 1))).toEqual(clip(1, 1));
    // An inverted clip gives its max everywhere (min(max(v, 5), 2) = 2), whatever comes after it.
    expect(composeActivations(clip(5, 2), RELU)).toEqual(clip(2, 2));
    expect(composeActivations(clip(5, 2), clip(1, 3))).toEqual(clip(2, 2));
    expect(composeActivations(RELU6, clip(8, 1))).toEqual(clip(1, 1));
  });

  it('fuses an inverted clip (min > max) into a conv without changing the result', () => {
    const b = new GraphBuilder();
    const x = b.input('x', [1, 1, 1, 4]);
    const c = b.conv2d(x, { outChannels: 1, kernel: 1, weight: f32(1) });
    b.output(b.relu(b.activation(c, clip(5, 2))));
    const g = b.build();
    const input = [f32(-1, 0, 3, 10)];
    const want = runGraphReference(g, input);
    expect(Array.from(want[0])).toEqual([2, 2, 2, 2]);
    const optimized = optimizeGraph(g);
    expect(count(optimized, 'activation')).toBe(0);
    expect(Array.from(runGraphReference(optimized, input)[0])).toEqual([2, 2, 2, 2]);
  });

  it('does not fuse when the activation input is a graph output', () => {
    const g = convThen([RELU], { outputConv: true });
    const out = fuseActivations(g);
    expect(out.nodes).toEqual(g.nodes);
    expect((out.nodes[0] as Conv2dNode).attrs.activation.kind).toBe('none');
  });

  it('does not fuse when the source has two readers, or is a pool or a graph input', () => {
    const rng = new Rng(13);
    const b = new GraphBuilder();
    const x = b.input('x', [1, 2, 4, 4]);
    const y = b.conv2d(x, { outChannels: 2, kernel: 1, weight: rng.fill(4, -1, 1) }, 'conv');
    b.output(b.relu(y, 'relu_a'));
    b.output(b.relu6(y, 'relu6_b'));
    const p = b.maxPool(x, { kernel: 2 }, 'pool');
    b.output(b.relu(p, 'pool_relu'));
    b.output(b.relu(x, 'input_relu'));
    const g = b.build();
    expect(fuseActivations(g).nodes).toEqual(g.nodes);
  });

  it('fuses into linear and composes standalone activation chains', () => {
    const b = new GraphBuilder();
    const x = b.input('x', [2, 3, 1, 1]);
    const l = b.linear(x, { outFeatures: 2, weight: f32(1, 2, 3, -1, -2, -3), bias: f32(0.5, 0) }, 'fc');
    b.output(b.relu(l, 'fc_relu'));
    b.output(b.relu6(b.activation(x, clip(-1, 8), 'c'), 'r6'));
    const g = b.build();
    const out = fuseActivations(g);
    expect(out.nodes.map((n) => [n.name, n.op])).toEqual([
      ['fc', 'linear'],
      ['c', 'activation'],
    ]);
    expect(out.nodes[0].op === 'linear' && out.nodes[0].attrs.activation).toEqual(RELU);
    expect(out.nodes[1].op === 'activation' && out.nodes[1].attrs.activation).toEqual(RELU6);
    expect(out.nodes[1].output).toBe(g.outputs[1]);
    // x = [[1, 1, 1], [10, -1, 0]]: fc = [6.5, -6], [8.5, -8] -> relu; clip/relu6 -> [1,1,1], [6,0,0].
    const [fc, c] = runGraphReference(out, [f32(1, 1, 1, 10, -1, 0)]);
    expect(Array.from(fc)).toEqual([6.5, 0, 8.5, 0]);
    expect(Array.from(c)).toEqual([1, 1, 1, 6, 0, 0]);
  });
});

describe('optimizeGraph on whole networks', () => {
  function summary(g: Graph) {
    const cs = convs(g);
    return {
      conv2d: cs.length,
      residual: cs.filter((c) => c.inputs.length === 2).length,
      batchNorm: count(g, 'batchNorm'),
      activation: count(g, 'activation'),
      add: count(g, 'add'),
    };
  }

  it('MobileNetV2 (32x32): 52 convs, 10 with a residual, no bn/activation/add; same logits', () => {
    const g = mobilenetV2({ params: randomParams(21), inputSize: 32 });
    expect(count(g, 'add')).toBe(10);
    const out = optimizeGraph(g);
    expect(summary(out)).toEqual({ conv2d: 52, residual: 10, batchNorm: 0, activation: 0, add: 0 });
    // MobileNetV2's shortcuts add no clamp.
    for (const c of convs(out).filter((c) => c.inputs.length === 2)) expect(c.attrs.activation.kind).toBe('none');
    // The head: global average pool, flatten and linear are one linear reading the 7x7 map (fusePoolLinear).
    expect(out.nodes.map((n) => n.op).slice(-2)).toEqual(['conv2d', 'linear']);
    expect(out.nodes.at(-1)?.op === 'linear' && out.nodes.at(-1)?.attrs).toMatchObject({ poolInput: true });
    expectSameFunction(out, g, 1e-4);
  });

  it('ResNet-50 (32x32): 53 convs, 16 with a residual (relu), no bn/activation/add; same logits', () => {
    const g = resnet50({ params: randomParams(22), inputSize: 32, numClasses: 100 });
    expect(count(g, 'add')).toBe(16);
    const out = optimizeGraph(g);
    expect(summary(out)).toEqual({ conv2d: 53, residual: 16, batchNorm: 0, activation: 0, add: 0 });
    for (const c of convs(out).filter((c) => c.inputs.length === 2)) expect(c.attrs.activation).toEqual(RELU);
    expectSameFunction(out, g, 1e-4);
  });

  it('is idempotent on an optimized network', () => {
    const g = optimizeGraph(mobilenetV2({ params: randomParams(23), inputSize: 32, widthMultiplier: 0.5, numClasses: 10 }));
    expect(optimizeGraph(g).nodes).toEqual(g.nodes);
  });
});

describe('optimizeGraph on random graphs', () => {
  const ACTS: Activation[] = [RELU, RELU6, clip(-0.5, 0.7), NO_ACTIVATION];

  /** Random DAGs of convs (some already clamped), batch norms, activations, adds (some clamped) and pools. */
  function randomGraph(seed: number): Graph {
    const rng = new Rng(seed);
    const b = new GraphBuilder();
    const pool: number[] = [];
    const C = rng.int(1, 5);
    const nIn = rng.int(1, 2);
    for (let i = 0; i < nIn; i++) pool.push(b.input(`in${i}`, [1, C, 3, 3]));
    const n = rng.int(1, 14);
    for (let i = 0; i < n; i++) {
      // Mostly chains, sometimes branches.
      const x = rng.next() < 0.6 ? pool[pool.length - 1] : rng.pick(pool);
      switch (rng.int(0, 4)) {
        case 0: {
          const k = rng.pick([1, 3]);
          pool.push(
            b.conv2d(x, {
              outChannels: C,
              kernel: k,
              padding: (k - 1) / 2,
              weight: rng.fill(C * C * k * k, -1, 1),
              bias: rng.next() < 0.5 ? rng.fill(C, -1, 1) : null,
              activation: rng.next() < 0.2 ? rng.pick(ACTS) : NO_ACTIVATION,
            }),
          );
          break;
        }
        case 1:
          pool.push(b.batchNorm(x, randomBn(rng, C)));
          break;
        case 2:
          pool.push(b.activation(x, rng.pick(ACTS)));
          break;
        case 3:
          pool.push(b.add(x, rng.pick(pool), undefined, rng.next() < 0.3 ? rng.pick(ACTS) : NO_ACTIVATION));
          break;
        case 4:
          pool.push(b.maxPool(x, { kernel: 3, stride: 1, padding: 1 }));
          break;
      }
    }
    const nOut = rng.int(1, 3);
    for (let i = 0; i < nOut; i++) b.output(i === 0 ? pool[pool.length - 1] : rng.pick(pool));
    return b.build();
  }

  it('500 random graphs: valid, no batch norm left, never more nodes, same outputs', () => {
    let fused = 0;
    for (let seed = 1; seed <= 500; seed++) {
      const g = randomGraph(seed);
      const out = optimizeGraph(g);
      expect(count(out, 'batchNorm')).toBe(0);
      expect(out.nodes.length).toBeLessThanOrEqual(g.nodes.length);
      expect(out.outputs).toEqual(g.outputs);
      fused += g.nodes.length - out.nodes.length;
      expectSameFunction(out, g, 1e-5, seed);
    }
    expect(fused).toBeGreaterThan(300);
  });
});
