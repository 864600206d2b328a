/** Kernel / stride / dilation / pads of ONNX Conv and pools, resolved into IR pairs. */
import type { Shape4 } from '../../graph/ir.ts';
import { checkWindow } from '../limits.ts';
import type { NodeContext } from './context.ts';
import { fmt } from './values.ts';

export interface Window {
  /** IR per-axis values `[h, w]`. */
  readonly kernel: [number, number];
  readonly stride: [number, number];
  readonly dilation: [number, number];
  /** IR pads `[top, left, bottom, right]`. */
  readonly pads: [number, number, number, number];
  readonly autoPad: string;
}

/**
 * Resolves kernel / strides / dilations / pads / auto_pad for an input of `spatialDims` (1 or 2 spatial
 * axes) into IR pairs and pads. SAME_UPPER / SAME_LOWER: output = ceil(in / stride), total padding
 * `max(0, (out - 1) * stride + (k - 1) * d + 1 - in)`, the odd unit at the end (UPPER) or start (LOWER).
 */
export function resolveWindow(ctx: NodeContext, spatialDims: readonly number[], kernel: readonly number[], allowDilation: boolean): Window {
  const s = spatialDims.length;
  const list = (name: string, fallback: number, length = s): number[] => {
    const v = ctx.attrInts(name);
    if (!v) return new Array<number>(length).fill(fallback);
    if (v.length !== length) throw ctx.invalid(`attribute '${name}' has ${v.length} values, expected ${length}`);
    return v;
  };
  const strides = list('strides', 1);
  const dilations = list('dilations', 1);
  if (!allowDilation && dilations.some((d) => d !== 1)) {
    throw ctx.unsupported(`dilations ${fmt(dilations)} are not supported for ${ctx.opType}`);
  }
  if (![...strides, ...dilations, ...kernel].every((v) => Number.isInteger(v) && v >= 1)) {
    throw ctx.invalid(`kernel ${fmt(kernel)}, strides ${fmt(strides)} and dilations ${fmt(dilations)} must be positive`);
  }
  const autoPad = ctx.attrString('auto_pad', 'NOTSET');
  let begins: number[];
  let ends: number[];
  switch (autoPad) {
    case 'NOTSET':
    case '': {
      const pads = list('pads', 0, 2 * s);
      if (!pads.every((p) => Number.isInteger(p) && p >= 0)) throw ctx.invalid(`pads ${fmt(pads)} must be non-negative`);
      begins = pads.slice(0, s);
      ends = pads.slice(s);
      break;
    }
    case 'VALID':
      begins = new Array<number>(s).fill(0);
      ends = new Array<number>(s).fill(0);
      break;
    case 'SAME_UPPER':
    case 'SAME_LOWER': {
      begins = [];
      ends = [];
      for (let i = 0; i < s; i++) {
        const out = Math.ceil(spatialDims[i] / strides[i]);
        const total = Math.max(0, (out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - spatialDims[i]);
        const small = Math.floor(total / 2);
        begins.push(autoPad === 'SAME_UPPER' ? small : total - small);
        ends.push(autoPad === 'SAME_UPPER' ? total - small : small);
      }
      break;
    }
    default:
      throw ctx.invalid(`auto_pad '${autoPad}' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID`);
  }
  checkWindow({ kernel, stride: strides, dilation: dilations, pads: [...begins, ...ends] }, ctx.where);
  const pair = (v: readonly number[], one: number): [number, number] => (s === 1 ? [v[0], one] : [v[0], v[1]]);
  return {
    kernel: pair(kernel, 1),
    stride: pair(strides, 1),
    dilation: pair(dilations, 1),
    pads: s === 1 ? [begins[0], 0, ends[0], 0] : [begins[0], begins[1], ends[0], ends[1]],
    autoPad,
  };
}

export function spatialInput(ctx: NodeContext, v: { dims: readonly number[] }): number {
  const rank = v.dims.length;
  if (rank === 5) throw ctx.unsupported(`3-D ${ctx.opType} (input ${fmt(v.dims)}) is not supported; webcnn handles 1-D and 2-D`);
  if (rank !== 3 && rank !== 4) throw ctx.invalid(`input ${fmt(v.dims)} must have rank 3 or 4 ([N, C, H(, W)])`);
  return rank;
}

export function outDimsFromIR(shape: Shape4, rank: number): number[] {
  return shape.slice(0, rank);
}
