import type { Graph } from '../ir.ts';
import { foldBatchNorm } from './fold-batchnorm.ts';
import { fuseActivations, fuseResidualAdds } from './fuse.ts';

export { batchNormScaleShift, foldBatchNorm, foldBatchNormIntoConv } from './fold-batchnorm.ts';
export { fuseActivations, fusePoolLinear, fuseResidualAdds } from './fuse.ts';

/**
 * The standard pipeline: fold batch norms, then fuse residual adds (which need the convolution's clamp still
 * empty), then fuse activations (which then apply after the add, as `relu(out + identity)` requires).
 */
export function optimizeGraph(graph: Graph): Graph {
  return fuseActivations(fuseResidualAdds(foldBatchNorm(graph)));
}
