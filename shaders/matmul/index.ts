import type { MatMulNode, Shape4 } from '../../src/graph/ir.ts';
import { matMulDims } from '../../src/graph/matmul-shapes.ts';
import { c4 } from '../../src/runtime/pack-weights.ts';
import type { BufferRef } from '../../src/runtime/step.ts';
import { constant, tensor } from '../../src/runtime/step.ts';
import { packBinaryConstant } from '../binary/index.ts';
import { ceilDiv } from '../common.ts';
import type { FixedKernelFamily, NodeView } from '../family.ts';
import { NO_VARIANTS } from '../family.ts';
import { uniformValues } from '../uniforms.ts';
import type { MatMulBiasMode } from './wgsl.ts';
import { MATMUL_TILE, MATMUL_UNIFORMS, matMulProgram } from './wgsl.ts';

function biasMode(node: MatMulNode): MatMulBiasMode {
  return node.inputs.length > 2 ? 'tensor' : node.attrs.bias ? 'constant' : 'none';
}

/** Batch vec4 stride and the row / column vec4 strides of an NHWC4 operand, as its transpose flag reads it. */
function strides(s: Shape4, transposed: boolean): { batch: number; row: number; col: number } {
  const C4 = c4(s[1]);
  const [row, col] = [s[3] * C4, C4];
  return { batch: s[2] * s[3] * C4, row: transposed ? col : row, col: transposed ? row : col };
}

/** `matMul` nodes (ONNX MatMul / Gemm of computed operands): a 4 x 4 register tile per invocation. */
export const matMulFamily: FixedKernelFamily<MatMulNode> = {
  name: 'matmul',
  supports: (view): view is NodeView<MatMulNode> => view.node.op === 'matMul',
  variants: () => NO_VARIANTS,
  check: () => null,
  program: (view, _, precision) => matMulProgram(biasMode(view.node), precision),
  launch(view, _, precision) {
    const { node } = view;
    const { attrs } = node;
    const [aShape, bShape, cShape] = view.inShapes;
    const [M, K, N] = matMulDims(aShape, bShape, attrs, node.name);
    const [n, outC] = view.outShape;
    const tilesM = ceilDiv(M, MATMUL_TILE);
    const tilesN = ceilDiv(N, MATMUL_TILE);
    const total = n * c4(outC) * tilesM * tilesN;
    const a = strides(aShape, attrs.transA);
    const b = strides(bShape, attrs.transB);
    const mode = biasMode(node);
    const c = cShape ?? attrs.bias?.shape ?? [1, 1, 1, 1];
    const buffers: Record<string, BufferRef> = { lhs: tensor(node.inputs[0]), rhs: tensor(node.inputs[1]), dst: tensor(node.output) };
    if (mode === 'tensor') buffers.bias = tensor(node.inputs[2]);
    if (mode === 'constant' && attrs.bias) buffers.bias = constant(packBinaryConstant({ operand: 1, ...attrs.bias }));
    return [{
      kind: 'elementwise',
      program: this.program(view, undefined, precision),
      uniforms: uniformValues(MATMUL_UNIFORMS, {
        total, M, N, K, tilesM, tilesN, outC, outC4: c4(outC),
        aN: aShape[0], aC: aShape[1], aBatch: a.batch, aRow: a.row, aCol: a.col,
        bN: bShape[0], bC: bShape[1], bBatch: b.batch, bRow: b.row, bCol: b.col,
        cN: c[0], cC: c[1], cH: c[2], cW: c[3], alpha: attrs.alpha, beta: attrs.beta,
      }),
      workgroups: ceilDiv(total, 64),
      buffers,
      macs: n * outC * M * N * K,
    }];
  },
};
