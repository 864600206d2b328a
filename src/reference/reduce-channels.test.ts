import { describe, expect, it } from 'vitest';
import { Rng, expectClose, onnxModel, randomNd, runOnnx } from '../../test/onnx-helpers.ts';
import { attr, makeNode } from '../formats/onnx/index.ts';
import { reduceChannels } from './reduce-channels.ts';

describe('reduceChannels', () => {
  it('the mean and the maximum over the channels of each pixel, by hand', () => {
    // [1, 3, 1, 2]: pixel 0 has channels 1, 4, -2; pixel 1 has 2, 8, 5.
    const x = Float32Array.from([1, 2, 4, 8, -2, 5]);
    expect(Array.from(reduceChannels(x, [1, 3, 1, 2], 'mean').data)).toEqual([1, 5]);
    expect(Array.from(reduceChannels(x, [1, 3, 1, 2], 'max').data)).toEqual([4, 8]);
    expect(reduceChannels(x, [1, 3, 1, 2], 'max').shape).toEqual([1, 1, 1, 2]);
    expect(reduceChannels(Float32Array.from([1, NaN]), [1, 2, 1, 1], 'max').data[0]).toBeNaN();
  });

  it('ONNX ReduceMean / ReduceMax over axis 1 load as one reduceChannels node (keepdims) and match', () => {
    const x = randomNd(new Rng(3), [2, 5, 3, 4]);
    for (const op of ['ReduceMean', 'ReduceMax'] as const) {
      const model = onnxModel({ opset: 13, nodes: [makeNode(op, ['x'], ['y'], { axes: attr.ints([1]) })], inputs: [['x', x.dims]], outputs: [['y', null]] });
      const { model: loaded, outputs } = runOnnx(model, [x.data]);
      expect(loaded.graph.nodes.map((n) => n.op)).toEqual(['reduceChannels']);
      expect(loaded.outputDims).toEqual([[2, 1, 3, 4]]);
      const want = Array.from({ length: 24 }, (_, i) => {
        const [n, p] = [Math.floor(i / 12), i % 12];
        const vals = Array.from({ length: 5 }, (_, c) => x.data[(n * 5 + c) * 12 + p]);
        return op === 'ReduceMax' ? Math.max(...vals) : vals.reduce((a, b) => a + b, 0) / 5;
      });
      expectClose(outputs[0], want);
    }
  });
});
