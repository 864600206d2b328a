import type { ConcatNode, Shape4, SliceChannelsNode, TensorId } from '../../src/graph/ir.ts';
import { c4 } from '../../src/runtime/pack-weights.ts';
import { tensor } from '../../src/runtime/step.ts';
import type { StoragePrecision } from '../common.ts';
import { ceilDiv } from '../common.ts';
import type { FixedKernelFamily, Launch, NodeView } from '../family.ts';
import { NO_VARIANTS } from '../family.ts';
import { uniformValues } from '../uniforms.ts';
import { CHANNEL_COPY_UNIFORMS, channelCopyProgram } from './wgsl.ts';

/** One channel-range copy: `count` channels of `src` from `srcOffset` to `dst` from `dstOffset`. */
interface ChannelCopy {
  readonly src: TensorId;
  readonly srcShape: Shape4;
  readonly srcOffset: number;
  readonly dst: TensorId;
  readonly dstShape: Shape4;
  readonly dstOffset: number;
  readonly count: number;
}

function copyLaunch(copy: ChannelCopy, precision: StoragePrecision): Launch {
  const [n, dstC, h, w] = copy.dstShape;
  const firstC4 = Math.floor(copy.dstOffset / 4);
  const spanC4 = c4(copy.dstOffset + copy.count) - firstC4;
  const total = n * h * w * spanC4;
  return {
    kind: 'layout',
    program: channelCopyProgram(precision),
    uniforms: uniformValues(CHANNEL_COPY_UNIFORMS, {
      total,
      spanC4,
      firstC4,
      srcC4: c4(copy.srcShape[1]),
      dstC4: c4(dstC),
      srcOffset: copy.srcOffset,
      dstOffset: copy.dstOffset,
      count: copy.count,
    }),
    workgroups: ceilDiv(total, 64),
    buffers: { src: tensor(copy.src), dst: tensor(copy.dst) },
    macs: 0,
  };
}

/** Concatenation along channels: one copy launch per input, in order (each may finish the previous one's vec4). */
export const concatFamily: FixedKernelFamily<ConcatNode> = {
  name: 'concat',
  supports: (view): view is NodeView<ConcatNode> => view.node.op === 'concat',
  variants: () => NO_VARIANTS,
  check: () => null,
  program: (_view, _, precision) => channelCopyProgram(precision),
  launch(view, _, precision) {
    let offset = 0;
    return view.node.inputs.map((src, i) => {
      const srcShape = view.inShapes[i];
      const copy = { src, srcShape, srcOffset: 0, dst: view.node.output, dstShape: view.outShape, dstOffset: offset, count: srcShape[1] };
      offset += srcShape[1];
      return copyLaunch(copy, precision);
    });
  },
};

/** A channel range of a tensor, copied into its own tensor. */
export const sliceChannelsFamily: FixedKernelFamily<SliceChannelsNode> = {
  name: 'slice-channels',
  supports: (view): view is NodeView<SliceChannelsNode> => view.node.op === 'sliceChannels',
  variants: () => NO_VARIANTS,
  check: () => null,
  program: (_view, _, precision) => channelCopyProgram(precision),
  launch(view, _, precision) {
    const { start, count } = view.node.attrs;
    const copy = { src: view.node.inputs[0], srcShape: view.inShape, srcOffset: start, dst: view.node.output, dstShape: view.outShape, dstOffset: 0, count };
    return [copyLaunch(copy, precision)];
  },
};
