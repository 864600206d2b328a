import type { SoftmaxNode } from '../../src/graph/ir.ts';
import { c4 } from '../../src/runtime/pack-weights.ts';
import { tensor } from '../../src/runtime/step.ts';
import { ceilDiv } from '../common.ts';
import type { FixedKernelFamily, NodeView } from '../family.ts';
import { NO_VARIANTS } from '../family.ts';
import { uniformValues } from '../uniforms.ts';
import { SOFTMAX_AXES_UNIFORMS, SOFTMAX_UNIFORMS, softmaxAxesProgram, softmaxProgram } from './wgsl.ts';

/** Whether a softmax is the plain one over the features of a flat `[n, c, 1, 1]` tensor. */
function isFlatChannelSoftmax({ node, inShape }: NodeView<SoftmaxNode>): boolean {
  if (inShape[2] !== 1 || inShape[3] !== 1) return false;
  if (!node.attrs.axes) return true;
  const [first, last] = node.attrs.axes;
  return first <= 1 && last >= 1 && (first === 1 || inShape[0] === 1);
}

const isSoftmax = (view: NodeView): view is NodeView<SoftmaxNode> => view.node.op === 'softmax';

/** Softmax over the features of flat heads: one workgroup per image. */
export const softmaxFamily: FixedKernelFamily<SoftmaxNode> = {
  name: 'softmax',
  supports: (view): view is NodeView<SoftmaxNode> => isSoftmax(view) && isFlatChannelSoftmax(view),
  variants: () => NO_VARIANTS,
  check: () => null,
  program: (_view, _, precision) => softmaxProgram(precision),
  launch(view, _, precision) {
    const [n, c] = view.inShape;
    return [{
      kind: 'softmax',
      program: this.program(view, undefined, precision),
      uniforms: uniformValues(SOFTMAX_UNIFORMS, { C: c, C4: c4(c), rows: n }),
      workgroups: n,
      buffers: { src: tensor(view.node.inputs[0]), dst: tensor(view.node.output) },
      macs: 0,
    }];
  },
};

/** Softmax over NCHW axes `first..last` of any tensor; one output vec4 per invocation. */
export const softmaxAxesFamily: FixedKernelFamily<SoftmaxNode> = {
  name: 'softmax-axes',
  supports: isSoftmax,
  variants: () => NO_VARIANTS,
  check: () => null,
  program: (_view, _, precision) => softmaxAxesProgram(precision),
  launch(view, _, precision) {
    const shape = view.inShape;
    const axes = view.node.attrs.axes ?? [1, 1];
    const [n, c, h, w] = shape;
    let len = 1;
    let inner = 1;
    shape.forEach((d, i) => {
      if (i >= axes[0] && i <= axes[1]) len *= d;
      else if (i > axes[1]) inner *= d;
    });
    const total = n * h * w * c4(c);
    return [{
      // Not 'softmax': that kind is the one-workgroup-per-image reduction of flat heads.
      kind: 'elementwise',
      program: this.program(view, undefined, precision),
      uniforms: uniformValues(SOFTMAX_AXES_UNIFORMS, { total, C: c, C4: c4(c), H: h, W: w, len, inner }),
      workgroups: ceilDiv(total, 64),
      buffers: { src: tensor(view.node.inputs[0]), dst: tensor(view.node.output) },
      macs: 0,
    }];
  },
};
