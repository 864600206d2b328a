import type { ActivationNode, AddNode } from '../../src/graph/ir.ts';
import { c4 } from '../../src/runtime/pack-weights.ts';
import { activationUniforms, tensor } from '../../src/runtime/step.ts';
import { ceilDiv, epilogueActivation } from '../common.ts';
import type { FixedKernelFamily, NodeView } from '../family.ts';
import { NO_VARIANTS } from '../family.ts';
import { uniformValues } from '../uniforms.ts';
import { BROADCAST_ADD_UNIFORMS, ELEMENTWISE_UNIFORMS, broadcastAddProgram, elementwiseProgram } from './wgsl.ts';

/** Every input has the output's shape (compared as text, so this module needs no shape helper of the IR's). */
const sameShapes = (view: NodeView): boolean => view.inShapes.every((s) => s.join() === view.outShape.join());

/** Activation, and add of equal shapes: one output vec4 per invocation, the clamp fused. */
export const elementwiseFamily: FixedKernelFamily<AddNode | ActivationNode> = {
  name: 'elementwise',
  supports: (view): view is NodeView<AddNode | ActivationNode> => (view.node.op === 'add' || view.node.op === 'activation') && sameShapes(view),
  variants: () => NO_VARIANTS,
  check: () => null,
  program: ({ node }, _, precision) => elementwiseProgram(node.op, precision, epilogueActivation(node.attrs.activation).fn),
  launch(view, _, precision) {
    const { node } = view;
    const [n, c, h, w] = view.outShape;
    const total = n * h * w * c4(c);
    return [{
      kind: 'elementwise',
      program: this.program(view, undefined, precision),
      uniforms: uniformValues(ELEMENTWISE_UNIFORMS, { total, ...activationUniforms(node.attrs.activation) }),
      workgroups: ceilDiv(total, 64),
      buffers: { a: tensor(node.inputs[0]), ...(node.op === 'add' ? { b: tensor(node.inputs[1]) } : {}), dst: tensor(node.output) },
      macs: 0,
    }];
  },
};

/** Add with NumPy-style broadcasting over the four axes. */
export const broadcastAddFamily: FixedKernelFamily<AddNode> = {
  name: 'broadcast-add',
  supports: (view): view is NodeView<AddNode> => view.node.op === 'add',
  variants: () => NO_VARIANTS,
  check: () => null,
  program: ({ node }, _, precision) => broadcastAddProgram(precision, epilogueActivation(node.attrs.activation).fn),
  launch(view, _, precision) {
    const { node } = view;
    const [aN, aC, aH, aW] = view.inShapes[0];
    const [bN, bC, bH, bW] = view.inShapes[1];
    const [n, c, outH, outW] = view.outShape;
    const total = n * outH * outW * c4(c);
    return [{
      kind: 'elementwise',
      program: this.program(view, undefined, precision),
      uniforms: uniformValues(BROADCAST_ADD_UNIFORMS, { total, outC4: c4(c), outH, outW, aN, aC, aH, aW, bN, bC, bH, bW, ...activationUniforms(node.attrs.activation) }),
      workgroups: ceilDiv(total, 64),
      buffers: { a: tensor(node.inputs[0]), b: tensor(node.inputs[1]), dst: tensor(node.output) },
      macs: 0,
    }];
  },
};
