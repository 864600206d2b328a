/** GELU: its tanh form is the table's `gelu-tanh`; the erf form (approximate false) is not supported. */
import { UnsupportedOpError } from '../../../errors.ts';
import type { TfliteOpConverter } from '../converter.ts';
import { geluOptions } from '../schema.ts';
import { tableActivation } from './activation-function.ts';

const geluTanh = tableActivation('gelu-tanh');

export const gelu: TfliteOpConverter = (tc, op, site) => {
  if (!geluOptions(op.options).approximate) {
    throw new UnsupportedOpError(`${site.where}: GELU with approximate = false (the erf form) is not supported; only the tanh form`);
  }
  geluTanh(tc, op, site);
};
