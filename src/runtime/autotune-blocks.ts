import { blockVariant } from '../../shaders/inverted-residual/index.ts';
import { epilogueKey, epilogueActivation } from '../../shaders/common.ts';
import type { Graph, TensorId } from '../graph/ir.ts';
import { convResidual, shapeToString } from '../graph/ir.ts';
import type { InvertedResidualBlock } from './inverted-residual.ts';
import { blockNodeOutputs, findInvertedResidualBlocks } from './inverted-residual.ts';
import type { KernelChoice } from './kernel-choice.ts';
import type { Step } from './step.ts';
import type { TuningCache } from './tuning-cache.ts';

/**
 * The autotuner's second stage: per inverted-residual block, the fused kernel (shaders/inverted-residual/)
 * against the block's three launches with the tiles the first stage chose. Two trials time every pending block at
 * once; a block signature is fused only where its fused launch beats the three by the tuner's margin (two timer
 * steps per block and 3%). Decisions are cached per adapter and block signature (`BlockEntry`).
 */

/** One timed trial (autotune.ts's `Measurement`, restated so that the tuner's modules import one way). */
interface Trial {
  readonly steps: readonly Step[];
  readonly profile: { readonly mediansMs: readonly number[]; readonly resolutionMs: number };
}

/** What identifies a block's cost: input shape, hidden and output channels, window, stride, shortcut, activations. */
export function blockSignature(graph: Graph, b: InvertedResidualBlock): string {
  const d = b.depthwise.attrs;
  const act = (a: typeof d.activation) => epilogueKey(epilogueActivation(a));
  return [
    'inverted-residual',
    shapeToString(graph.tensors[b.input].shape),
    b.expand ? `e${b.hidShape[1]}-${act(b.expand.attrs.activation)}` : 'noexpand',
    `k${d.kernel.join('x')}`,
    `s${d.stride.join('x')}`,
    `p${d.pads.join(',')}`,
    `dw-${act(d.activation)}`,
    `o${b.outShape[1]}-${act(b.project.attrs.activation)}`,
    convResidual(b.project) !== undefined ? 'res' : '',
    ...(b.se ? [`se${b.se.squeezeC}-${act(b.se.fc1.attrs.activation)}-${act(b.se.fc2.attrs.activation)}`] : []),
  ].join('|');
}

/** Sums the launch times of the nodes in `outputs` (by `step.node`). */
function timeOf(m: Trial, outputs: ReadonlySet<TensorId>): number {
  return m.steps.reduce((sum, s, i) => (s.node !== undefined && outputs.has(s.node) ? sum + m.profile.mediansMs[i] : sum), 0);
}

/** Per block (by project output): 'fused' or 'separate', measured or from `cache`. `tuned` is the first stage's choice. */
export async function tuneBlocks(
  graph: Graph,
  measure: (choice: KernelChoice) => Promise<Trial>,
  tuned: KernelChoice,
  cache: TuningCache | undefined,
  prefix: string,
): Promise<Map<TensorId, 'fused' | 'separate'>> {
  const decisions = new Map<TensorId, 'fused' | 'separate'>();
  const pending = new Map<string, InvertedResidualBlock[]>();
  for (const b of findInvertedResidualBlocks(graph)) {
    if (blockVariant(b) === null) continue;
    const key = prefix + blockSignature(graph, b);
    const cached = cache?.get(key);
    if (cached?.family === 'inverted-residual') decisions.set(b.project.output, cached.fused ? 'fused' : 'separate');
    else pending.set(key, [...(pending.get(key) ?? []), b]);
  }
  if (pending.size === 0) return decisions;
  const separate = await measure({ ...tuned, invertedResidual: 'separate', invertedResidualBlocks: undefined });
  const fused = await measure({ ...tuned, invertedResidual: 'fused', invertedResidualBlocks: undefined });
  const resolutionMs = Math.max(
    ...[separate, fused].map((m) => (Number.isFinite(m.profile.resolutionMs) ? m.profile.resolutionMs : 0)),
  );
  for (const [key, blocks] of pending) {
    // The fused launches are named after nodes of the block too (an SE block's squeeze and gate launches).
    const inner = new Set(blocks.flatMap((b) => [...blockNodeOutputs(b), b.project.output]));
    const separateMs = timeOf(separate, inner);
    const fusedMs = timeOf(fused, inner);
    const margin = Math.max(2 * resolutionMs * blocks.length, 0.03 * separateMs);
    const win = fusedMs < separateMs - margin;
    for (const b of blocks) decisions.set(b.project.output, win ? 'fused' : 'separate');
    cache?.set(key, { family: 'inverted-residual', fused: win });
  }
  return decisions;
}
