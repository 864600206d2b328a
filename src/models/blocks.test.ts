import { describe, expect, it } from 'vitest';
import { ShapeError } from '../errors.ts';
import { GraphBuilder } from '../graph/builder.ts';
import type { Graph, GraphNode, OpType } from '../graph/ir.ts';
import {
  buildBottleneckGraph,
  buildInvertedResidualGraph,
  convBNReLU,
  invertedResidual,
  pythonRound,
} from './blocks.ts';
import { buildUnchainedBottleneckGraph } from './bottleneck-unchained.ts';
import { randomParams, recordParamShapes } from './params.ts';

const count = (g: Graph, op: OpType) => g.nodes.filter((n) => n.op === op).length;
const node = (g: Graph, name: string): GraphNode => {
  const found = g.nodes.filter((n) => n.name === name);
  expect(found, name).toHaveLength(1);
  return found[0];
};
/** Name of the node producing tensor `id`, or `input`. */
const producer = (g: Graph, id: number) => g.nodes.find((n) => n.output === id)?.name ?? g.tensors[id].name;
const outShape = (g: Graph) => g.tensors[g.outputs[0]].shape;

describe('convBNReLU', () => {
  function build(activation: 'relu' | 'relu6' | 'none', stride = 1, groups = 1) {
    const b = new GraphBuilder();
    const x = b.input('input', [2, 8, 10, 10]);
    b.output(convBNReLU(b, x, randomParams(1), 'f.0', { inC: 8, outC: 16, kernel: 3, stride, groups, activation }));
    return b.build();
  }

  it('adds conv (no bias, pad (k-1)/2) -> batchNorm -> activation, named by module path', () => {
    const g = build('relu6', 2);
    expect(g.nodes.map((n) => [n.name, n.op])).toEqual([
      ['f.0.0', 'conv2d'],
      ['f.0.1', 'batchNorm'],
      ['f.0.2', 'activation'],
    ]);
    const conv = node(g, 'f.0.0');
    if (conv.op !== 'conv2d') throw new Error();
    expect(conv.attrs.bias).toBeNull();
    expect(conv.attrs.pads).toEqual([1, 1, 1, 1]);
    expect(conv.attrs.activation.kind).toBe('none');
    const act = node(g, 'f.0.2');
    expect(act.op === 'activation' && act.attrs.activation.kind).toBe('relu6');
    expect(outShape(g)).toEqual([2, 16, 5, 5]);
  });

  it('supports relu, none and groups', () => {
    expect(node(build('relu'), 'f.0.2').op === 'activation').toBe(true);
    const none = build('none');
    expect(none.nodes.map((n) => n.op)).toEqual(['conv2d', 'batchNorm']);
    const grouped = build('relu', 1, 4);
    const conv = grouped.nodes[0];
    expect(conv.op === 'conv2d' && conv.attrs.weight.length).toBe(16 * 2 * 9);
  });

  it('reads torchvision names', () => {
    const specs = recordParamShapes((p) => {
      const b = new GraphBuilder();
      convBNReLU(b, b.input('input', [1, 3, 8, 8]), p, 'features.0', { inC: 3, outC: 32, kernel: 3, stride: 2 });
    });
    expect(specs).toEqual([
      { name: 'features.0.0.weight', shape: [32, 3, 3, 3] },
      { name: 'features.0.1.weight', shape: [32] },
      { name: 'features.0.1.bias', shape: [32] },
      { name: 'features.0.1.running_mean', shape: [32] },
      { name: 'features.0.1.running_var', shape: [32] },
    ]);
  });

  it('checks the input channels', () => {
    const b = new GraphBuilder();
    const x = b.input('input', [1, 4, 8, 8]);
    expect(() => convBNReLU(b, x, randomParams(1), 'f', { inC: 3, outC: 8, kernel: 1 })).toThrow(ShapeError);
  });
});

