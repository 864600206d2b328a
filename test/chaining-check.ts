/**
 * The seed listing's Bottleneck fed the block input `x` to conv2 and conv3; the intended chain is
 * conv1 -> conv2 -> conv3. This check runs the engine's bottleneck on the GPU and compares it with the CPU
 * reference of both wirings (same weights, same input): the engine must match the chained one, and the two
 * wirings must differ by far more than the tolerance, so the comparison can tell them apart.
 */
import { buildBottleneckGraph, buildUnchainedBottleneckGraph, randomParams } from '../src/models/index.ts';
import type { Shape4 } from '../src/graph/ir.ts';
import { elementCount } from '../src/graph/ir.ts';
import { runGraphReference } from '../src/reference/index.ts';
import { compileModel } from '../src/runtime/compile.ts';
import { Rng } from '../src/util/random.ts';
import { compareOutputs, type Comparison } from './gpu-cases.ts';

export interface ChainingResult {
  /** Engine vs the chained reference. */
  readonly engineVsChained: Comparison;
  /** Engine vs the unchained (buggy) reference. */
  readonly engineVsUnchained: Comparison;
  /** max |chained - unchained| on the CPU. */
  readonly wiringDifference: number;
}

export async function bottleneckCheck(device: GPUDevice): Promise<ChainingResult> {
  // The buggy wiring only type-checks when conv2 and conv3 accept the block input: inC == width.
  const options = { inC: 16, width: 16, stride: 1, downsample: true, inputShape: [1, 16, 8, 8] as Shape4 };
  const params = randomParams(7);
  const chained = buildBottleneckGraph(params, options);
  const unchained = buildUnchainedBottleneckGraph(params, options);
  const input = new Rng(7).fill(elementCount(options.inputShape), -1, 1);
  const [chainedRef] = runGraphReference(chained, [input]);
  const [unchainedRef] = runGraphReference(unchained, [input]);
  const model = await compileModel(device, chained);
  try {
    const [engine] = await model.run([input]);
    let wiringDifference = 0;
    for (let i = 0; i < chainedRef.length; i++) wiringDifference = Math.max(wiringDifference, Math.abs(chainedRef[i] - unchainedRef[i]));
    return {
      engineVsChained: compareOutputs([engine], [chainedRef]),
      engineVsUnchained: compareOutputs([engine], [unchainedRef]),
      wiringDifference,
    };
  } finally {
    model.dispose();
  }
}
