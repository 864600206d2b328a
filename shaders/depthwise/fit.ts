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
/** Thread counts the balance term averages over: SwiftShader spreads workgroups over the machine's threads. */
const BALANCE_THREADS = [2, 4] as const;

/**
 * The modelled cost of the rolling kernel with `s` on `l`, in vec4 gathers: on SwiftShader a vec4 load or store
 * is 16 masked scalar accesses per 4-lane SIMD group and a vec4 multiply-add 4 SIMD ops, so a multiply-add counts
 * a quarter, a register move between kept rows a quarter, a store with its epilogue one and a half. Each
 * invocation loads the channel's weights, its bias and the first `KH - strideY` input rows once (the prologue),
 * then per output row `strideY` new input rows and `P * KH * KW` multiply-adds. Columns past the map's edge in the
 * last column group are computed and not stored, so they cost like the others. The sum is divided by the share of
 * the machine the launch keeps busy: workgroups (partly filled ones by their share) over the workgroup slots of
 * the rounds they need on 2 and on 4 threads, averaged.
 */
export function rollingCost(l: RollingLayer, s: RollingShape): number {
  const P = s.pixelsPerThread;
  const span = (P - 1) * l.strideX + l.kernelW;
  const keep = Math.max(l.kernelH - l.strideY, 0);
  const prologue = l.kernelH * l.kernelW + 1 + keep * span;
  const perRow = l.strideY * span + P * (l.kernelH * l.kernelW / 4 + 1.5) + keep * span / 4;
  const columnGroups = l.n * l.c4 * ceilDiv(l.outW, P);
  const rowGroups = ceilDiv(l.outH, s.rollingRows);
  const work = columnGroups * (rowGroups * prologue + l.outH * perRow);
  const workgroups = (columnGroups * rowGroups) / INVOCATIONS_PER_WORKGROUP;
  const busy = BALANCE_THREADS.reduce((sum, t) => sum + workgroups / (t * Math.ceil(Math.ceil(workgroups) / t)), 0) / BALANCE_THREADS.length;
  return work / busy;
}

/**
 * The rolling kernel's columns and rows for a layer (the software default's rule): the shape with the least
 * `rollingCost` among 1 to `cap.pixelsPerThread` columns and row counts that split the output rows evenly
 * (`ceil(outH / g)` for g row groups) up to `cap.rollingRows`. Ties go to more columns, then more rows.
 * So a 7- or 14-column map gets 7 columns (no padded column), a map big enough for many workgroups walks up to
 * `cap.rollingRows` rows, and a map with few channel vec4s splits its rows until the launch fills the machine.
 */
export function depthwiseRollingFit(l: RollingLayer, cap: RollingShape): RollingShape {
  let best: RollingShape | undefined;
  let bestCost = Infinity;
  for (let P = Math.min(cap.pixelsPerThread, l.outW); P >= 1; P--) {
    let lastRows = 0;
    for (let g = ceilDiv(l.outH, cap.rollingRows); g <= l.outH; g++) {
      const R = ceilDiv(l.outH, g);
      if (R === lastRows) continue;
      lastRows = R;
      const shape = { pixelsPerThread: P, rollingRows: R };
      const cost = rollingCost(l, shape);
      if (cost < bestCost * (1 - 1e-9)) {
        best = shape;
        bestCost = cost;
      }
    }
  }
  return best ?? { pixelsPerThread: 1, rollingRows: 1 };
}
