import { describe, expect, it } from 'vitest';
import { ShapeError } from '../errors.ts';
import type { Graph, OpType } from '../graph/ir.ts';
import { countParams, mapParams, randomParams } from './params.ts';
import { resnet, resnet50, resnet50ParamShapes, resnetParamShapes } from './resnet.ts';

const count = (g: Graph, op: OpType) => g.nodes.filter((n) => n.op === op).length;
const outShape = (g: Graph) => g.tensors[g.outputs[0]].shape;

describe('resnet50', () => {
  const specs = resnet50ParamShapes();
  const byName = new Map(specs.map((s) => [s.name, s.shape]));

  it("has torchvision's parameter count: 25,557,032 (+ 53,120 BN buffer values)", () => {
    expect(countParams(specs)).toEqual({ parameters: 25_557_032, buffers: 53_120, tensors: 267 });
    expect(specs.filter((s) => s.shape.length === 4)).toHaveLength(53);
  });

  it('uses torchvision names and shapes', () => {
    expect(byName.get('conv1.weight')).toEqual([64, 3, 7, 7]);
    expect(byName.get('bn1.running_var')).toEqual([64]);
    expect(byName.get('layer1.0.conv1.weight')).toEqual([64, 64, 1, 1]);
    expect(byName.get('layer1.0.downsample.0.weight')).toEqual([256, 64, 1, 1]);
    expect(byName.get('layer1.0.downsample.1.weight')).toEqual([256]);
    expect(byName.get('layer1.1.conv1.weight')).toEqual([64, 256, 1, 1]);
    expect(byName.has('layer1.1.downsample.0.weight')).toBe(false);
    expect(byName.get('layer2.0.conv2.weight')).toEqual([128, 128, 3, 3]);
    expect(byName.get('layer2.0.downsample.0.weight')).toEqual([512, 256, 1, 1]);
    expect(byName.get('layer3.5.bn3.bias')).toEqual([1024]);
    expect(byName.has('layer3.6.conv1.weight')).toBe(false);
    expect(byName.get('layer4.0.downsample.0.weight')).toEqual([2048, 1024, 1, 1]);
    expect(byName.get('layer4.2.conv3.weight')).toEqual([2048, 512, 1, 1]);
    expect(byName.get('fc.weight')).toEqual([1000, 2048]);
    expect(byName.get('fc.bias')).toEqual([1000]);
    const downsamples = specs.filter((s) => s.name.endsWith('downsample.0.weight')).map((s) => s.name);
    expect(downsamples).toEqual(['layer1.0', 'layer2.0', 'layer3.0', 'layer4.0'].map((p) => `${p}.downsample.0.weight`));
  });

  it('builds the unfused graph with logits [batch, 1000, 1, 1]', () => {
    const g = resnet50({ params: randomParams(1), batch: 2 });
    expect(g.tensors[g.inputs[0]]).toMatchObject({ name: 'input', shape: [2, 3, 224, 224] });
    expect(outShape(g)).toEqual([2, 1000, 1, 1]);
    expect(count(g, 'conv2d')).toBe(53);
    expect(count(g, 'batchNorm')).toBe(53);
    expect(count(g, 'activation')).toBe(1 + 16 * 3);
    expect(count(g, 'add')).toBe(16);
    expect(count(g, 'maxPool')).toBe(1);
    expect(count(g, 'globalAvgPool')).toBe(1);
    expect(count(g, 'linear')).toBe(1);
    for (const n of g.nodes) {
      if (n.op === 'conv2d') expect(n.attrs.bias).toBeNull();
      if (n.op === 'activation') expect(n.attrs.activation.kind).toBe('relu');
      if (n.op === 'add') expect(n.attrs.activation.kind).toBe('none');
    }
    const find = (name: string) => g.nodes.find((n) => n.name === name)!;
    const shapeOf = (name: string) => g.tensors[find(name).output].shape;
    expect(find('conv1')).toMatchObject({ op: 'conv2d', attrs: { kernel: [7, 7], stride: [2, 2], pads: [3, 3, 3, 3] } });
    expect(find('maxpool')).toMatchObject({ op: 'maxPool', attrs: { kernel: [3, 3], stride: [2, 2], pads: [1, 1, 1, 1] } });
    expect(shapeOf('relu')).toEqual([2, 64, 112, 112]);
    expect(shapeOf('maxpool')).toEqual([2, 64, 56, 56]);
    expect(shapeOf('layer1.2.relu_2')).toEqual([2, 256, 56, 56]);
    expect(shapeOf('layer2.3.relu_2')).toEqual([2, 512, 28, 28]);
    expect(shapeOf('layer3.5.relu_2')).toEqual([2, 1024, 14, 14]);
    expect(shapeOf('layer4.2.relu_2')).toEqual([2, 2048, 7, 7]);
    expect(shapeOf('avgpool')).toEqual([2, 2048, 1, 1]);
    // v1.5: the stride-2 conv of a downsampling block is conv2, not conv1.
    expect(find('layer2.0.conv1')).toMatchObject({ attrs: { stride: [1, 1] } });
    expect(find('layer2.0.conv2')).toMatchObject({ attrs: { stride: [2, 2] } });
    expect(g.nodes.at(-1)!.name).toBe('fc');
  });

  it('appends softmax and supports other sizes and class counts', () => {
    const g = resnet50({ params: randomParams(1), inputSize: 64, numClasses: 10, softmax: true });
    expect(outShape(g)).toEqual([1, 10, 1, 1]);
    expect(g.nodes.at(-1)).toMatchObject({ op: 'softmax', name: 'softmax' });
  });

  it('reads every entry of a full state_dict', () => {
    const record = new Map(specs.map((s) => [s.name, new Float32Array(s.shape.reduce((a, b) => a * b, 1))]));
    for (const s of specs) if (s.name.endsWith('running_var')) record.get(s.name)!.fill(1);
    const params = mapParams(record);
    resnet50({ params, inputSize: 32 });
    expect(params.unusedNames()).toEqual([]);
    record.delete('layer3.2.conv2.weight');
    expect(() => resnet50({ params: mapParams(record), inputSize: 32 })).toThrow(
      'missing parameter "layer3.2.conv2.weight" (expected shape [256, 256, 3, 3])',
    );
  });
});

