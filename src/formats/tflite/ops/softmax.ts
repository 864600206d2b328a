/** SOFTMAX over the classes of `[n, classes]` (beta 1). */
import { UnsupportedOpError } from '../../../errors.ts';
import type { TfliteOpConverter } from '../converter.ts';
import { nhwc } from '../dims.ts';
import { softmaxOptions } from '../schema.ts';

export const softmax: TfliteOpConverter = (tc, op, { where, name }) => {
  const { beta } = softmaxOptions(op.options);
  if (beta !== 1) throw new UnsupportedOpError(`${where}: SOFTMAX with beta ${beta} is not supported (only beta = 1)`);
  const x = tc.activation(op.inputs[0], where);
  const s = tc.b.shape(x);
  if (s[2] !== 1 || s[3] !== 1) {
    throw new UnsupportedOpError(`${where}: SOFTMAX over the channels of each pixel of ${nhwc(s)} is not supported; only [n, classes]`);
  }
  tc.bindOutput(op, tc.b.softmax(x, name), where);
};
