import type { AvgPoolNode, GlobalAvgPoolNode, MaxPoolNode } from '../../src/graph/ir.ts';
import { c4 } from '../../src/runtime/pack-weights.ts';
import { tensor } from '../../src/runtime/step.ts';
import { ceilDiv } from '../common.ts';
import type { FixedKernelFamily, NodeView } from '../family.ts';
import { NO_VARIANTS } from '../family.ts';
import { uniformValues } from '../uniforms.ts';
import { POOL_WINDOW_COLUMNS, POOL_WINDOW_MAX_SIDE, POOL_WINDOW_UNIFORMS, poolWindowProgram } from './window.ts';
import type { PoolWindowVariant } from './window.ts';
import { GLOBAL_AVG_POOL_UNIFORMS, POOL_UNIFORMS, globalAvgPoolProgram, poolProgram } from './wgsl.ts';

/** The windowed kernel's variant for a pool it runs (dilation 1, sides up to `POOL_WINDOW_MAX_SIDE`), else null. */
export function poolWindowVariant({ node }: NodeView<MaxPoolNode | AvgPoolNode>): PoolWindowVariant | null {
  const a = node.attrs;
  if (a.dilation[0] !== 1 || a.dilation[1] !== 1 || a.kernel[0] > POOL_WINDOW_MAX_SIDE || a.kernel[1] > POOL_WINDOW_MAX_SIDE) return null;
  return { kind: node.op === 'maxPool' ? 'max' : 'avg', kernelH: a.kernel[0], kernelW: a.kernel[1], strideX: a.stride[1], columns: POOL_WINDOW_COLUMNS };
}

/**
 * Max and average pooling over a window (padding, dilation, count-include-pad): on the windowed kernel (window.ts)
 * where it applies (`poolWindowVariant`), else one output vec4 per invocation with the window in uniforms (wgsl.ts).
 */
export const poolFamily: FixedKernelFamily<MaxPoolNode | AvgPoolNode> = {
  name: 'pool',
  supports: (view): view is NodeView<MaxPoolNode | AvgPoolNode> => view.node.op === 'maxPool' || view.node.op === 'avgPool',
  variants: () => NO_VARIANTS,
  check: () => null,
  program: (view, _, precision) => {
    const windowed = poolWindowVariant(view);
    return windowed ? poolWindowProgram(windowed, precision) : poolProgram(view.node.op === 'maxPool' ? 'max' : 'avg', precision);
  },
  launch(view, _, precision) {
    const { node } = view;
    const a = node.attrs;
    const [n, c, inH, inW] = view.inShape;
    const [, , outH, outW] = view.outShape;
    const padded = { paddedH: inH + a.pads[0] + a.pads[2], paddedW: inW + a.pads[1] + a.pads[3], countIncludePad: a.countIncludePad ? 1 : 0 };
    const buffers = { src: tensor(node.inputs[0]), dst: tensor(node.output) };
    const windowed = poolWindowVariant(view);
    if (windowed) {
      const oxGroups = ceilDiv(outW, windowed.columns);
      const total = n * outH * oxGroups * c4(c);
      return [{
        kind: 'pool',
        program: poolWindowProgram(windowed, precision),
        uniforms: uniformValues(POOL_WINDOW_UNIFORMS, {
          total, inH, inW, C4: c4(c), outH, outW, oxGroups, strideY: a.stride[0], padTop: a.pads[0], padLeft: a.pads[1], ...padded,
        }),
        workgroups: ceilDiv(total, 64),
        buffers,
        macs: 0,
      }];
    }
    const total = n * outH * outW * c4(c);
    return [{
      kind: 'pool',
      program: poolProgram(node.op === 'maxPool' ? 'max' : 'avg', precision),
      uniforms: uniformValues(POOL_UNIFORMS, {
        total, inH, inW, C4: c4(c), outH, outW,
        kernelH: a.kernel[0], kernelW: a.kernel[1], strideY: a.stride[0], strideX: a.stride[1],
        dilationY: a.dilation[0], dilationX: a.dilation[1], padTop: a.pads[0], padLeft: a.pads[1], ...padded,
      }),
      workgroups: ceilDiv(total, 64),
      buffers,
      macs: 0,
    }];
  },
};

/** Global average pooling: one output vec4 (the mean of a channel vec4's map) per invocation. */
export const globalAvgPoolFamily: FixedKernelFamily<GlobalAvgPoolNode> = {
  name: 'global-avg-pool',
  supports: (view): view is NodeView<GlobalAvgPoolNode> => view.node.op === 'globalAvgPool',
  variants: () => NO_VARIANTS,
  check: () => null,
  program: (_view, _, precision) => globalAvgPoolProgram(precision),
  launch(view, _, precision) {
    const [n, c, h, w] = view.inShape;
    const total = n * c4(c);
    return [{
      kind: 'pool',
      program: this.program(view, undefined, precision),
      uniforms: uniformValues(GLOBAL_AVG_POOL_UNIFORMS, { total, C4: c4(c), spatial: h * w }),
      workgroups: ceilDiv(total, 64),
      buffers: { src: tensor(view.node.inputs[0]), dst: tensor(view.node.output) },
      macs: 0,
    }];
  },
};
