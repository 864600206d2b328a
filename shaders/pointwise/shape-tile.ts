import type { PointwiseTile } from './index.ts';

/** What the shape rule reads of a 1x1 conv: output pixels over the batch, output channel vec4s, multiply-adds. */
export interface PointwiseShape {
  readonly pixels: number;
  readonly outC4: number;
  readonly macs: number;
}

/**
 * The register tiles a shape rule chooses between (`pointwiseShapeTile`): pixels and output vec4s per invocation,
 * each from 1 to `MAX_REGISTER_TILE`'s.
 */
export interface PointwiseShapeRule {
  readonly pixels: readonly number[];
  readonly vec4s: readonly number[];
  /**
   * Layers with fewer multiply-adds keep the kernel choice's pointwise tile (absent: every layer takes the rule):
   * a wide tile is another, slower pipeline compile, which only a layer with enough work wins back.
   */
  readonly minMacs?: number;
}

/** Workgroups a launch should have at least: SwiftShader hands a launch to its threads in up to 16 batches. */
const MIN_WORKGROUPS = 16;
/** The workgroup sizes the rule uses, largest first: few, since each one is another pipeline to compile. */
const RULE_WORKGROUP_SIZES: readonly number[] = [64, 16, 4];
/**
 * A scalar gather (each lane's load of a vec4 component, masked and bounds-checked on SwiftShader) costs about
 * this many multiply-adds: the weight of loads against FMAs in `tileCost`.
 */
const GATHER_COST = 4;

/**
 * Relative cost of a P x V tile per output vec4 per input vec4: its 4P input and 16V weight scalar gathers
 * against its 16PV multiply-adds, divided by the PV output vec4s it computes.
 */
function tileCost(P: number, V: number): number {
  return (GATHER_COST * (4 * P + 16 * V) + 16 * P * V) / (P * V);
}

/**
 * The software pointwise tile for a 1x1 conv's shape (a pure function of it and the rule, unit-tested): the pixels
 * and output vec4s from `rule.pixels` x `rule.vec4s` with the least padded cost (`tileCost` x pixels x channels,
 * each padded to whole tiles; ties to the earlier pixels, then the earlier vec4s), never more vec4s than the layer
 * has, and the largest of `RULE_WORKGROUP_SIZES` that still gives the launch `MIN_WORKGROUPS` workgroups (else the
 * smallest, 4 invocations: one SwiftShader SIMD group), so that small maps (7x7: 49 pixels) keep both threads of a
 * 2-core machine busy.
 */
export function pointwiseShapeTile({ pixels, outC4 }: Omit<PointwiseShape, 'macs'>, rule: PointwiseShapeRule): PointwiseTile {
  const padded = (n: number, tile: number) => Math.ceil(n / tile) * tile;
  let best = { P: rule.pixels[0], V: Math.min(rule.vec4s[0], outC4), cost: Infinity };
  for (const P of rule.pixels) {
    for (const v of rule.vec4s) {
      const V = Math.min(v, outC4);
      const cost = padded(pixels, P) * padded(outC4, V) * tileCost(P, V);
      if (cost < best.cost) best = { P, V, cost };
    }
  }
  const { P, V } = best;
  const invocations = Math.ceil(pixels / P) * Math.ceil(outC4 / V);
  const workgroupSize = RULE_WORKGROUP_SIZES.find((w) => Math.ceil(invocations / w) >= MIN_WORKGROUPS) ?? RULE_WORKGROUP_SIZES[RULE_WORKGROUP_SIZES.length - 1];
  return { family: 'pointwise', pixelsPerThread: P, vec4sPerThread: V, workgroupSize };
}

/** Whether `rule` picks the tile of a layer of `shape` (`minMacs`), rather than the kernel choice's tile. */
export function shapeRuleApplies(shape: PointwiseShape, rule: PointwiseShapeRule): boolean {
  return shape.macs >= (rule.minMacs ?? 0);
}
