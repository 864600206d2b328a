/** Gelu (opset 20): `approximate` 'tanh' is the table's `gelu-tanh`, 'none' (the default) the exact `gelu`. */
import type { Converter } from '../context.ts';
import { tableActivation } from './activation-function.ts';

const exact = tableActivation('gelu');
const tanhForm = tableActivation('gelu-tanh');

export const Gelu: Converter = (ctx) => {
  const approximate = ctx.attrString('approximate', 'none');
  if (approximate === 'tanh') tanhForm(ctx);
  else if (approximate === 'none') exact(ctx);
  else throw ctx.unsupported(`approximate '${approximate}' is not supported (only 'none' or 'tanh')`);
};
