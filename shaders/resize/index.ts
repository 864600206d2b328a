import type { ResizeNode } from '../../src/graph/ir.ts';
import { c4 } from '../../src/runtime/pack-weights.ts';
import { constant, tensor } from '../../src/runtime/step.ts';
import { ceilDiv } from '../common.ts';
import type { FixedKernelFamily, NodeView } from '../family.ts';
import { NO_VARIANTS } from '../family.ts';
import { uniformValues } from '../uniforms.ts';
import { resizeTaps } from './taps.ts';
import { RESIZE_UNIFORMS, resizeProgram } from './wgsl.ts';

/** Nearest and bilinear resize of the spatial axes (ONNX Resize / Upsample, TFLite RESIZE_*). */
export const resizeFamily: FixedKernelFamily<ResizeNode> = {
  name: 'resize',
  supports: (view): view is NodeView<ResizeNode> => view.node.op === 'resize',
  variants: () => NO_VARIANTS,
  check: () => null,
  program: (_view, _, precision) => resizeProgram(precision),
  launch(view, _, precision) {
    const [, c, inH, inW] = view.inShape;
    const [n, , outH, outW] = view.outShape;
    const total = n * outH * outW * c4(c);
    return [{
      kind: 'resize',
      program: this.program(view, undefined, precision),
      uniforms: uniformValues(RESIZE_UNIFORMS, { total, C4: c4(c), inH, inW, outH, outW }),
      workgroups: ceilDiv(total, 64),
      buffers: { src: tensor(view.node.inputs[0]), taps: constant(resizeTaps(view.node.attrs, inH, inW)), dst: tensor(view.node.output) },
      macs: 0,
    }];
  },
};
