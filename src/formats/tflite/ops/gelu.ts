/** GELU: the tanh form (approximate true) is the table's `gelu-tanh`, the erf form (approximate false) the exact `gelu`. */
import type { TfliteOpConverter } from '../converter.ts';
import { geluOptions } from '../schema.ts';
import { tableActivation } from './activation-function.ts';

const geluTanh = tableActivation('gelu-tanh');
const geluExact = tableActivation('gelu');

export const gelu: TfliteOpConverter = (tc, op, site) => {
  if (geluOptions(op.options).approximate) geluTanh(tc, op, site);
  else geluExact(tc, op, site);
};
