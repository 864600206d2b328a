import type { Conv2dNode } from '../../src/graph/ir.ts';
import { convResidual } from '../../src/graph/ir.ts';
import { inputTransformBuffers, inputTransformOf } from '../conv-input.ts';
import type { BufferRef } from '../../src/runtime/step.ts';
import { constant, packedConstant, tensor } from '../../src/runtime/step.ts';
import type { KernelProgram, StoragePrecision } from '../common.ts';
import { ceilDiv, epilogueActivation } from '../common.ts';
import { c4, convBuffers, convFigures, denseWeights, isDenseConv, isPointwiseConv } from '../conv-common.ts';
import type { KernelFamily, NodeView } from '../family.ts';
import { countIn } from '../tiles.ts';
import { uniformValues } from '../uniforms.ts';
import { SPLIT_K_MAX_TILES, sharedConvGeometry, splitKFits, splitKSlices } from './geometry.ts';
import { MAX_SPLIT_K, convSharedTileProblem } from './limits.ts';
import { SPLIT_K_REDUCE_UNIFORMS, splitKReduceProgram } from './split-k-reduce.ts';
import { CONV_SHARED_SPLIT_K_UNIFORMS, CONV_SHARED_UNIFORMS, convSharedProgram } from './wgsl.ts';

/**
 * The conv-shared family's variant: the register tile of each of a workgroup's 8 x 8 invocations (pixels need
 * not share a row), and `splitK`: spread the K reduction (KH * KW * inC) over this many workgroups per output
 * tile, each writing f32 partial sums to a scratch buffer, added by a second launch that applies bias, residual
 * and clamp (`splitKSlices`: K is cut in whole staging steps, so a small K gets fewer slices). For outputs with
 * too few tiles to fill a GPU, e.g. 7x7 maps. Absent or 1: no split.
 */
export interface ConvSharedTile {
  readonly family: 'conv-shared';
  readonly pixelsPerThread: number;
  readonly vec4sPerThread: number;
  readonly splitK?: number;
}

const tile = (pixelsPerThread: number, vec4sPerThread: number, splitK?: number): ConvSharedTile =>
  splitK === undefined ? { family: 'conv-shared', pixelsPerThread, vec4sPerThread } : { family: 'conv-shared', pixelsPerThread, vec4sPerThread, splitK };

/** Workgroup-memory tiles the tuner tries: 16-64 pixels x 64-128 output channels per workgroup. */
export const CONV_SHARED_TILES: readonly ConvSharedTile[] = [tile(4, 2), tile(4, 4), tile(8, 2), tile(2, 2)];

/** Split-K tiles: the 16 px x 64 ch tile (the GPU default) with K spread over 2-16 workgroups per output tile. */
export const CONV_SHARED_SPLIT_K_TILES: readonly ConvSharedTile[] = [2, 4, 8, 16].map((splitK) => tile(2, 2, splitK));

/**
 * Whether the tuner tries `t` on a layer: every tile without split-K; a split-K tile only where `splitKFits`
 * says splitting can pay. Depends on the layer's shapes only, so layers of one signature agree.
 */
export function convSharedFits(t: ConvSharedTile, { node, inShape, outShape }: NodeView<Conv2dNode>): boolean {
  const splits = t.splitK ?? 1;
  if (splits <= 1) return true;
  const { tiles, K } = sharedConvGeometry(t, inShape, outShape, node.attrs);
  return splitKFits(tiles, K, splits, SPLIT_K_MAX_TILES);
}

function geometryOf(view: NodeView<Conv2dNode>, t: ConvSharedTile) {
  const f = convFigures(view);
  const { tiles, tilesN, K } = sharedConvGeometry(t, view.inShape, view.outShape, f.a);
  const geometry = {
    pixels: f.n * f.outH * f.outW, K, tilesN, tiles, inH: f.inH, inW: f.inW, inC4: c4(f.inC), outH: f.outH, outW: f.outW, outC4: c4(f.outC),
    strideY: f.a.stride[0], strideX: f.a.stride[1], dilationY: f.a.dilation[0], dilationX: f.a.dilation[1],
    padTop: f.a.pads[0], padLeft: f.a.pads[1],
  };
  return { f, geometry, ...splitKSlices(K, t.splitK ?? 1) };
}

