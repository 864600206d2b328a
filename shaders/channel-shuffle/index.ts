import type { ShuffleChannelsNode } from '../../src/graph/ir.ts';
import { c4 } from '../../src/runtime/pack-weights.ts';
import { tensor } from '../../src/runtime/step.ts';
import { ceilDiv } from '../common.ts';
import type { FixedKernelFamily, NodeView } from '../family.ts';
import { NO_VARIANTS } from '../family.ts';
import { uniformValues } from '../uniforms.ts';
import { CHANNEL_SHUFFLE_UNIFORMS, channelShuffleProgram } from './wgsl.ts';

/** ShuffleNet's channel shuffle not folded into a convolution: one gather launch over the map. */
export const shuffleChannelsFamily: FixedKernelFamily<ShuffleChannelsNode> = {
  name: 'shuffle-channels',
  supports: (view): view is NodeView<ShuffleChannelsNode> => view.node.op === 'shuffleChannels',
  variants: () => NO_VARIANTS,
  check: () => null,
  program: (view, _, precision) => channelShuffleProgram(view.node.attrs.groups, precision),
  launch(view, _, precision) {
    const [n, channels, h, w] = view.outShape;
    const groups = view.node.attrs.groups;
    const total = n * h * w * c4(channels);
    return [
      {
        kind: 'layout',
        program: channelShuffleProgram(groups, precision),
        uniforms: uniformValues(CHANNEL_SHUFFLE_UNIFORMS, { total, c4: c4(channels), channels, size: channels / groups }),
        workgroups: ceilDiv(total, 64),
        buffers: { src: tensor(view.node.inputs[0]), dst: tensor(view.node.output) },
        macs: 0,
      },
    ];
  },
};
