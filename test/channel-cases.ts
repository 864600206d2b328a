/** Channel concat, slice and shuffle cases, and how they are built. */
import type { Shape4, TensorId } from '../src/graph/ir.ts';
import { RELU } from '../src/graph/ir.ts';
import type { GraphBuilder } from '../src/graph/builder.ts';
import type { Rng } from '../src/util/random.ts';
import type { GpuCase } from './gpu-cases.ts';

/**
 * Channel concat and slice: `inputs` concatenates graph inputs of `parts` channels; `convs` concatenates convs of
 * `parts` output channels on one input and convolves the result; `split` slices an input of `sum(parts)` channels
 * into `parts`, convolves all but the first and concatenates them back (ShuffleNet's unit); `dense` grows a
 * concat by convs of `parts[1..]` channels on `parts[0]` input channels (a concat of concats); `denseFlat` is
 * torchvision's DenseNet block: a stem conv of `parts[0]` channels, then each layer concatenates all the features
 * so far (every concat a prefix of the last one) and adds a conv of `parts[i]` channels. `shuffle` is
 * ShuffleNet's channel shuffle of a conv's `parts[0]` channels in `parts[1]` groups, concatenated with a conv of it.
 */
export interface ChannelsCase {
  readonly kind: 'channels';
  readonly via: 'inputs' | 'convs' | 'split' | 'dense' | 'denseFlat' | 'shuffle';
  readonly n: number;
  readonly h: number;
  readonly w: number;
  readonly parts: readonly number[];
  /** `denseFlat`: the first layer reads a concat of the stem alone, not the stem itself (as torchvision exports). */
  readonly wrapFirst?: boolean;
}

/**
 * Channel concat and slice: offsets on and off vec4 boundaries, odd counts, batch 2, a tensor concatenated twice;
 * the `convs` cases with vec4-aligned offsets run in place (producers write into the concat's buffer), and so
 * do the aligned slices of the `split` cases (readers load from the input's buffer).
 */
export const CHANNEL_CASES: readonly GpuCase[] = [
  { kind: 'channels', via: 'inputs', n: 2, h: 3, w: 5, parts: [3, 5, 2] },
  { kind: 'channels', via: 'inputs', n: 1, h: 4, w: 4, parts: [1, 1, 1, 1, 1] },
  { kind: 'channels', via: 'inputs', n: 1, h: 2, w: 3, parts: [7] },
  { kind: 'channels', via: 'convs', n: 2, h: 6, w: 5, parts: [8, 4, 12] },
  { kind: 'channels', via: 'convs', n: 1, h: 5, w: 7, parts: [6, 3, 5] },
  { kind: 'channels', via: 'convs', n: 2, h: 5, w: 3, parts: [4, 8, 5] },
  { kind: 'channels', via: 'split', n: 2, h: 5, w: 4, parts: [8, 8] },
  { kind: 'channels', via: 'split', n: 1, h: 4, w: 6, parts: [3, 6, 5] },
  { kind: 'channels', via: 'split', n: 2, h: 3, w: 5, parts: [4, 8, 5] },
  { kind: 'channels', via: 'dense', n: 2, h: 6, w: 6, parts: [8, 4, 4, 4] },
  { kind: 'channels', via: 'dense', n: 1, h: 5, w: 5, parts: [5, 3, 6] },
  { kind: 'channels', via: 'denseFlat', n: 2, h: 5, w: 6, parts: [8, 4, 4, 4] },
  { kind: 'channels', via: 'denseFlat', n: 1, h: 4, w: 4, parts: [4, 8, 3], wrapFirst: true },
  { kind: 'channels', via: 'shuffle', n: 2, h: 5, w: 3, parts: [12, 2] },
  { kind: 'channels', via: 'shuffle', n: 1, h: 4, w: 6, parts: [9, 3] },
  { kind: 'channels', via: 'shuffle', n: 1, h: 3, w: 3, parts: [24, 4] },
  { kind: 'channels', via: 'shuffle', n: 2, h: 1, w: 1, parts: [6, 2] },
];

export function buildChannelsCase(
  b: GraphBuilder,
  c: ChannelsCase,
  rng: Rng,
  input: (name: string, shape: Shape4) => TensorId,
): TensorId {
  const conv = (x: TensorId, outC: number, kernel: number): TensorId => {
    const fanIn = b.shape(x)[1] * kernel * kernel;
    const bound = Math.sqrt(3 / fanIn);
    const weight = rng.fill(outC * fanIn, -bound, bound);
    return b.conv2d(x, { outChannels: outC, kernel, padding: (kernel - 1) / 2, weight, bias: rng.fill(outC, -0.5, 0.5), activation: RELU });
  };
  const { n, h, w, parts } = c;
  switch (c.via) {
    case 'inputs': {
      const xs = parts.map((p, i) => input(`x${i}`, [n, p, h, w]));
      return b.concat(parts.length > 1 ? xs : [xs[0], xs[0]]);
    }
    case 'convs': {
      const x = input('x', [n, 3, h, w]);
      const cat = b.concat(parts.map((p, i) => conv(x, p, i % 2 === 0 ? 1 : 3)));
      return conv(cat, 5, 1);
    }
    case 'split': {
      const x = input('x', [n, parts.reduce((a, p) => a + p, 0), h, w]);
      let start = 0;
      const pieces = parts.map((p, i) => {
        const slice = b.sliceChannels(x, start, p);
        start += p;
        return i === 0 ? slice : conv(slice, p, i % 2 === 0 ? 3 : 1);
      });
      return b.concat(pieces);
    }
    case 'dense': {
      let cat = input('x', [n, parts[0], h, w]);
      for (const p of parts.slice(1)) cat = b.concat([cat, conv(b.relu(cat), p, 3)]);
      return cat;
    }
    case 'denseFlat': {
      const features = [conv(input('x', [n, 3, h, w]), parts[0], 1)];
      for (const p of parts.slice(1)) {
        const cat = features.length === 1 && !c.wrapFirst ? features[0] : b.concat(features);
        features.push(conv(b.relu(cat), p, 3));
      }
      return b.concat(features);
    }
    case 'shuffle': {
      const s = b.shuffleChannels(conv(input('x', [n, 3, h, w]), parts[0], 1), parts[1]);
      return b.concat([s, conv(s, 4, 3)]);
    }
  }
}
