import { ceilDiv } from '../common.ts';

/** The rolling kernel's shape on one layer: output columns per invocation and output rows its loop walks. */
export interface RollingShape {
  readonly pixelsPerThread: number;
  readonly rollingRows: number;
}

/** What `depthwiseRollingFit` reads of a depthwise layer: batch, channel vec4s, output map, window and stride. */
export interface RollingLayer {
  readonly n: number;
  readonly c4: number;
  readonly outH: number;
  readonly outW: number;
  readonly kernelH: number;
  readonly kernelW: number;
  readonly strideY: number;
  readonly strideX: number;
}

/** Invocations per workgroup (`WORKGROUP_SIZE`). */
const INVOCATIONS_PER_WORKGROUP = 64;
/**
 * An invocation's fixed cost in vec4 gathers besides its loads: the divisions that place it (per lane on
 * SwiftShader), the column offsets and masks. Fitted to interleaved runs: splitting a 14-row walk into four cost
 * about three times what the loads alone predict.
 */
const INVOCATION_OVERHEAD = 50;
/**
 * SwiftShader spreads workgroups over the machine's threads (at least 2): a launch with fewer workgroups than that
 * leaves threads idle. Interleaved runs found no such penalty for more uneven spreads (3 or 4.5 workgroups on 2
 * threads walking whole maps beat 6 to 9 walking a quarter of them), so the model charges only this one.
 */
const MIN_THREADS = 2;

/**
 * The modelled cost of the rolling kernel with `s` on `l`, in vec4 gathers: on SwiftShader a vec4 load or store
 * is 16 masked scalar accesses per 4-lane SIMD group and a vec4 multiply-add 4 SIMD ops, so a multiply-add counts
 * a quarter, a register move between kept rows a quarter, a store with its epilogue one and a half. Each
 * invocation loads the channel's weights, its bias and the first `KH - strideY` input rows once (the prologue),
 * then per output row `strideY` new input rows and `P * KH * KW` multiply-adds. Columns past the map's edge in the
 * last column group are computed and not stored, so they cost like the others. A launch of fewer workgroups than
 * `MIN_THREADS` costs as if it had that many.
 */
export function rollingCost(l: RollingLayer, s: RollingShape): number {
  const P = s.pixelsPerThread;
  const span = (P - 1) * l.strideX + l.kernelW;
  const keep = Math.max(l.kernelH - l.strideY, 0);
  const prologue = l.kernelH * l.kernelW + 1 + keep * span + INVOCATION_OVERHEAD;
  const perRow = l.strideY * span + P * (l.kernelH * l.kernelW / 4 + 1.5) + keep * span / 4;
  const columnGroups = l.n * l.c4 * ceilDiv(l.outW, P);
  const rowGroups = ceilDiv(l.outH, s.rollingRows);
  const work = columnGroups * (rowGroups * prologue + l.outH * perRow);
  const workgroups = (columnGroups * rowGroups) / INVOCATIONS_PER_WORKGROUP;
  return work / Math.min(1, workgroups / MIN_THREADS);
}

/**
 * The rolling kernel's columns and rows for a layer (the software default's rule). Rows: the fewest row groups of
 * at most `cap.rollingRows` rows, evenly split (a 56-row map walks 4 x 14, a 7-row map 7); splitting further to
 * get more workgroups measured slower. Columns: the count from 1 to `cap.pixelsPerThread` with the least
 * `rollingCost`, ties to more columns; so 7-, 14- and 28-column maps get 7 (no padded column), 56 and 112 get 8,
 * and a launch that would leave a thread idle gets fewer.
 */
export function depthwiseRollingFit(l: RollingLayer, cap: RollingShape): RollingShape {
  const rows = ceilDiv(l.outH, ceilDiv(l.outH, cap.rollingRows));
  let best: RollingShape = { pixelsPerThread: 1, rollingRows: rows };
  let bestCost = Infinity;
  for (let P = Math.min(cap.pixelsPerThread, l.outW); P >= 1; P--) {
    const cost = rollingCost(l, { pixelsPerThread: P, rollingRows: rows });
    if (cost < bestCost * (1 - 1e-9)) {
      best = { pixelsPerThread: P, rollingRows: rows };
      bestCost = cost;
    }
  }
  return best;
}
