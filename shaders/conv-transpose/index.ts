import type { ConvTransposeAttrs, ConvTransposeNode } from '../../src/graph/ir.ts';
import { c4 } from '../../src/runtime/pack-weights.ts';
import { constant, tensor } from '../../src/runtime/step.ts';
import { ceilDiv } from '../common.ts';
import type { FixedKernelFamily, NodeView } from '../family.ts';
import { NO_VARIANTS } from '../family.ts';
import { uniformValues } from '../uniforms.ts';
import { CONV_TRANSPOSE_UNIFORMS, convTransposeProgram } from './wgsl.ts';

/**
 * `[inC, outC / groups, kh, kw]` -> f32 `[ky][kx][ic padded to inC4 * 4][outC padded to outC4 * 4]`, zero where
 * `ic` and `oc` are in different groups.
 */
export function packConvTransposeWeights(a: ConvTransposeAttrs, inC: number): Float32Array {
  const [KH, KW] = a.kernel;
  const inCp = c4(inC) * 4;
  const outCp = c4(a.outChannels) * 4;
  const inPerGroup = inC / a.groups;
  const outPerGroup = a.outChannels / a.groups;
  const out = new Float32Array(KH * KW * inCp * outCp);
  for (let ic = 0; ic < inC; ic++) {
    const g = Math.floor(ic / inPerGroup);
    for (let j = 0; j < outPerGroup; j++) {
      const oc = g * outPerGroup + j;
      for (let ky = 0; ky < KH; ky++) {
        for (let kx = 0; kx < KW; kx++) {
          out[((ky * KW + kx) * inCp + ic) * outCp + oc] = a.weight[((ic * outPerGroup + j) * KH + ky) * KW + kx];
        }
      }
    }
  }
  return out;
}

/** Transposed convolution (ONNX ConvTranspose, TFLite TRANSPOSE_CONV). */
export const convTransposeFamily: FixedKernelFamily<ConvTransposeNode> = {
  name: 'conv-transpose',
  supports: (view): view is NodeView<ConvTransposeNode> => view.node.op === 'convTranspose',
  variants: () => NO_VARIANTS,
  check: () => null,
  program: (_view, _, precision) => convTransposeProgram(precision),
  launch(view, _, precision) {
    const a = view.node.attrs;
    const [, inC, inH, inW] = view.inShape;
    const [n, outC, outH, outW] = view.outShape;
    const outC4 = c4(outC);
    const total = n * outH * outW * outC4;
    const bias = new Float32Array(outC4 * 4);
    if (a.bias) bias.set(a.bias);
    return [{
      kind: 'convTranspose',
      program: this.program(view, undefined, precision),
      uniforms: uniformValues(CONV_TRANSPOSE_UNIFORMS, {
        total, inC4: c4(inC), outC4, inH, inW, outH, outW, KH: a.kernel[0], KW: a.kernel[1],
        strideH: a.stride[0], strideW: a.stride[1], dilationH: a.dilation[0], dilationW: a.dilation[1], padTop: a.pads[0], padLeft: a.pads[1],
      }),
      workgroups: ceilDiv(total, 64),
      buffers: { src: tensor(view.node.inputs[0]), weights: constant(packConvTransposeWeights(a, inC)), bias: constant(bias), dst: tensor(view.node.output) },
      macs: n * inC * inH * inW * (outC / a.groups) * a.kernel[0] * a.kernel[1],
    }];
  },
};
