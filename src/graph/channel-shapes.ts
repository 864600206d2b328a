/** Shape rules of the channel ops (concat, channel slice), shared by the builder and validation. */
import { ShapeError, UnsupportedOpError } from '../errors.ts';
import type { Shape4 } from './ir.ts';
import { shapeToString } from './ir.ts';

/**
 * Most inputs one concat may have: far beyond any network's (DenseNet's widest has tens), and each input is
 * a copy launch or a view to plan, so a file cannot make the compile do millions of them.
 */
export const MAX_CONCAT_INPUTS = 4096;

/** The shape of a channel concatenation of `inputs`: their channel counts summed, `n`, `h`, `w` equal. */
export function concatOutputShape(inputs: readonly Shape4[], where: string): Shape4 {
  if (inputs.length === 0) throw new ShapeError(`${where}: concat needs at least one input`);
  if (inputs.length > MAX_CONCAT_INPUTS) {
    throw new UnsupportedOpError(`${where}: concat of ${inputs.length} inputs; webcnn takes up to ${MAX_CONCAT_INPUTS}`);
  }
  const [n, , h, w] = inputs[0];
  let c = 0;
  for (const s of inputs) {
    if (s[0] !== n || s[2] !== h || s[3] !== w) {
      throw new ShapeError(
        `${where}: concat inputs must agree on every axis but channels, got ${inputs.map(shapeToString).join(' and ')}`,
      );
    }
    c += s[1];
  }
  return [n, c, h, w];
}

/** The shape of channels `start .. start + count - 1` of `input`. */
export function sliceChannelsShape(input: Shape4, start: number, count: number, where: string): Shape4 {
  const [n, c, h, w] = input;
  if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 1 || start + count > c) {
    throw new ShapeError(`${where}: channels ${start} to ${start + count - 1} are not a range of the ${c} channels of ${shapeToString(input)}`);
  }
  return [n, count, h, w];
}

/** A channel shuffle keeps its input's shape; the channels must split into `groups` equal parts. */
export function shuffleChannelsShape(input: Shape4, groups: number, where: string): Shape4 {
  if (!Number.isInteger(groups) || groups < 1 || input[1] % groups !== 0) {
    throw new ShapeError(`${where}: the ${input[1]} channels of ${shapeToString(input)} do not shuffle in ${groups} groups`);
  }
  return input;
}

/** The source channel of each output channel of a shuffle of `channels` in `groups`. */
export function shufflePermutation(channels: number, groups: number): Int32Array {
  const size = channels / groups;
  return Int32Array.from({ length: channels }, (_, ch) => (ch % groups) * size + Math.floor(ch / groups));
}
