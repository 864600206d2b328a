import { WORKGROUP_SIZE, ceilDiv } from '../common.ts';
import type { Conv2dTile } from './index.ts';
import { wrapsAt } from './index.ts';

/** What the shape rule reads of a dense KxK conv: its output (images, rows, columns, vec4s) and dilation. */
export interface Conv2dShape {
  readonly n: number;
  readonly outH: number;
  readonly outW: number;
  readonly outC4: number;
  readonly dilated: boolean;
}

/**
 * The register tiles a shape rule chooses between (`conv2dShapeTile`), in order of preference (the fastest per
 * output first), and how many workgroups a launch must keep for a tile to be taken.
 */
export interface Conv2dShapeRule {
  readonly tiles: readonly Conv2dTile[];
  readonly minWorkgroups: number;
}

/** Workgroups of the conv2d kernel that runs `t` on `shape` (the row or the wrapped layout, `wrapsAt`). */
export function conv2dWorkgroups(shape: Conv2dShape, t: Conv2dTile): number {
  const coGroups = ceilDiv(shape.outC4, Math.min(t.vec4sPerThread, shape.outC4));
  const pixelGroups = wrapsAt(t, shape.outW, shape.dilated)
    ? ceilDiv(shape.n * shape.outH * shape.outW, t.pixelsPerThread)
    : shape.n * shape.outH * ceilDiv(shape.outW, t.pixelsPerThread);
  return ceilDiv(pixelGroups * coGroups, WORKGROUP_SIZE);
}

/**
 * The conv2d tile for a dense KxK conv's shape (a pure function of it and the rule, unit-tested): the first of
 * `rule.tiles` whose launch keeps at least `rule.minWorkgroups` workgroups, else the last. A wider tile does more
 * multiply-adds per loaded scalar, but on a small map it leaves too few workgroups to keep SwiftShader's threads
 * busy.
 */
export function conv2dShapeTile(shape: Conv2dShape, rule: Conv2dShapeRule): Conv2dTile {
  return rule.tiles.find((t) => conv2dWorkgroups(shape, t) >= rule.minWorkgroups) ?? rule.tiles[rule.tiles.length - 1];
}
