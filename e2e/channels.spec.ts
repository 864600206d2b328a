import { caseTests } from './case-tests.ts';
import { test } from './fixtures.ts';

test.describe('channel concat and slice vs CPU reference (fp32: max |err| <= 1e-4 * max|ref| + 1e-5)', () => {
  caseTests('channels');
});
