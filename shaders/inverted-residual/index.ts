import type { TensorId } from '../../src/graph/ir.ts';
import { activationBounds, convChannelScale, convResidual } from '../../src/graph/ir.ts';
import type { InvertedResidualBlock, SqueezeExcite } from '../../src/runtime/inverted-residual.ts';
import { squeezeLayerWeights } from '../../src/runtime/inverted-residual.ts';
import { c4, denseConvPacking, depthwisePacking, packBias } from '../../src/runtime/pack-weights.ts';
import type { BufferRef } from '../../src/runtime/step.ts';
import { activationUniforms, constant, packedConstant, tensor } from '../../src/runtime/step.ts';
import type { StoragePrecision } from '../common.ts';
import { ceilDiv, clampBound, epilogueActivation } from '../common.ts';
import type { Launch } from '../family.ts';
import { uniformValues } from '../uniforms.ts';
import type { GateVariant } from './gate.ts';
import { GATE_UNIFORMS, gateProgram, gateWorkgroupBytes } from './gate.ts';
import type { InvertedResidualVariant } from './wgsl.ts';
import { INVERTED_RESIDUAL_UNIFORMS, WORKGROUP_BYTES, invertedResidualProgram, workgroupBytes } from './wgsl.ts';

/**
 * The fused inverted-residual family (wgsl.ts): one launch per block found by `findInvertedResidualBlocks`
 * (src/runtime/inverted-residual.ts). Not a per-node family: lowering asks it for a block's launch when the
 * kernel choice fuses the block.
 */
export interface InvertedResidualTile {
  readonly tileH: number;
  readonly tileW: number;
}

/** The default output tile: 4 x 4 pixels (halo recomputation 2.25x at 3x3 stride 1, 1.27x at stride 2). */
export const DEFAULT_INVERTED_RESIDUAL_TILE: InvertedResidualTile = { tileH: 4, tileW: 4 };

/** The most accumulator vec4s per invocation a variant may hold (more spills registers). */
export const MAX_ACCUMULATORS = 32;

/** The variant that runs `block` with `tile`, or null when none fits (workgroup memory, registers). */
export function blockVariant(block: InvertedResidualBlock, tile: InvertedResidualTile = DEFAULT_INVERTED_RESIDUAL_TILE): InvertedResidualVariant | null {
  const d = block.depthwise.attrs;
  const p = block.project.attrs;
  const outC4 = c4(block.outShape[1]);
  const hidC4 = c4(block.hidShape[1]);
  const geometry = { ...tile, kernelH: d.kernel[0], kernelW: d.kernel[1], strideY: d.stride[0], strideX: d.stride[1] };
  let chunk = 8;
  while (chunk > 1 && (workgroupBytes({ ...geometry, chunk }) > WORKGROUP_BYTES || chunk / 2 >= hidC4)) chunk /= 2;
  if (workgroupBytes({ ...geometry, chunk }) > WORKGROUP_BYTES) return null;
  if (Math.ceil((outC4 * tile.tileH * tile.tileW) / 64) > MAX_ACCUMULATORS) return null;
  if (block.se && gateWorkgroupBytes(gateVariant(block, block.se)) > WORKGROUP_BYTES) return null;
  return {
    ...geometry,
    chunk,
    outC4,
    expand: block.expand !== null,
    residual: convResidual(block.project) !== undefined,
    ...epilogueActivation(p.activation),
    expandAct: block.expand ? epilogueActivation(block.expand.attrs.activation) : { activation: false },
    depthwiseAct: epilogueActivation(d.activation),
  };
}

/** The three biases in one f32 buffer: `[expand hidC4 | depthwise hidC4 | project outC4]` vec4s. */
function packBiases(block: InvertedResidualBlock): Float32Array {
  const hid = c4(block.hidShape[1]) * 4;
  const out = new Float32Array(2 * hid + c4(block.outShape[1]) * 4);
  if (block.expand) out.set(packBias(block.expand.attrs.bias, block.hidShape[1]), 0);
  out.set(packBias(block.depthwise.attrs.bias, block.hidShape[1]), hid);
  out.set(packBias(block.project.attrs.bias, block.outShape[1]), 2 * hid);
  return out;
}

