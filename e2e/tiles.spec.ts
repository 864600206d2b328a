import { caseTests } from './case-tests.ts';
import { test } from './fixtures.ts';

test.describe('every autotuner tile vs CPU reference (fp32: max |err| <= 1e-4 * max|ref| + 1e-5)', () => {
  caseTests('tiles');
});