describe('invertedResidual', () => {
  const ir = (inC: number, outC: number, stride: number, expandRatio: number) =>
    buildInvertedResidualGraph(randomParams(2), { inC, outC, stride, expandRatio, inputShape: [1, inC, 8, 8], prefix: 'features.3' });

  it('t=1: depthwise conv.0, pw conv.1 weight, BN conv.2, no expand layer', () => {
    const specs = recordParamShapes((p) =>
      buildInvertedResidualGraph(p, { inC: 32, outC: 16, stride: 1, expandRatio: 1, inputShape: [1, 32, 8, 8], prefix: 'features.1' }),
    );
    expect(specs.filter((s) => s.name.endsWith('.weight')).map((s) => [s.name, s.shape])).toEqual([
      ['features.1.conv.0.0.weight', [32, 1, 3, 3]],
      ['features.1.conv.0.1.weight', [32]],
      ['features.1.conv.1.weight', [16, 32, 1, 1]],
      ['features.1.conv.2.weight', [16]],
    ]);
    const g = ir(32, 16, 1, 1);
    expect(count(g, 'conv2d')).toBe(2);
    expect(count(g, 'add')).toBe(0);
    expect(outShape(g)).toEqual([1, 16, 8, 8]);
  });

  it('t=1 with inC == outC has a shortcut', () => {
    const g = ir(16, 16, 1, 1);
    expect(count(g, 'add')).toBe(1);
  });

  it('t=6 stride 1, inC == outC: expand conv.0, dw conv.1, pw conv.2, BN conv.3, shortcut add', () => {
    const g = ir(24, 24, 1, 6);
    expect(g.nodes.map((n) => n.name)).toEqual([
      'features.3.conv.0.0',
      'features.3.conv.0.1',
      'features.3.conv.0.2',
      'features.3.conv.1.0',
      'features.3.conv.1.1',
      'features.3.conv.1.2',
      'features.3.conv.2',
      'features.3.conv.3',
      'features.3.add',
    ]);
    expect(count(g, 'add')).toBe(1);
    const add = node(g, 'features.3.add');
    expect(add.inputs.map((id) => producer(g, id))).toEqual(['input', 'features.3.conv.3']);
    const dw = node(g, 'features.3.conv.1.0');
    expect(dw.op === 'conv2d' && dw.attrs.groups).toBe(144);
    for (const n of g.nodes) if (n.op === 'activation') expect(n.attrs.activation.kind).toBe('relu6');
    expect(node(g, 'features.3.conv.2').op).toBe('conv2d');
    expect(node(g, 'features.3.conv.3').op).toBe('batchNorm');
    expect(outShape(g)).toEqual([1, 24, 8, 8]);
  });

  it('stride 2 has no shortcut', () => {
    const g = ir(24, 24, 2, 6);
    expect(count(g, 'add')).toBe(0);
    expect(outShape(g)).toEqual([1, 24, 4, 4]);
  });

  it('inC != outC has no shortcut', () => {
    const g = ir(24, 32, 1, 6);
    expect(count(g, 'add')).toBe(0);
    expect(outShape(g)).toEqual([1, 32, 8, 8]);
  });

  it('rounds hidden channels like Python and rejects strides other than 1 and 2', () => {
    expect(pythonRound(2.5)).toBe(2);
    expect(pythonRound(3.5)).toBe(4);
    expect(pythonRound(16 * 6)).toBe(96);
    const specs = recordParamShapes((p) =>
      buildInvertedResidualGraph(p, { inC: 5, outC: 8, stride: 1, expandRatio: 2.5, inputShape: [1, 5, 4, 4] }),
    );
    expect(specs[0]).toEqual({ name: 'block.conv.0.0.weight', shape: [12, 5, 1, 1] }); // round(12.5) = 12
    const b = new GraphBuilder();
    const x = b.input('input', [1, 8, 8, 8]);
    expect(() => invertedResidual(b, x, randomParams(1), 'f', { inC: 8, outC: 8, stride: 3, expandRatio: 6 })).toThrow(ShapeError);
  });
});