describe('resnet (generic)', () => {
  it('builds smaller Bottleneck ResNets', () => {
    const g = resnet({ layers: [1, 1, 1, 1], params: randomParams(2), inputSize: 32, numClasses: 7 });
    expect(outShape(g)).toEqual([1, 7, 1, 1]);
    expect(count(g, 'add')).toBe(4);
    expect(count(g, 'conv2d')).toBe(1 + 4 * 4);
    const specs = resnetParamShapes({ layers: [2, 1, 1, 1] });
    const names = specs.map((s) => s.name);
    expect(names).toContain('layer1.1.conv3.weight');
    expect(names).not.toContain('layer1.1.downsample.0.weight');
    expect(names).not.toContain('layer2.1.conv1.weight');
  });

  it('resnet101 layout has 44,549,160 parameters', () => {
    expect(countParams(resnetParamShapes({ layers: [3, 4, 23, 3] })).parameters).toBe(44_549_160);
  });

  it('supports narrow widths for fast tests', () => {
    const g = resnet({ layers: [1, 1, 1, 1], widths: [4, 8, 8, 16], stemChannels: 8, params: randomParams(2), inputSize: 32 });
    expect(outShape(g)).toEqual([1, 1000, 1, 1]);
    const fc = g.nodes.at(-1)!;
    expect(fc.op === 'linear' && fc.attrs.weight.length).toBe(1000 * 64);
  });

  it('rejects bad layer lists', () => {
    expect(() => resnet({ layers: [3, 0, 6, 3], params: randomParams(1) })).toThrow(ShapeError);
  });
});