const bounds = (a: Parameters<typeof activationBounds>[0]): [number, number] => activationBounds(a).map(clampBound) as [number, number];

/** Multiply-accumulates of the block's three convs (the work the separate launches do). */
export function blockMacs(block: InvertedResidualBlock): number {
  const [n, inC, inH, inW] = block.inShape;
  const hidC = block.hidShape[1];
  const [, outC, outH, outW] = block.outShape;
  const [kh, kw] = block.depthwise.attrs.kernel;
  const expand = block.expand ? n * inH * inW * inC * hidC : 0;
  return expand + n * outH * outW * hidC * (kh * kw + outC);
}

/** A fused block's launch, with the node it is named after (`label`, `node`: see `invertedResidualLaunches`). */
export type BlockLaunch = Launch & { readonly label: string; readonly node: TensorId };

/**
 * The block's launches with `variant` (from `blockVariant`). Without squeeze-and-excitation one, named after the
 * project conv. With one, three (the gate needs the mean of the whole depthwise output before any pixel can be
 * projected): `squeeze` (expand + depthwise per tile, writing only per-tile channel sums, named after the
 * depthwise conv), the gate (fc1 and fc2 on the means, named after fc2: it writes fc2's output) and `excite`
 * (expand + depthwise again, times the gate, project (+ residual), named after the project conv). The expanded
 * maps never reach global memory; the price is the expand and depthwise computed twice.
 */
export function invertedResidualLaunches(block: InvertedResidualBlock, variant: InvertedResidualVariant, precision: StoragePrecision): BlockLaunch[] {
  const expand = block.expand ? [block.expand.name] : [];
  const p = block.project;
  const weights = blockWeights(block, precision);
  if (!block.se) return [{ ...invertedResidualLaunch(block, variant, weights, precision), label: p.name, node: p.output, fused: [...expand, block.depthwise.name] }];
  const squeeze = invertedResidualLaunch(block, { ...variant, se: 'squeeze' }, weights, precision);
  const se = block.se;
  return [
    { ...squeeze, label: block.depthwise.name, node: block.depthwise.output, fused: expand },
    { ...gateLaunch(block, se, squeeze.workgroups, precision), label: se.fc2.name, node: se.fc2.output, fused: [...(se.pool ? [se.pool.name] : []), se.fc1.name] },
    { ...invertedResidualLaunch(block, { ...variant, se: 'excite' }, weights, precision), label: p.name, node: p.output, fused: [...expand, block.depthwise.name] },
  ];
}

/** A block's weight buffers. */
interface BlockWeights {
  readonly expandWeight: BufferRef | null;
  readonly depthwiseWeight: BufferRef;
  readonly projectWeight: BufferRef;
  readonly bias: BufferRef;
}

/**
 * The block's weights, made once per block: compile.ts makes one GPU buffer per ref, so an SE block's squeeze and
 * excite launches must share these refs (each packed and uploaded once). Packed weights pack only when written.
 */
function blockWeights(block: InvertedResidualBlock, precision: StoragePrecision): BlockWeights {
  const [, inC] = block.inShape;
  const hidC = block.hidShape[1];
  const outC = block.outShape[1];
  const e = block.expand?.attrs;
  const d = block.depthwise.attrs;
  const p = block.project.attrs;
  return {
    expandWeight: e ? packedConstant(denseConvPacking(e.weight, hidC, inC, 1, 1, e.weightScale ?? null), precision) : null,
    depthwiseWeight: packedConstant(depthwisePacking(d.weight, hidC, d.kernel[0], d.kernel[1], d.weightScale ?? null), precision),
    projectWeight: packedConstant(denseConvPacking(p.weight, outC, hidC, 1, 1, p.weightScale ?? null), precision),
    bias: constant(packBiases(block)),
  };
}

function gateVariant(block: InvertedResidualBlock, se: SqueezeExcite): GateVariant {
  return {
    hidC4: c4(block.hidShape[1]),
    sqC4: c4(se.squeezeC),
    fc1Act: epilogueActivation(se.fc1.attrs.activation),
    gateAct: epilogueActivation(se.fc2.attrs.activation),
  };
}

