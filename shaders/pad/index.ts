import type { PadNode } from '../../src/graph/ir.ts';
import { c4 } from '../../src/runtime/pack-weights.ts';
import { tensor } from '../../src/runtime/step.ts';
import { ceilDiv } from '../common.ts';
import type { FixedKernelFamily, NodeView } from '../family.ts';
import { NO_VARIANTS } from '../family.ts';
import { uniformValues } from '../uniforms.ts';
import { PAD_UNIFORMS, padProgram } from './wgsl.ts';

/** Constant padding of the spatial axes (pads no convolution or pool absorbed). */
export const padFamily: FixedKernelFamily<PadNode> = {
  name: 'pad',
  supports: (view): view is NodeView<PadNode> => view.node.op === 'pad',
  variants: () => NO_VARIANTS,
  check: () => null,
  program: (_view, _, precision) => padProgram(precision),
  launch(view, _, precision) {
    const [, c, inH, inW] = view.inShape;
    const [n, , outH, outW] = view.outShape;
    const total = n * outH * outW * c4(c);
    const { pads, value } = view.node.attrs;
    return [{
      kind: 'layout',
      program: this.program(view, undefined, precision),
      uniforms: uniformValues(PAD_UNIFORMS, { total, C4: c4(c), inH, inW, outH, outW, padTop: pads[0], padLeft: pads[1], value }),
      workgroups: ceilDiv(total, 64),
      buffers: { src: tensor(view.node.inputs[0]), dst: tensor(view.node.output) },
      macs: 0,
    }];
  },
};
