/**
 * Fuzz seeds for ConvNeXt's block: depthwise 7x7 conv, Transpose to NHWC, LayerNorm (opset 17 op, or the
 * decomposed chain at opset 13), MatMul + Add, the erf GELU chain, MatMul + Add, Transpose back, layer scale and
 * residual Add. Deterministic, small, and each loads as written.
 */
import type { NodeInit, TensorInit } from '../../src/formats/onnx/writer.ts';
import { attr, encodeModel, makeGraph, makeModel, makeNode, makeTensor, makeValueInfo } from '../../src/formats/onnx/writer.ts';
import { Rng } from '../../src/util/random.ts';

const f32 = (rng: Rng, n: number, lo = -1, hi = 1) => Array.from({ length: n }, () => rng.uniform(lo, hi));

export function onnxConvNextBlock(seed: number, opset: 13 | 17): Uint8Array {
  const rng = new Rng(seed);
  const C = 6;
  const perm = (p: number[]) => ({ perm: attr.ints(p) });
  const axes = { axes: attr.ints([-1]) };
  const norm: NodeInit[] =
    opset === 17
      ? [makeNode('LayerNormalization', ['t', 'gamma', 'beta'], ['ln'], { axis: attr.int(-1), epsilon: attr.float(1e-6) }, 'ln')]
      : [
          makeNode('ReduceMean', ['t'], ['mu'], axes, 'mean'),
          makeNode('Sub', ['t', 'mu'], ['d'], {}, 'sub'),
          makeNode('Pow', ['d', 'two'], ['p'], {}, 'pow'),
          makeNode('ReduceMean', ['p'], ['v'], axes, 'var'),
          makeNode('Add', ['v', 'eps'], ['ve'], {}, 'add_eps'),
          makeNode('Sqrt', ['ve'], ['s'], {}, 'sqrt'),
          makeNode('Div', ['d', 's'], ['nrm'], {}, 'div'),
          makeNode('Mul', ['nrm', 'gamma'], ['m'], {}, 'gamma'),
          makeNode('Add', ['m', 'beta'], ['ln'], {}, 'beta'),
        ];
  const scalar = (name: string, v: number): TensorInit => makeTensor(name, [], [v]);
  const graph = makeGraph({
    nodes: [
      makeNode('Conv', ['x', 'dw', 'dwb'], ['c'], { kernel_shape: attr.ints([7, 7]), pads: attr.ints([3, 3, 3, 3]), group: attr.int(C) }, 'dwconv'),
      makeNode('Transpose', ['c'], ['t'], perm([0, 2, 3, 1]), 'to_nhwc'),
      ...norm,
      makeNode('MatMul', ['ln', 'w1'], ['h1'], {}, 'fc1'),
      makeNode('Add', ['b1', 'h1'], ['h1b'], {}, 'fc1_bias'),
      makeNode('Div', ['h1b', 'sqrt2'], ['gd'], {}, 'gelu_div'),
      makeNode('Erf', ['gd'], ['ge'], {}, 'gelu_erf'),
      makeNode('Add', ['ge', 'one'], ['gp'], {}, 'gelu_add'),
      makeNode('Mul', ['h1b', 'gp'], ['gm'], {}, 'gelu_mul'),
      makeNode('Mul', ['gm', 'half'], ['g'], {}, 'gelu_half'),
      makeNode('MatMul', ['g', 'w2'], ['h2'], {}, 'fc2'),
      makeNode('Add', ['b2', 'h2'], ['h2b'], {}, 'fc2_bias'),
      makeNode('Transpose', ['h2b'], ['back'], perm([0, 3, 1, 2]), 'to_nchw'),
      makeNode('Mul', ['scale', 'back'], ['ls'], {}, 'layer_scale'),
      makeNode('Add', ['ls', 'x'], ['out'], {}, 'residual'),
    ],
    inputs: [makeValueInfo('x', [1, C, 5, 5])],
    outputs: [makeValueInfo('out', [1, C, 5, 5])],
    initializers: [
      makeTensor('dw', [C, 1, 7, 7], f32(rng, C * 49, -0.2, 0.2)),
      makeTensor('dwb', [C], f32(rng, C)),
      makeTensor('gamma', [C], f32(rng, C, 0.5, 1.5)),
      makeTensor('beta', [C], f32(rng, C)),
      makeTensor('w1', [C, 4 * C], f32(rng, 4 * C * C)),
      makeTensor('b1', [4 * C], f32(rng, 4 * C)),
      makeTensor('w2', [4 * C, C], f32(rng, 4 * C * C)),
      makeTensor('b2', [C], f32(rng, C)),
      makeTensor('scale', [C, 1, 1], f32(rng, C, 0.1, 0.5)),
      scalar('sqrt2', Math.SQRT2),
      scalar('one', 1),
      scalar('half', 0.5),
      ...(opset === 13 ? [scalar('two', 2), scalar('eps', 1e-6)] : []),
    ],
  });
  return encodeModel(makeModel({ opset, graph, metadata: { author: 'webcnn fuzz' } }));
}
