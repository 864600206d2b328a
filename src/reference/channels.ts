/** CPU references of the channel ops: concatenation along channels and a channel range (NCHW Float32Arrays). */
import { ShapeError } from '../errors.ts';
import type { Shape4 } from '../graph/ir.ts';
import { elementCount, shapeToString } from '../graph/ir.ts';
import { concatOutputShape, shuffleChannelsShape, shufflePermutation, sliceChannelsShape } from '../graph/channel-shapes.ts';
import type { TensorData } from './ops.ts';

function checkLength(data: Float32Array, shape: Shape4, where: string, what: string): void {
  if (data.length !== elementCount(shape)) {
    throw new ShapeError(`${where}: ${what} has ${data.length} values, expected ${elementCount(shape)} for shape ${shapeToString(shape)}`);
  }
}

/** Concatenates `xs` (with `shapes`) along the channel axis, in order. */
export function concat(xs: readonly Float32Array[], shapes: readonly Shape4[], where = 'concat'): TensorData {
  if (xs.length !== shapes.length) throw new ShapeError(`${where}: ${xs.length} inputs but ${shapes.length} shapes`);
  xs.forEach((x, i) => checkLength(x, shapes[i], where, `input ${i}`));
  const shape = concatOutputShape(shapes, where);
  const [N, C, H, W] = shape;
  const plane = H * W;
  const out = new Float32Array(elementCount(shape));
  for (let n = 0; n < N; n++) {
    let c0 = 0;
    xs.forEach((x, i) => {
      const c = shapes[i][1];
      out.set(x.subarray(n * c * plane, (n + 1) * c * plane), (n * C + c0) * plane);
      c0 += c;
    });
  }
  return { data: out, shape };
}

/** Channels `start .. start + count - 1` of `x`. */
export function sliceChannels(x: Float32Array, shape: Shape4, start: number, count: number, where = 'slice'): TensorData {
  checkLength(x, shape, where, 'input');
  const outShape = sliceChannelsShape(shape, start, count, where);
  const [N, C, H, W] = shape;
  const plane = H * W;
  const out = new Float32Array(elementCount(outShape));
  for (let n = 0; n < N; n++) out.set(x.subarray((n * C + start) * plane, (n * C + start + count) * plane), n * count * plane);
  return { data: out, shape: outShape };
}

/** ShuffleNet's channel shuffle: output channel `j * groups + k` is input channel `k * (c / groups) + j`. */
export function shuffleChannels(x: Float32Array, shape: Shape4, groups: number, where = 'shuffle'): TensorData {
  checkLength(x, shape, where, 'input');
  shuffleChannelsShape(shape, groups, where);
  const [N, C, H, W] = shape;
  const plane = H * W;
  const perm = shufflePermutation(C, groups);
  const out = new Float32Array(x.length);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) out.set(x.subarray((n * C + perm[c]) * plane, (n * C + perm[c] + 1) * plane), (n * C + c) * plane);
  }
  return { data: out, shape };
}
