import { describe, expect, it } from 'vitest';
import { ModelFormatError, ShapeError } from '../errors.ts';
import type { Graph, OpType } from '../graph/ir.ts';
import { countParams, mapParams, randomParams } from './params.ts';
import { makeDivisible, mobilenetV2, mobilenetV2Config, mobilenetV2ParamShapes } from './mobilenet-v2.ts';

const count = (g: Graph, op: OpType) => g.nodes.filter((n) => n.op === op).length;
const outShape = (g: Graph) => g.tensors[g.outputs[0]].shape;

describe('makeDivisible', () => {
  it('matches torchvision _make_divisible', () => {
    expect(makeDivisible(32, 8)).toBe(32);
    expect(makeDivisible(11.2, 8)).toBe(16); // 8 < 0.9 * 11.2, so one more step
    expect(makeDivisible(5.6, 8)).toBe(8);
    expect(makeDivisible(22.4, 8)).toBe(24);
    expect(makeDivisible(33.6, 8)).toBe(32);
    expect(makeDivisible(1792, 8)).toBe(1792);
    expect(makeDivisible(3, 8, 1)).toBe(9); // max(1, 0) = 1 < 2.7, plus one step
  });
});

describe('mobilenetV2', () => {
  const specs = mobilenetV2ParamShapes();
  const byName = new Map(specs.map((s) => [s.name, s.shape]));

  it("has torchvision's parameter count: 3,504,872 (+ 34,112 BN buffer values)", () => {
    expect(countParams(specs)).toEqual({ parameters: 3_504_872, buffers: 34_112, tensors: 262 });
    // 52 conv weights, 52 BNs x 4 tensors, classifier weight + bias (torchvision's 314 state_dict keys
    // less the 52 num_batches_tracked).
    expect(specs.filter((s) => s.shape.length === 4)).toHaveLength(52);
  });

  it('uses torchvision names and shapes', () => {
    expect(byName.get('features.0.0.weight')).toEqual([32, 3, 3, 3]);
    expect(byName.get('features.1.conv.0.0.weight')).toEqual([32, 1, 3, 3]);
    expect(byName.get('features.1.conv.1.weight')).toEqual([16, 32, 1, 1]);
    expect(byName.get('features.1.conv.2.running_var')).toEqual([16]);
    expect(byName.get('features.2.conv.0.0.weight')).toEqual([96, 16, 1, 1]);
    expect(byName.get('features.2.conv.1.0.weight')).toEqual([96, 1, 3, 3]);
    expect(byName.get('features.2.conv.2.weight')).toEqual([24, 96, 1, 1]);
    expect(byName.get('features.2.conv.3.bias')).toEqual([24]);
    expect(byName.get('features.17.conv.2.weight')).toEqual([320, 960, 1, 1]);
    expect(byName.get('features.18.0.weight')).toEqual([1280, 320, 1, 1]);
    expect(byName.get('features.18.1.running_mean')).toEqual([1280]);
    expect(byName.get('classifier.1.weight')).toEqual([1000, 1280]);
    expect(byName.get('classifier.1.bias')).toEqual([1000]);
    expect(byName.has('features.19.0.weight')).toBe(false);
  });

  it('builds the unfused graph with logits [batch, numClasses, 1, 1]', () => {
    const g = mobilenetV2({ params: randomParams(1), batch: 2, inputSize: 224 });
    expect(g.inputs).toHaveLength(1);
    expect(g.tensors[g.inputs[0]]).toMatchObject({ name: 'input', shape: [2, 3, 224, 224] });
    expect(outShape(g)).toEqual([2, 1000, 1, 1]);
    expect(count(g, 'conv2d')).toBe(52);
    expect(count(g, 'batchNorm')).toBe(52);
    expect(count(g, 'activation')).toBe(35); // stem, 1 + 16 * 2 in blocks, features.18
    expect(count(g, 'add')).toBe(10);
    expect(count(g, 'globalAvgPool')).toBe(1);
    expect(count(g, 'flatten')).toBe(1);
    expect(count(g, 'linear')).toBe(1);
    expect(count(g, 'softmax')).toBe(0);
    for (const n of g.nodes) {
      if (n.op === 'conv2d') expect(n.attrs.bias).toBeNull();
      if (n.op === 'activation') expect(n.attrs.activation.kind).toBe('relu6');
    }
    const adds = g.nodes.filter((n) => n.op === 'add').map((n) => n.name);
    expect(adds).toEqual([3, 5, 6, 8, 9, 10, 12, 13, 15, 16].map((i) => `features.${i}.add`));
    const shapeOf = (name: string) => g.tensors[g.nodes.find((n) => n.name === name)!.output].shape;
    expect(shapeOf('features.0.2')).toEqual([2, 32, 112, 112]);
    expect(shapeOf('features.17.conv.3')).toEqual([2, 320, 7, 7]);
    expect(shapeOf('features.18.2')).toEqual([2, 1280, 7, 7]);
    expect(g.nodes.at(-1)!.name).toBe('classifier.1');
  });

  it('appends softmax and supports other sizes and class counts', () => {
    const g = mobilenetV2({ params: randomParams(1), inputSize: 96, numClasses: 10, softmax: true });
    expect(outShape(g)).toEqual([1, 10, 1, 1]);
    expect(g.nodes.at(-1)).toMatchObject({ op: 'softmax', name: 'softmax' });
    expect(mobilenetV2({ params: randomParams(1), inputSize: 33 }).tensors.find((t) => t.name === 'features.18.2')!.shape).toEqual([
      1, 1280, 2, 2,
    ]);
  });

  it('reads every parameter of a full state_dict', () => {
    const record = Object.fromEntries(specs.map((s) => [s.name, randomParams(4).get(s.name, s.shape)]));
    const params = mapParams({ ...record, 'features.0.1.num_batches_tracked': new Float32Array(1) });
    mobilenetV2({ params, inputSize: 32 });
    expect(params.unusedNames()).toEqual(['features.0.1.num_batches_tracked']);
  });

  it('reports a missing or mis-sized parameter by name', () => {
    const record = Object.fromEntries(specs.map((s) => [s.name, new Float32Array(s.shape.reduce((a, b) => a * b, 1))]));
    delete record['features.5.conv.1.1.running_var'];
    expect(() => mobilenetV2({ params: mapParams(record), inputSize: 32 })).toThrow(/features\.5\.conv\.1\.1\.running_var/);
    expect(() => mobilenetV2({ params: mapParams(record), inputSize: 32 })).toThrow(ModelFormatError);
    expect(() =>
      mobilenetV2({ params: mapParams({ ...record, 'features.5.conv.1.1.running_var': new Float32Array(192) }), numClasses: 10 }),
    ).toThrow('parameter "classifier.1.weight" has 1280000 values, expected 12800 (shape [10, 1280])');
  });

  it.each([
    [0.35, 16, [8, 8, 16, 24, 32, 56, 112], 1280],
    [0.5, 16, [8, 16, 16, 32, 48, 80, 160], 1280],
    [0.75, 24, [16, 24, 24, 48, 72, 120, 240], 1280],
    [1.0, 32, [16, 24, 32, 64, 96, 160, 320], 1280],
    [1.4, 48, [24, 32, 48, 88, 136, 224, 448], 1792],
  ])('widthMultiplier %d gives torchvision channels', (w, stem, stages, last) => {
    const cfg = mobilenetV2Config({ widthMultiplier: w });
    expect(cfg.stemChannels).toBe(stem);
    expect(cfg.lastChannel).toBe(last);
    const firsts = [0, 1, 3, 6, 10, 13, 16].map((i) => cfg.blocks[i].outC);
    expect(firsts).toEqual(stages);
    expect(cfg.blocks).toHaveLength(17);
    const g = mobilenetV2({ params: randomParams(1), widthMultiplier: w, inputSize: 32 });
    expect(outShape(g)).toEqual([1, 1000, 1, 1]);
    const shapes = new Map(mobilenetV2ParamShapes({ widthMultiplier: w }).map((s) => [s.name, s.shape]));
    expect(shapes.get('features.0.0.weight')).toEqual([stem, 3, 3, 3]);
    expect(shapes.get('features.18.0.weight')).toEqual([last, stages[6], 1, 1]);
    expect(shapes.get('classifier.1.weight')).toEqual([1000, last]);
  });

  it('keeps the block count for any width and rejects bad options', () => {
    expect(mobilenetV2ParamShapes({ widthMultiplier: 0.5 }).some((s) => s.name === 'features.18.0.weight')).toBe(true);
    expect(() => mobilenetV2Config({ widthMultiplier: 0 })).toThrow(ShapeError);
    expect(() => mobilenetV2Config({ numClasses: 0 })).toThrow(ShapeError);
    expect(() => mobilenetV2({ params: randomParams(1), inputSize: 0 })).toThrow(ShapeError);
  });
});
