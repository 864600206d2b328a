/**
 * Fuzz seed for grouped convolutions (RegNet / ResNeXt / ShuffleNet shapes, run by the grouped family): a 3x3
 * stride-2 conv of 4 groups with odd widths (3 in, 5 out per group), ReLU, then a grouped 1x1 of 2 groups (10 in,
 * 8 out per group). Deterministic, small, and it loads as written.
 */
import { attr, encodeModel, makeGraph, makeModel, makeNode, makeTensor, makeValueInfo } from '../../src/formats/onnx/writer.ts';
import { Rng } from '../../src/util/random.ts';

const f32 = (rng: Rng, n: number) => Array.from({ length: n }, () => rng.uniform(-0.5, 0.5));

export function onnxGroupedNet(seed: number): Uint8Array {
  const rng = new Rng(seed);
  const graph = makeGraph({
    nodes: [
      makeNode('Conv', ['x', 'w1', 'b1'], ['c1'], { kernel_shape: attr.ints([3, 3]), strides: attr.ints([2, 2]), pads: attr.ints([1, 1, 1, 1]), group: attr.int(4) }, 'grouped3x3'),
      makeNode('Relu', ['c1'], ['r1'], {}, 'relu'),
      makeNode('Conv', ['r1', 'w2'], ['out'], { kernel_shape: attr.ints([1, 1]), group: attr.int(2) }, 'grouped1x1'),
    ],
    inputs: [makeValueInfo('x', [1, 12, 7, 7])],
    outputs: [makeValueInfo('out', [1, 16, 4, 4])],
    initializers: [
      makeTensor('w1', [20, 3, 3, 3], f32(rng, 20 * 3 * 9)),
      makeTensor('b1', [20], f32(rng, 20)),
      makeTensor('w2', [16, 10, 1, 1], f32(rng, 16 * 10)),
    ],
  });
  return encodeModel(makeModel({ opset: 13, graph, metadata: { author: 'webcnn fuzz' } }));
}