/** The gate launch: one workgroup per image over the squeeze launch's `tiles` per-tile sums. */
function gateLaunch(block: InvertedResidualBlock, se: SqueezeExcite, tiles: number, precision: StoragePrecision): Launch {
  const [n, hidC] = block.hidShape;
  const [, , outH, outW] = block.outShape;
  const v = gateVariant(block, se);
  const bias = new Float32Array((v.sqC4 + v.hidC4) * 4);
  bias.set(packBias(se.fc1.attrs.bias, se.squeezeC), 0);
  bias.set(packBias(se.fc2.attrs.bias, hidC), v.sqC4 * 4);
  const fc1 = squeezeLayerWeights(se.fc1);
  const fc2 = squeezeLayerWeights(se.fc2);
  const [fc1Min, fc1Max] = bounds(se.fc1.attrs.activation);
  const [gateMin, gateMax] = bounds(se.fc2.attrs.activation);
  return {
    kind: 'invertedResidual',
    program: gateProgram(v, precision),
    uniforms: uniformValues(GATE_UNIFORMS, { tiles: tiles / n, hidC4: v.hidC4, sqC4: v.sqC4, invCount: 1 / (outH * outW), fc1Min, fc1Max, gateMin, gateMax }),
    workgroups: n,
    buffers: {
      partial: { kind: 'scratch', byteLength: tiles * v.hidC4 * 16 },
      fc1Weight: packedConstant(denseConvPacking(fc1.weight, se.squeezeC, hidC, 1, 1, fc1.scale), precision),
      fc2Weight: packedConstant(denseConvPacking(fc2.weight, hidC, se.squeezeC, 1, 1, fc2.scale), precision),
      bias: constant(bias),
      dst: tensor(se.fc2.output),
    },
    macs: n * 2 * hidC * se.squeezeC,
  };
}

/** One launch of the fused kernel with `variant`, binding the block's `weights`. */
function invertedResidualLaunch(block: InvertedResidualBlock, variant: InvertedResidualVariant, weights: BlockWeights, precision: StoragePrecision): Launch {
  const [n, inC, inH, inW] = block.inShape;
  const hidC = block.hidShape[1];
  const [, outC, outH, outW] = block.outShape;
  const d = block.depthwise.attrs;
  const tilesX = ceilDiv(outW, variant.tileW);
  const tilesY = ceilDiv(outH, variant.tileH);
  const tiles = n * tilesX * tilesY;
  const e = block.expand?.attrs;
  const p = block.project.attrs;
  const squeeze = variant.se === 'squeeze';
  const buffers: Record<string, BufferRef> = {
    src: tensor(block.input),
    ...(weights.expandWeight ? { expandWeight: weights.expandWeight } : {}),
    depthwiseWeight: weights.depthwiseWeight,
    ...(squeeze ? {} : { projectWeight: weights.projectWeight }),
    bias: weights.bias,
    ...(squeeze ? { partial: { kind: 'scratch', byteLength: tiles * c4(hidC) * 16 } } : { dst: tensor(block.project.output) }),
  };
  const residual = convResidual(block.project);
  if (residual !== undefined && !squeeze) buffers.residual = tensor(residual);
  const scale = convChannelScale(block.project);
  if (scale !== undefined && variant.se === 'excite') buffers.scale = tensor(scale);
  const [expandMin, expandMax] = e ? bounds(e.activation) : [0, 0];
  const [dwMin, dwMax] = bounds(d.activation);
  return {
    kind: 'invertedResidual',
    program: invertedResidualProgram(variant, precision),
    uniforms: uniformValues(INVERTED_RESIDUAL_UNIFORMS, {
      tiles, tilesX, tilesY, inH, inW, inC4: c4(inC), hidC4: c4(hidC), outH, outW, outC4: c4(outC),
      padTop: d.pads[0], padLeft: d.pads[1], expandMin, expandMax, dwMin, dwMax, ...activationUniforms(p.activation),
    }),
    workgroups: tiles,
    buffers,
    // The network's work once (the separate launches'): the squeeze launch's is recomputed, like tile halos.
    macs: squeeze ? 0 : blockMacs(block),
  };
}
