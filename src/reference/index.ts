export {
  activation,
  add,
  addBroadcast,
  avgPool,
  batchNorm,
  conv2d,
  flatten,
  globalAvgPool,
  linear,
  maxPool,
  pad,
  reshape,
  softmax,
} from './ops.ts';
export { argMax, convTranspose, resize } from './upsample.ts';
export type { TensorData } from './ops.ts';
export { concat, shuffleChannels, sliceChannels } from './channels.ts';
export { runGraphReference, runGraphReferenceAll } from './run-graph.ts';
export type { ReferenceInputs } from './run-graph.ts';
export { preprocessReference } from './preprocess.ts';
export { binary } from './binary.ts';
