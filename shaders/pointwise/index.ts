import type { Conv2dNode } from '../../src/graph/ir.ts';
import { convResidual } from '../../src/graph/ir.ts';
import { inputTransformOf } from '../conv-input.ts';
import type { KernelProgram, StoragePrecision } from '../common.ts';
import { WORKGROUP_SIZE, ceilDiv, epilogueActivation } from '../common.ts';
import { c4, convBuffers, convFigures, denseWeights, isDenseConv, isPointwiseConv } from '../conv-common.ts';
import type { KernelFamily, NodeView } from '../family.ts';
import { registerTileProblem } from '../register-tile.ts';
import { uniformValues } from '../uniforms.ts';
import { POINTWISE_UNIFORMS, pointwiseConvProgram } from './wgsl.ts';

/**
 * The pointwise family's variant: a register tile of pixels x output vec4s per invocation, and optionally fewer
 * invocations per workgroup than the default 64 (`POINTWISE_WORKGROUP_SIZES`): small launches then still split
 * into enough workgroups to keep every CPU thread of a software adapter busy.
 */
export interface PointwiseTile {
  readonly family: 'pointwise';
  readonly pixelsPerThread: number;
  readonly vec4sPerThread: number;
  readonly workgroupSize?: number;
}

/** Workgroup sizes the pointwise kernel accepts: whole SIMD groups of SwiftShader's 4 lanes, at most the default. */
export const POINTWISE_WORKGROUP_SIZES: readonly number[] = [4, 8, 16, 32, WORKGROUP_SIZE];

/** Why the pointwise kernel cannot run `t`, or null. */
export function pointwiseTileProblem(t: PointwiseTile): string | null {
  const problem = registerTileProblem(t);
  if (problem !== null || t.workgroupSize === undefined || POINTWISE_WORKGROUP_SIZES.includes(t.workgroupSize)) return problem;
  return `workgroup size ${String(t.workgroupSize)} is not one of ${POINTWISE_WORKGROUP_SIZES.join(', ')}`;
}

const tile = (pixelsPerThread: number, vec4sPerThread: number): PointwiseTile => ({ family: 'pointwise', pixelsPerThread, vec4sPerThread });

/** Tiles the tuner tries, the software default (8 x 2) first; the small ones give wide GPUs more invocations. */
export const POINTWISE_TILES: readonly PointwiseTile[] = [tile(8, 2), tile(4, 2), tile(4, 4), tile(8, 1), tile(2, 4), tile(2, 1), tile(1, 1)];

function variantOf({ node, outShape }: NodeView<Conv2dNode>, t: PointwiseTile) {
  const a = node.attrs;
  return {
    pixelsPerThread: t.pixelsPerThread,
    vec4sPerThread: Math.min(t.vec4sPerThread, c4(outShape[1])),
    workgroupSize: t.workgroupSize ?? WORKGROUP_SIZE,
    strided: a.stride[0] !== 1 || a.stride[1] !== 1,
    residual: convResidual(node) !== undefined,
    ...epilogueActivation(a.activation),
    ...(a.input ? { input: inputTransformOf(node) } : {}),
  };
}

/** 1x1 convolutions (any stride, no padding) as a register-blocked GEMM (wgsl.ts). */
export const pointwiseFamily: KernelFamily<Conv2dNode, PointwiseTile> = {
  name: 'pointwise',
  supports: (view): view is NodeView<Conv2dNode> => view.node.op === 'conv2d' && isDenseConv(view) && isPointwiseConv(view.node.attrs),
  variants: () => POINTWISE_TILES,
  check: pointwiseTileProblem,
  program: (view, t, precision: StoragePrecision): KernelProgram => pointwiseConvProgram(variantOf(view, t), precision),
  launch(view, t, precision) {
    const f = convFigures(view);
    const { pixelsPerThread: P, vec4sPerThread: V, workgroupSize } = variantOf(view, t);
    const pixels = f.n * f.outH * f.outW;
    const coGroups = ceilDiv(c4(f.outC), V);
    return [{
      kind: 'pointwise',
      program: this.program(view, t, precision),
      uniforms: uniformValues(POINTWISE_UNIFORMS, {
        pixels, inH: f.inH, inW: f.inW, inC4: c4(f.inC), outH: f.outH, outW: f.outW, outC4: c4(f.outC),
        strideY: f.a.stride[0], strideX: f.a.stride[1], coGroups, ...f.act,
      }),
      workgroups: ceilDiv(ceilDiv(pixels, P) * coGroups, workgroupSize),
      buffers: convBuffers(view.node, denseWeights(view), f.bias, precision),
      macs: f.macs,
    }];
  },
};