describe('bottleneck', () => {
  it('with downsample: chained convs, torchvision names, add + relu', () => {
    const specs = recordParamShapes((p) =>
      buildBottleneckGraph(p, { inC: 64, width: 64, stride: 1, downsample: true, inputShape: [1, 64, 8, 8], prefix: 'layer1.0' }),
    );
    expect(specs.filter((s) => !s.name.includes('.bn') && !/downsample\.1/.test(s.name))).toEqual([
      { name: 'layer1.0.conv1.weight', shape: [64, 64, 1, 1] },
      { name: 'layer1.0.conv2.weight', shape: [64, 64, 3, 3] },
      { name: 'layer1.0.conv3.weight', shape: [256, 64, 1, 1] },
      { name: 'layer1.0.downsample.0.weight', shape: [256, 64, 1, 1] },
    ]);
    expect(specs.filter((s) => s.name.includes('.bn') || s.name.includes('downsample.1')).map((s) => s.name)).toEqual(
      ['bn1', 'bn2', 'bn3', 'downsample.1'].flatMap((m) =>
        ['weight', 'bias', 'running_mean', 'running_var'].map((k) => `layer1.0.${m}.${k}`),
      ),
    );

    const g = buildBottleneckGraph(randomParams(3), {
      inC: 64, width: 64, stride: 1, downsample: true, inputShape: [2, 64, 8, 8], prefix: 'layer1.0',
    });
    const inputOf = (name: string) => node(g, name).inputs.map((id) => producer(g, id));
    expect(inputOf('layer1.0.conv1')).toEqual(['input']);
    expect(inputOf('layer1.0.conv2')).toEqual(['layer1.0.relu']);
    expect(inputOf('layer1.0.conv3')).toEqual(['layer1.0.relu_1']);
    expect(inputOf('layer1.0.downsample.0')).toEqual(['input']);
    expect(inputOf('layer1.0.add')).toEqual(['layer1.0.bn3', 'layer1.0.downsample.1']);
    expect(inputOf('layer1.0.relu_2')).toEqual(['layer1.0.add']);
    expect(producer(g, g.outputs[0])).toBe('layer1.0.relu_2');
    expect(count(g, 'conv2d')).toBe(4);
    expect(count(g, 'batchNorm')).toBe(4);
    expect(count(g, 'activation')).toBe(3);
    expect(count(g, 'add')).toBe(1);
    for (const n of g.nodes) if (n.op === 'conv2d') expect(n.attrs.bias).toBeNull();
    expect(outShape(g)).toEqual([2, 256, 8, 8]);
  });

  it('stride 2 with downsample: stride on conv2 (v1.5) and on the downsample conv', () => {
    const g = buildBottleneckGraph(randomParams(3), { inC: 256, width: 128, stride: 2, downsample: true, inputShape: [1, 256, 8, 8] });
    const stride = (name: string) => {
      const n = node(g, name);
      return n.op === 'conv2d' ? n.attrs.stride : null;
    };
    expect(stride('block.conv1')).toEqual([1, 1]);
    expect(stride('block.conv2')).toEqual([2, 2]);
    expect(stride('block.conv3')).toEqual([1, 1]);
    expect(stride('block.downsample.0')).toEqual([2, 2]);
    const conv2 = node(g, 'block.conv2');
    expect(conv2.op === 'conv2d' && conv2.attrs.pads).toEqual([1, 1, 1, 1]);
    expect(outShape(g)).toEqual([1, 512, 4, 4]);
  });

  it('without downsample: identity is the block input', () => {
    const g = buildBottleneckGraph(randomParams(3), { inC: 256, width: 64, stride: 1, downsample: false, inputShape: [1, 256, 4, 4] });
    expect(count(g, 'conv2d')).toBe(3);
    expect(count(g, 'batchNorm')).toBe(3);
    expect(node(g, 'block.add').inputs.map((id) => producer(g, id))).toEqual(['block.bn3', 'input']);
    expect(outShape(g)).toEqual([1, 256, 4, 4]);
  });

  it('without downsample needs stride 1 and inC == 4 * width', () => {
    const mk = (inC: number, stride: number) => () =>
      buildBottleneckGraph(randomParams(3), { inC, width: 64, stride, downsample: false, inputShape: [1, inC, 4, 4] });
    expect(mk(64, 1)).toThrow(ShapeError);
    expect(mk(256, 2)).toThrow(ShapeError);
  });
});

describe('buildUnchainedBottleneckGraph', () => {
  it('feeds x to every conv (the seed-listing bug) when inC == width', () => {
    const g = buildUnchainedBottleneckGraph(randomParams(3), {
      inC: 16, width: 16, stride: 1, downsample: true, inputShape: [1, 16, 6, 6],
    });
    const inputOf = (name: string) => node(g, name).inputs.map((id) => producer(g, id));
    expect(inputOf('block.conv1')).toEqual(['input']);
    expect(inputOf('block.conv2')).toEqual(['input']);
    expect(inputOf('block.conv3')).toEqual(['input']);
    expect(inputOf('block.add')).toEqual(['block.bn3', 'block.downsample.1']);
    expect(outShape(g)).toEqual([1, 64, 6, 6]);
    // Same parameter names and shapes as the correct block, so both read one ParamSource.
    const names = (build: (p: ReturnType<typeof randomParams>) => unknown) =>
      recordParamShapes(build).map((s) => `${s.name}:${s.shape.join('x')}`).sort();
    const opts = { inC: 16, width: 16, stride: 1, downsample: true, inputShape: [1, 16, 6, 6] as const };
    expect(names((p) => buildUnchainedBottleneckGraph(p, opts))).toEqual(names((p) => buildBottleneckGraph(p, opts)));
  });

  it('can drop the dead conv1/conv2 branch', () => {
    const g = buildUnchainedBottleneckGraph(randomParams(3), {
      inC: 16, width: 16, stride: 1, downsample: true, inputShape: [1, 16, 6, 6], keepDeadNodes: false,
    });
    expect(g.nodes.map((n) => n.name)).toEqual([
      'block.conv3', 'block.bn3', 'block.downsample.0', 'block.downsample.1', 'block.add', 'block.relu_2',
    ]);
  });

  it('throws ShapeError when inC != width', () => {
    for (const keepDeadNodes of [true, false]) {
      expect(() =>
        buildUnchainedBottleneckGraph(randomParams(3), {
          inC: 64, width: 16, stride: 1, downsample: true, inputShape: [1, 64, 6, 6], keepDeadNodes,
        }),
      ).toThrow(ShapeError);
    }
  });
});
