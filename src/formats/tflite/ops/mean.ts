/** MEAN and REDUCE_MAX over the spatial axes: a global average pool, a global max pool. */
import { UnsupportedOpError } from '../../../errors.ts';
import type { TfliteOpConverter } from '../converter.ts';
import { dimsToString } from '../dims.ts';
import { reducerOptions } from '../schema.ts';

export const mean: TfliteOpConverter = spatialReduce('MEAN');
export const reduceMax: TfliteOpConverter = spatialReduce('REDUCE_MAX');

function spatialReduce(opName: 'MEAN' | 'REDUCE_MAX'): TfliteOpConverter {
  return (tc, op, { where, name }) => {
    reducerOptions(op.options); // keep_dims either way: the IR result is [n, c, 1, 1]
    const t = tc.tensor(op.inputs[0], where);
    const x = tc.activation(op.inputs[0], where);
    const axes = tc.intConstant(op.inputs[1], 'axes', where).map((a) => (a < 0 ? a + 4 : a));
    const set = new Set(axes);
    if (t.shape.length !== 4 || set.size !== 2 || !set.has(1) || !set.has(2)) {
      throw new UnsupportedOpError(
        `${where}: ${opName} over axes [${axes.join(', ')}] of ${dimsToString(t.shape)}; only the spatial reduction (axes 1 and 2 of NHWC) is supported`,
      );
    }
    if (opName === 'MEAN') {
      tc.bindOutput(op, tc.b.globalAvgPool(x, name), where);
      return;
    }
    const [, , h, w] = tc.b.shape(x);
    tc.bindOutput(op, tc.b.maxPool(x, { kernel: [h, w], stride: 1 }, name), where);
  };
}
