import { ShapeError } from '../errors.ts';
import type { LayerNormAttrs } from './ir.ts';

/** Checks a layer norm's gamma / beta against the channel count and its epsilon. */
export function checkLayerNorm(attrs: LayerNormAttrs, channels: number, where: string): void {
  if (!(attrs.gamma instanceof Float32Array) || attrs.gamma.length !== channels) {
    throw new ShapeError(`${where}: layer norm gamma has ${attrs.gamma?.length} values, expected ${channels}`);
  }
  if (attrs.beta && attrs.beta.length !== channels) {
    throw new ShapeError(`${where}: layer norm beta has ${attrs.beta.length} values, expected ${channels}`);
  }
  if (!Number.isFinite(attrs.epsilon) || attrs.epsilon < 0) throw new ShapeError(`${where}: layer norm epsilon ${attrs.epsilon} must be finite and >= 0`);
}
