import { tolerance } from '../gpu-cases.ts';

/** The node tests of the upsampling ops (issue #16). */
export const UPSAMPLE_NODE_TEST_PREFIXES = ['test_resize_', 'test_upsample_', 'test_argmax_', 'test_convtranspose'];

/** Null when `got` matches `expected` within the f32 bar, else why not. */
export function compareNodeOutput(got: Float32Array, expected: Float32Array): string | null {
  if (got.length !== expected.length) return `${got.length} values, expected ${expected.length}`;
  let maxRef = 0;
  let maxErr = 0;
  for (let i = 0; i < got.length; i++) {
    maxRef = Math.max(maxRef, Math.abs(expected[i]));
    const d = Math.abs(got[i] - expected[i]);
    if (!(d <= maxErr)) maxErr = Number.isNaN(d) ? Infinity : d;
  }
  return maxErr <= tolerance(maxRef) ? null : `max error ${maxErr.toExponential(2)} > ${tolerance(maxRef).toExponential(2)}`;
}
