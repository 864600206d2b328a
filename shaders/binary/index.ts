import type { BinaryConstant, BinaryNode, Shape4 } from '../../src/graph/ir.ts';
import { c4 } from '../../src/runtime/pack-weights.ts';
import type { BufferRef } from '../../src/runtime/step.ts';
import { activationUniforms, constant, tensor } from '../../src/runtime/step.ts';
import { ceilDiv } from '../common.ts';
import type { FixedKernelFamily, NodeView } from '../family.ts';
import { NO_VARIANTS } from '../family.ts';
import { uniformValues } from '../uniforms.ts';
import type { BinaryProgramSpec, OperandMode } from './wgsl.ts';
import { BINARY_UNIFORMS, binaryProgram } from './wgsl.ts';

/** `[a shape, b shape]` of a binary node, the constant's in its place. */
function operandShapes(view: NodeView<BinaryNode>): [Shape4, Shape4] {
  const k = view.node.attrs.constant;
  if (!k) return [view.inShapes[0], view.inShapes[1]];
  return k.operand === 0 ? [k.shape, view.inShape] : [view.inShape, k.shape];
}

function programSpec(view: NodeView<BinaryNode>): BinaryProgramSpec {
  const shapes = operandShapes(view);
  const k = view.node.attrs.constant;
  const mode = (i: 0 | 1): OperandMode =>
    k?.operand === i ? 'constant' : shapes[i].join() === view.outShape.join() ? 'same' : 'broadcast';
  return { op: view.node.attrs.op, a: mode(0), b: mode(1) };
}

/** A constant operand packed as f32 NHWC4 of its own shape (padding lanes 0). */
export function packBinaryConstant(k: BinaryConstant): Float32Array {
  const [N, C, H, W] = k.shape;
  const C4 = c4(C);
  const out = new Float32Array(N * H * W * C4 * 4);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++) out[((n * H + y) * W + x) * C4 * 4 + c] = k.values[((n * C + c) * H + y) * W + x];
  return out;
}

/** Every `binary` node: one output vec4 per invocation, broadcasting, the clamp fused. */
export const binaryFamily: FixedKernelFamily<BinaryNode> = {
  name: 'binary',
  supports: (view): view is NodeView<BinaryNode> => view.node.op === 'binary',
  variants: () => NO_VARIANTS,
  check: () => null,
  program: (view, _, precision) => binaryProgram(programSpec(view), precision),
  launch(view, _, precision) {
    const { node } = view;
    const [[aN, aC, aH, aW], [bN, bC, bH, bW]] = operandShapes(view);
    const [n, outC, outH, outW] = view.outShape;
    const total = n * outH * outW * c4(outC);
    const k = node.attrs.constant;
    const refs: BufferRef[] = node.inputs.map(tensor);
    if (k) refs.splice(k.operand, 0, constant(packBinaryConstant(k)));
    return [{
      kind: 'elementwise',
      program: this.program(view, undefined, precision),
      uniforms: uniformValues(BINARY_UNIFORMS, {
        total, outC, outC4: c4(outC), outH, outW, aN, aC, aH, aW, bN, bC, bH, bW, ...activationUniforms(node.attrs.activation),
      }),
      workgroups: ceilDiv(total, 64),
      buffers: { lhs: refs[0], rhs: refs[1], dst: tensor(node.output) },
      macs: 0,
    }];
  },
};
