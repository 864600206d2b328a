import type { ArgMaxNode } from '../../src/graph/ir.ts';
import { c4 } from '../../src/runtime/pack-weights.ts';
import { tensor } from '../../src/runtime/step.ts';
import { ceilDiv } from '../common.ts';
import type { FixedKernelFamily, NodeView } from '../family.ts';
import { NO_VARIANTS } from '../family.ts';
import { uniformValues } from '../uniforms.ts';
import { ARGMAX_UNIFORMS, argMaxProgram } from './wgsl.ts';

/** Arg max over channels (ONNX ArgMax on axis 1, TFLite ARG_MAX on the last axis). */
export const argMaxFamily: FixedKernelFamily<ArgMaxNode> = {
  name: 'argmax',
  supports: (view): view is NodeView<ArgMaxNode> => view.node.op === 'argMax',
  variants: () => NO_VARIANTS,
  check: () => null,
  program: (_view, _, precision) => argMaxProgram(precision),
  launch(view, _, precision) {
    const [n, c, h, w] = view.inShape;
    const pixels = n * h * w;
    return [{
      kind: 'argmax',
      program: this.program(view, undefined, precision),
      uniforms: uniformValues(ARGMAX_UNIFORMS, { pixels, C: c, C4: c4(c) }),
      workgroups: ceilDiv(pixels, 64),
      buffers: { src: tensor(view.node.inputs[0]), dst: tensor(view.node.output) },
      macs: 0,
    }];
  },
};
