/**
 * Fuzz seed for load-time shape folding: the subgraphs torchvision's segmentation heads and classifiers export
 * (Shape -> Slice / Gather -> Unsqueeze -> Concat -> Cast -> Resize sizes; Shape -> Gather -> Concat -> Reshape),
 * plus Squeeze, Range and ConstantOfShape. Deterministic, small, and it loads as written.
 */
import { DataType } from '../../src/formats/onnx/proto.ts';
import { attr, encodeModel, makeGraph, makeModel, makeNode, makeTensor, makeValueInfo } from '../../src/formats/onnx/writer.ts';
import { Rng } from '../../src/util/random.ts';

const f32 = (rng: Rng, n: number) => Array.from({ length: n }, () => rng.uniform(-1, 1));
const ints = (name: string, v: number[]) => makeTensor(name, [v.length], v, DataType.INT64);

/** Conv (stride 2) -> Resize back to the input's H, W (sizes folded) -> Add input -> Reshape to [N, -1] (folded). */
export function onnxShapeFoldNet(seed: number): Uint8Array {
  const rng = new Rng(seed);
  const graph = makeGraph({
    nodes: [
      makeNode('Conv', ['x', 'w'], ['c'], { kernel_shape: attr.ints([3, 3]), strides: attr.ints([2, 2]), pads: attr.ints([1, 1, 1, 1]) }, 'conv'),
      makeNode('Shape', ['x'], ['sx'], {}, 'shape_x'),
      makeNode('Slice', ['sx', 'two', 'four', 'zero1'], ['hw'], {}, 'slice_hw'),
      makeNode('Shape', ['c'], ['sc'], {}, 'shape_c'),
      makeNode('Gather', ['sc', 'zero'], ['n'], { axis: attr.int(0) }, 'gather_n'),
      makeNode('Gather', ['sc', 'one'], ['ch'], { axis: attr.int(0) }, 'gather_c'),
      makeNode('Unsqueeze', ['n', 'zero1'], ['n1'], {}, 'unsqueeze_n'),
      makeNode('Unsqueeze', ['ch', 'zero1'], ['c1'], {}, 'unsqueeze_c'),
      makeNode('Cast', ['hw'], ['hwf'], { to: attr.int(DataType.FLOAT) }, 'cast_f'),
      makeNode('Cast', ['hwf'], ['hwi'], { to: attr.int(DataType.INT64) }, 'cast_i'),
      makeNode('Concat', ['n1', 'c1', 'hwi'], ['sizes'], { axis: attr.int(0) }, 'concat_sizes'),
      makeNode('Resize', ['c', '', '', 'sizes'], ['up'], { mode: attr.string('linear') }, 'resize'),
      makeNode('Add', ['up', 'x'], ['sum'], {}, 'add'),
      makeNode('Range', ['r0', 'r1', 'r2'], ['r'], {}, 'range'),
      makeNode('ConstantOfShape', ['r'], ['minus1'], { value: attr.tensor(makeTensor('v', [1], [-1], DataType.INT64)) }, 'fill'),
      makeNode('Squeeze', ['minus1'], ['m'], {}, 'squeeze'),
      makeNode('Unsqueeze', ['m', 'zero1'], ['m1'], {}, 'unsqueeze_m'),
      makeNode('Concat', ['n1', 'm1'], ['flat'], { axis: attr.int(0) }, 'concat_flat'),
      makeNode('Reshape', ['sum', 'flat'], ['out'], {}, 'reshape'),
    ],
    inputs: [makeValueInfo('x', [1, 3, 6, 6])],
    outputs: [makeValueInfo('out', [1, 108])],
    initializers: [
      makeTensor('w', [3, 3, 3, 3], f32(rng, 81)),
      ints('two', [2]),
      ints('four', [4]),
      ints('zero1', [0]),
      makeTensor('zero', [], [0], DataType.INT64),
      makeTensor('one', [], [1], DataType.INT64),
      makeTensor('r0', [], [1], DataType.INT64),
      makeTensor('r1', [], [2], DataType.INT64),
      makeTensor('r2', [], [1], DataType.INT64),
    ],
  });
  return encodeModel(makeModel({ opset: 13, graph, metadata: { author: 'webcnn fuzz' } }));
}
