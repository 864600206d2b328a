export {
  activation,
  add,
  avgPool,
  batchNorm,
  conv2d,
  flatten,
  globalAvgPool,
  linear,
  maxPool,
  softmax,
} from './ops.ts';
export type { TensorData } from './ops.ts';
export { runGraphReference, runGraphReferenceAll } from './run-graph.ts';
export type { ReferenceInputs } from './run-graph.ts';
export { preprocessReference } from './preprocess.ts';
