/**
 * Fuzz seed for Gather / Unsqueeze on channels (GoogLeNet's transform_input) and ShuffleNet's channel shuffle
 * (rank-5 Reshape -> Transpose -> Reshape) with a Split and a folded permutation. Deterministic; loads as written.
 */
import { DataType } from '../../src/formats/onnx/proto.ts';
import { attr, encodeModel, makeGraph, makeModel, makeNode, makeTensor, makeValueInfo } from '../../src/formats/onnx/writer.ts';
import { Rng } from '../../src/util/random.ts';

/**
 * x[:, 1] -> Unsqueeze -> Mul -> Concat with x -> Conv -> shuffle -> Split -> Conv on one half -> Concat ->
 * shuffle -> Conv (the permutation folds into it) -> GlobalAveragePool -> Squeeze.
 */
export function onnxShuffleNet(seed: number): Uint8Array {
  const rng = new Rng(seed);
  const f32 = (n: number) => Array.from({ length: n }, () => rng.uniform(-1, 1));
  const ints = (name: string, dims: number[], v: number[]) => makeTensor(name, dims, v, DataType.INT64);
  const shuffle = (from: string, to: string, k: number) => [
    makeNode('Reshape', [from, 'to5'], [`${to}5`], {}, `shuffle${k}/reshape`),
    makeNode('Transpose', [`${to}5`], [`${to}t`], { perm: attr.ints([0, 2, 1, 3, 4]) }, `shuffle${k}/transpose`),
    makeNode('Reshape', [`${to}t`, 'to4'], [to], {}, `shuffle${k}/reshape1`),
  ];
  const graph = makeGraph({
    nodes: [
      makeNode('Gather', ['x', 'index'], ['g'], { axis: attr.int(1) }, 'gather'),
      makeNode('Unsqueeze', ['g', 'axis1'], ['u'], {}, 'unsqueeze'),
      makeNode('Mul', ['u', 'half'], ['m'], {}, 'mul'),
      makeNode('Concat', ['m', 'x'], ['cat0'], { axis: attr.int(1) }, 'concat0'),
      makeNode('Conv', ['cat0', 'w1'], ['c1'], { kernel_shape: attr.ints([1, 1]) }, 'conv1'),
      ...shuffle('c1', 's1', 1),
      makeNode('Split', ['s1'], ['a', 'b'], { axis: attr.int(1) }, 'split'),
      makeNode('Conv', ['b', 'w2'], ['bc'], { kernel_shape: attr.ints([3, 3]), pads: attr.ints([1, 1, 1, 1]) }, 'conv2'),
      makeNode('Concat', ['a', 'bc'], ['cat1'], { axis: attr.int(1) }, 'concat1'),
      ...shuffle('cat1', 's2', 2),
      makeNode('Conv', ['s2', 'w3'], ['c3'], { kernel_shape: attr.ints([1, 1]) }, 'conv3'),
      makeNode('GlobalAveragePool', ['c3'], ['gap'], {}, 'gap'),
      makeNode('Squeeze', ['gap', 'axes23'], ['out'], {}, 'squeeze'),
    ],
    inputs: [makeValueInfo('x', [1, 3, 6, 6])],
    outputs: [makeValueInfo('out', [1, 5])],
    initializers: [
      ints('index', [], [1]),
      ints('axis1', [1], [1]),
      makeTensor('half', [], [0.5]),
      makeTensor('w1', [8, 4, 1, 1], f32(32)),
      ints('to5', [5], [1, 2, 4, 6, 6]),
      ints('to4', [4], [1, 8, 6, 6]),
      makeTensor('w2', [4, 4, 3, 3], f32(144)),
      makeTensor('w3', [5, 8, 1, 1], f32(40)),
      ints('axes23', [2], [2, 3]),
    ],
  });
  return encodeModel(makeModel({ opset: 13, graph, metadata: { author: 'webcnn fuzz' } }));
}
