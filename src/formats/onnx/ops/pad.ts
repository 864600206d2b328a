/** Pad (constant mode, spatial axes): a pending pad that the next Conv or pool may absorb. */
import type { Pads } from '../../../graph/ir.ts';
import { MAX_PAD } from '../../limits.ts';
import type { Converter } from '../context.ts';
import { fmt } from '../values.ts';

export const Pad: Converter = (ctx) => {
  const mode = ctx.attrString('mode', 'constant');
  if (mode !== 'constant') throw ctx.unsupported(`Pad mode '${mode}' is not supported (only 'constant')`);
  const x = ctx.runtime(0, 'data');
  const rank = x.dims.length;
  let pads: number[];
  let value = 0;
  let axes = Array.from({ length: rank }, (_, i) => i);
  if (ctx.opset < 11) {
    const attrName = ctx.opset < 2 ? 'paddings' : 'pads'; // renamed at opset 2
    const p = ctx.attrInts(attrName);
    if (!p) throw ctx.invalid(`attribute '${attrName}' is missing`);
    pads = p;
    value = ctx.attrFloat('value', 0);
  } else {
    pads = ctx.ints(ctx.constant(1, 'pads'), 'pads');
    const cv = ctx.optionalConstant(2, 'constant_value');
    if (cv) value = ctx.scalar(cv, 'constant_value');
    const ax = ctx.opset >= 18 ? ctx.optionalConstant(3, 'axes') : undefined;
    if (ax) axes = ctx.ints(ax, 'axes').map((a) => ctx.axis(a, rank, 'axes entry'));
  }
  if (pads.length !== 2 * axes.length) {
    throw ctx.invalid(`pads ${fmt(pads)} should have ${2 * axes.length} values (begin and end for each of ${axes.length} axes)`);
  }
  if (!pads.every((p) => Number.isSafeInteger(p))) throw ctx.invalid(`pads ${fmt(pads)} must be integers`);
  if (pads.some((p) => Math.abs(p) > MAX_PAD)) throw ctx.unsupported(`pads ${fmt(pads)}: webcnn pads (and crops) up to ${MAX_PAD} per side`);
  const begin = new Array<number>(rank).fill(0);
  const end = new Array<number>(rank).fill(0);
  axes.forEach((a, i) => {
    begin[a] += pads[i];
    end[a] += pads[i + axes.length];
  });
  const spatial = rank >= 3 ? [2, 3].filter((a) => a < rank) : [];
  for (let a = 0; a < rank; a++) {
    if (!spatial.includes(a) && (begin[a] !== 0 || end[a] !== 0)) {
      throw ctx.unsupported(`padding axis ${a} of ${fmt(x.dims)} is not supported; webcnn pads the spatial axes (2 and 3) only`);
    }
  }
  const dims = x.dims.map((d, a) => d + begin[a] + end[a]);
  if (dims.some((d) => d < 1)) throw ctx.invalid(`pads ${fmt(pads)} leave nothing of ${fmt(x.dims)}`);
  if (begin.every((p) => p === 0) && end.every((p) => p === 0)) {
    ctx.setOutput(x);
    return;
  }
  const irPads: Pads = [begin[2], begin[3] ?? 0, end[2], end[3] ?? 0];
  // A pad node even where a Conv or pool reads it: the shared `absorbPads` pass folds it in after import.
  ctx.runtimeOut(ctx.b.pad(x.id, { pads: irPads, value }, ctx.name), dims);
};
