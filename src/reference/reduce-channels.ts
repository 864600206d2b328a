/** CPU reference of `reduceChannels` nodes: the mean (f64 sum) or the maximum over the channels of each pixel. */
import { ShapeError } from '../errors.ts';
import type { Shape4 } from '../graph/ir.ts';
import { elementCount, shapeToString } from '../graph/ir.ts';
import type { TensorData } from './ops.ts';

export function reduceChannels(x: Float32Array, shape: Shape4, op: 'mean' | 'max', where = 'reduceChannels'): TensorData {
  if (x.length !== elementCount(shape)) throw new ShapeError(`${where}: input has ${x.length} values, expected ${elementCount(shape)} for shape ${shapeToString(shape)}`);
  const [N, C, H, W] = shape;
  const plane = H * W;
  const out = new Float32Array(N * plane);
  for (let n = 0; n < N; n++)
    for (let p = 0; p < plane; p++) {
      let acc = op === 'max' ? -Infinity : 0;
      for (let c = 0; c < C; c++) {
        const v = x[(n * C + c) * plane + p];
        acc = op === 'max' ? (Number.isNaN(v) || Number.isNaN(acc) ? NaN : Math.max(acc, v)) : acc + v;
      }
      out[n * plane + p] = op === 'max' ? acc : acc / C;
    }
  return { data: out, shape: [N, 1, H, W] };
}
