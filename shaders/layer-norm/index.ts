import type { LayerNormNode } from '../../src/graph/ir.ts';
import { c4 } from '../../src/runtime/pack-weights.ts';
import { constant, tensor } from '../../src/runtime/step.ts';
import { ceilDiv } from '../common.ts';
import type { FixedKernelFamily, NodeView } from '../family.ts';
import { NO_VARIANTS } from '../family.ts';
import { uniformValues } from '../uniforms.ts';
import { LAYER_NORM_UNIFORMS, layerNormProgram } from './wgsl.ts';

/** Gamma's C4 vec4s then beta's (zeros without beta), padding lanes 0. */
export function packLayerNormAffine(node: LayerNormNode): Float32Array {
  const c = node.attrs.gamma.length;
  const C4 = c4(c);
  const out = new Float32Array(2 * C4 * 4);
  out.set(node.attrs.gamma, 0);
  if (node.attrs.beta) out.set(node.attrs.beta, C4 * 4);
  return out;
}

/** Layer norm over channels (ONNX LayerNormalization on a channels-last view): one pixel per invocation. */
export const layerNormFamily: FixedKernelFamily<LayerNormNode> = {
  name: 'layer-norm',
  supports: (view): view is NodeView<LayerNormNode> => view.node.op === 'layerNorm',
  variants: () => NO_VARIANTS,
  check: () => null,
  program: (_view, _, precision) => layerNormProgram(precision),
  launch(view, _, precision) {
    const [n, c, h, w] = view.inShape;
    const pixels = n * h * w;
    return [{
      kind: 'elementwise',
      program: this.program(view, undefined, precision),
      uniforms: uniformValues(LAYER_NORM_UNIFORMS, { pixels, C: c, C4: c4(c), epsilon: view.node.attrs.epsilon }),
      workgroups: ceilDiv(pixels, 64),
      buffers: { src: tensor(view.node.inputs[0]), affine: constant(packLayerNormAffine(view.node)), dst: tensor(view.node.output) },
      macs: 0,
    }];
  },
};
