import type { FlattenNode, ReshapeNode } from '../../src/graph/ir.ts';
import { c4 } from '../../src/runtime/pack-weights.ts';
import { tensor } from '../../src/runtime/step.ts';
import { ceilDiv } from '../common.ts';
import type { FixedKernelFamily, NodeView } from '../family.ts';
import { NO_VARIANTS } from '../family.ts';
import { uniformValues } from '../uniforms.ts';
import { FLATTEN_UNIFORMS, RESHAPE_UNIFORMS, flattenProgram, reshapeProgram } from './wgsl.ts';

/** Flatten to `[n, c*h*w, 1, 1]` (lowering skips the ones that alias their input). */
export const flattenFamily: FixedKernelFamily<FlattenNode> = {
  name: 'flatten',
  supports: (view): view is NodeView<FlattenNode> => view.node.op === 'flatten',
  variants: () => NO_VARIANTS,
  check: () => null,
  program: (_view, _, precision) => flattenProgram(precision),
  launch(view, _, precision) {
    const [n, c, h, w] = view.inShape;
    const outC4 = c4(c * h * w);
    return [{
      kind: 'layout',
      program: this.program(view, undefined, precision),
      uniforms: uniformValues(FLATTEN_UNIFORMS, { total: n * outC4, C: c, C4: c4(c), H: h, W: w, outC4 }),
      workgroups: ceilDiv(n * outC4, 64),
      buffers: { src: tensor(view.node.inputs[0]), dst: tensor(view.node.output) },
      macs: 0,
    }];
  },
};

/** General reshape keeping NCHW element order (lowering skips the ones that alias their input). */
export const reshapeFamily: FixedKernelFamily<ReshapeNode> = {
  name: 'reshape',
  supports: (view): view is NodeView<ReshapeNode> => view.node.op === 'reshape',
  variants: () => NO_VARIANTS,
  check: () => null,
  program: (_view, _, precision) => reshapeProgram(precision),
  launch(view, _, precision) {
    const [, inC, inH, inW] = view.inShape;
    const [n, outC, outH, outW] = view.outShape;
    const total = n * outH * outW * c4(outC);
    return [{
      kind: 'layout',
      program: this.program(view, undefined, precision),
      uniforms: uniformValues(RESHAPE_UNIFORMS, { total, inC, inC4: c4(inC), inH, inW, outC, outC4: c4(outC), outH, outW }),
      workgroups: ceilDiv(total, 64),
      buffers: { src: tensor(view.node.inputs[0]), dst: tensor(view.node.output) },
      macs: 0,
    }];
  },
};