/** Dense convolutions through workgroup memory (wgsl.ts), with split-K for outputs of few tiles. */
export const convSharedFamily: KernelFamily<Conv2dNode, ConvSharedTile> = {
  name: 'conv-shared',
  supports: (view): view is NodeView<Conv2dNode> => isDenseConv(view),
  // None on software adapters: barriers are thread synchronisation on a CPU (docs/decisions/kernel-defaults.md).
  variants: (view, adapter) => (adapter.software ? [] : [...CONV_SHARED_TILES, ...CONV_SHARED_SPLIT_K_TILES].filter((t) => convSharedFits(t, view))),
  check(t) {
    const problem = convSharedTileProblem(t);
    if (problem !== null) return problem;
    return t.splitK !== undefined && !countIn(t.splitK, 1, MAX_SPLIT_K) ? `splitK ${String(t.splitK)} is not an integer from 1 to ${MAX_SPLIT_K}` : null;
  },
  program(view, t, precision: StoragePrecision): KernelProgram {
    const a = view.node.attrs;
    const split = splitKSlices(sharedConvGeometry(t, view.inShape, view.outShape, a).K, t.splitK ?? 1).slices > 1;
    return convSharedProgram({
      kernelH: a.kernel[0], kernelW: a.kernel[1], pixelsPerThread: t.pixelsPerThread, vec4sPerThread: t.vec4sPerThread,
      ...(split ? { residual: false, activation: false, splitK: true } : { residual: convResidual(view.node) !== undefined, ...epilogueActivation(a.activation) }),
      ...(a.input ? { input: inputTransformOf(view.node) } : {}),
    }, precision);
  },
  launch(view, t, precision) {
    const { f, geometry, slices, kPerSlice } = geometryOf(view, t);
    const node = view.node;
    const kind = isPointwiseConv(f.a) ? 'pointwise' : 'conv2d';
    const weight = denseWeights(view);
    if (slices <= 1) {
      return [{
        kind,
        program: this.program(view, t, precision),
        uniforms: uniformValues(CONV_SHARED_UNIFORMS, { ...geometry, ...f.act }),
        workgroups: geometry.tiles,
        buffers: convBuffers(node, weight, f.bias, precision),
        macs: f.macs,
      }];
    }
    // Launch 1: one workgroup per (output tile, K slice) writes f32 partial sums; launch 2 adds them and
    // applies bias, residual and clamp. Both run under the node's name and kind; the MACs go to the first.
    const total = geometry.pixels * c4(f.outC);
    const partial: BufferRef = { kind: 'scratch', byteLength: slices * total * 16 };
    return [
      {
        kind,
        program: this.program(view, t, precision),
        uniforms: uniformValues(CONV_SHARED_SPLIT_K_UNIFORMS, { ...geometry, slices, kPerSlice }),
        workgroups: geometry.tiles * slices,
        buffers: { src: tensor(node.inputs[0]), weight: packedConstant(weight, precision), ...inputTransformBuffers(node), partial },
        macs: f.macs,
      },
      {
        kind,
        program: splitKReduceProgram({ residual: f.residual, activation: f.activation, fn: f.fn }, precision),
        uniforms: uniformValues(SPLIT_K_REDUCE_UNIFORMS, { total, outC4: c4(f.outC), slices, ...f.act }),
        workgroups: ceilDiv(total, 64),
        buffers: {
          partial,
          bias: constant(f.bias),
          ...(f.residual ? { residual: tensor(convResidual(node)!) } : {}),
          dst: tensor(node.output),
        },
        macs: 0,
      },
    ];
  },
};
