/**
 * A deliberately WRONG bottleneck, kept only so that tests can prove the bottleneck chaining test is able to
 * fail. Never use it to build a model.
 *
 * The seed listing of this project fed the block input `x` to every conv of the bottleneck:
 *
 *     out = relu(bn1(conv1(x)))
 *     out = relu(bn2(conv2(x)))      # bug: should be conv2(out)
 *     out = bn3(conv3(x))            # bug: should be conv3(out)
 *     out = relu(out + identity)
 *
 * so conv1/bn1/relu and conv2/bn2/relu_1 are dead and the block computes relu(bn3(conv3(x)) + identity).
 * conv2 (`[width, width, 3, 3]`) and conv3 (`[4 * width, width, 1, 1]`) only accept `x` when inC == width, so
 * building this graph throws `ShapeError` otherwise (and also when stride != 1, since conv3 on `x` keeps the
 * input resolution while the downsampled identity does not). The correct block is `bottleneck` in blocks.ts;
 * an oracle that evaluates both graphs on the same input and parameters must see different outputs.
 */
import { GraphBuilder } from '../graph/builder.ts';
import type { Graph, Shape4, TensorId } from '../graph/ir.ts';
import type { BottleneckOptions } from './blocks.ts';
import { BOTTLENECK_EXPANSION, batchNorm2d, bottleneckJoin, conv2dNoBias, expectChannels, oneBlockGraph } from './blocks.ts';
import type { ParamSource } from './params.ts';

export interface UnchainedBottleneckOptions extends BottleneckOptions {
  /**
   * Keep the dead conv1 -> bn1 -> relu and conv2 -> bn2 -> relu_1 nodes (whose results nothing reads), as the
   * buggy listing computes them. Default true; pass false for executors that reject unused tensors.
   */
  keepDeadNodes?: boolean;
}

/** Adds the buggy seed-listing bottleneck (every conv fed `x`) to `b`. See the file comment. */
export function bottleneckUnchained(
  b: GraphBuilder,
  x: TensorId,
  params: ParamSource,
  prefix: string,
  o: UnchainedBottleneckOptions,
): TensorId {
  const outC = BOTTLENECK_EXPANSION * o.width;
  expectChannels(b, x, o.inC, prefix);
  if (o.keepDeadNodes ?? true) {
    let dead = conv2dNoBias(b, x, params, `${prefix}.conv1`, { inC: o.inC, outC: o.width, kernel: 1 });
    dead = batchNorm2d(b, dead, params, `${prefix}.bn1`, o.width);
    b.relu(dead, `${prefix}.relu`);
    // Bug: conv2 reads x. conv2dNoBias checks x has `width` channels (ShapeError when inC != width).
    dead = conv2dNoBias(b, x, params, `${prefix}.conv2`, { inC: o.width, outC: o.width, kernel: 3, stride: o.stride });
    dead = batchNorm2d(b, dead, params, `${prefix}.bn2`, o.width);
    b.relu(dead, `${prefix}.relu_1`);
  }
  // Bug: conv3 reads x (ShapeError when inC != width).
  let out = conv2dNoBias(b, x, params, `${prefix}.conv3`, { inC: o.width, outC, kernel: 1 });
  out = batchNorm2d(b, out, params, `${prefix}.bn3`, outC);
  return bottleneckJoin(b, out, x, params, prefix, o);
}

/**
 * A one-block graph with the buggy wiring: input `input` of `inputShape`, parameters under `prefix` (default
 * `block`, same names as `buildBottleneckGraph`), one output. Throws `ShapeError` unless inC == width (and
 * stride == 1 when downsampling).
 */
export function buildUnchainedBottleneckGraph(
  params: ParamSource,
  o: UnchainedBottleneckOptions & { inputShape: Shape4; prefix?: string },
): Graph {
  return oneBlockGraph(o.inputShape, (b, x) => bottleneckUnchained(b, x, params, o.prefix ?? 'block', o));
}
