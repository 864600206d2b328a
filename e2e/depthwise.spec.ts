import { caseTests } from './case-tests.ts';
import { test } from './fixtures.ts';

test.describe('depthwise convs on the block and rolling kernels vs CPU reference (fp32: max |err| <= 1e-4 * max|ref| + 1e-5; f16 bars)', () => {
  caseTests('depthwise');
});
