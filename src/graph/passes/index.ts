import type { Graph } from '../ir.ts';
import { foldBatchNorm } from './fold-batchnorm.ts';
import { fuseActivations, fusePoolLinear, fuseResidualAdds } from './fuse.ts';
import { fuseInputTransforms } from './fuse-input-transforms.ts';
import { fuseSwish } from './fuse-swish.ts';

export { absorbPads } from './absorb-pads.ts';
export { batchNormScaleShift, foldBatchNorm, foldBatchNormIntoConv, scaledWeightFactor } from './fold-batchnorm.ts';
export { mergeAffineNodes } from './merge-affine.ts';
export type { PassAllocator } from './merge-affine.ts';
export { pruneDeadNodes } from './prune.ts';
export { fuseActivations, fusePoolLinear, fuseResidualAdds } from './fuse.ts';
export { fuseInputTransforms } from './fuse-input-transforms.ts';
export { fuseSwish } from './fuse-swish.ts';

export interface OptimizeOptions {
  /**
   * Fuse a global average pool into the fully connected layer it feeds (`fusePoolLinear`); default true. Off
   * for consumers that walk the graph with ops of their own and know no `poolInput` (e.g. a peer engine).
   */
  readonly fusePoolLinear?: boolean;
  /**
   * Fold per-channel ops (squeeze-and-excitation's gate, a batch norm + ReLU after no convolution) into the 1x1
   * convolution reading them (`fuseInputTransforms`); default true. Off for consumers that know no `attrs.input`.
   */
  readonly fuseInputTransforms?: boolean;
}

/**
 * The standard pipeline: fold batch norms, then fuse residual adds (which need the convolution's clamp still
 * empty), then turn `x * sigmoid(x)` and its hard form into one swish activation (`fuseSwish`), then fuse
 * activations (which then apply after the add, as `relu(out + identity)` requires), then fold
 * per-channel ops into the 1x1 convolutions reading them (after the activations, so a BN's ReLU goes along), then
 * fuse the classifier head's global average pool into its fully connected layer.
 */
export function optimizeGraph(graph: Graph, options: OptimizeOptions = {}): Graph {
  let fused = fuseActivations(fuseSwish(fuseResidualAdds(foldBatchNorm(graph))));
  if (options.fuseInputTransforms !== false) fused = fuseInputTransforms(fused);
  return options.fusePoolLinear === false ? fused : fusePoolLinear(fused);
}
