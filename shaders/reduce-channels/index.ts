import type { ReduceChannelsNode } from '../../src/graph/ir.ts';
import { c4 } from '../../src/runtime/pack-weights.ts';
import { tensor } from '../../src/runtime/step.ts';
import { ceilDiv } from '../common.ts';
import type { FixedKernelFamily, NodeView } from '../family.ts';
import { NO_VARIANTS } from '../family.ts';
import { uniformValues } from '../uniforms.ts';
import { REDUCE_CHANNELS_UNIFORMS, reduceChannelsProgram } from './wgsl.ts';

/** ReduceMean / ReduceMax over the channels (ONNX axis 1): one pixel per invocation, one launch. */
export const reduceChannelsFamily: FixedKernelFamily<ReduceChannelsNode> = {
  name: 'reduce-channels',
  supports: (view): view is NodeView<ReduceChannelsNode> => view.node.op === 'reduceChannels',
  variants: () => NO_VARIANTS,
  check: () => null,
  program: (view, _, precision) => reduceChannelsProgram(view.node.attrs.op, precision),
  launch(view, _, precision) {
    const [n, c, h, w] = view.inShape;
    const total = n * h * w;
    return [{
      kind: 'pool',
      program: this.program(view, undefined, precision),
      uniforms: uniformValues(REDUCE_CHANNELS_UNIFORMS, { total, C: c, C4: c4(c) }),
      workgroups: ceilDiv(total, 64),
      buffers: { src: tensor(view.node.inputs[0]), dst: tensor(view.node.output) },
      macs: 0,
    }];
  },
};
