/** AVERAGE_POOL_2D and MAX_POOL_2D (a fused activation becomes an activation node). */
import { ModelFormatError } from '../../../errors.ts';
import { addPads } from '../../../graph/ir.ts';
import { checkWindow } from '../../limits.ts';
import type { TfliteConverter, TfliteOpConverter } from '../converter.ts';
import type { TfliteOperator } from '../schema.ts';
import { pool2dOptions } from '../schema.ts';

export const averagePool2d: TfliteOpConverter = (tc, op, { where, name }) => convert(tc, op, false, where, name);
export const maxPool2d: TfliteOpConverter = (tc, op, { where, name }) => convert(tc, op, true, where, name);

function convert(tc: TfliteConverter, op: TfliteOperator, isMax: boolean, where: string, name: string): void {
  const o = pool2dOptions(op.options);
  const activation = tc.fusedActivation(o.activation, where);
  const { x, pads: extra } = tc.windowInput(op.inputs[0], where);
  const [, , h, w] = tc.b.shape(x);
  const kernel: [number, number] = [o.filterH, o.filterW];
  const stride: [number, number] = [o.strideH, o.strideW];
  if (![...kernel, ...stride].every((v) => Number.isInteger(v) && v >= 1)) {
    throw new ModelFormatError(`${where}: filter ${kernel.join('x')} and stride ${stride.join('x')} must be positive`);
  }
  const pads = tc.windowPads(o.padding, [h, w], kernel, stride, [1, 1], where);
  checkWindow({ kernel, stride, dilation: [1, 1], pads: addPads(pads, extra) }, where);
  // TFLite's average pool divides by the taps inside the input; zeros from a PAD are real taps, which
  // `absorbPads` keeps when it folds the PAD in (the pool then counts padding).
  const options = { kernel, stride, padding: pads, countIncludePad: false };
  let y = isMax ? tc.b.maxPool(x, options, name) : tc.b.avgPool(x, options, name);
  if (activation.kind !== 'none') y = tc.b.activation(y, activation, `${name}/activation`);
  tc.bindOutput(op, y, where);
}
