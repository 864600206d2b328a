import { caseTests } from './case-tests.ts';
import { test } from './fixtures.ts';

test.describe('grouped convs on the grouped family vs CPU reference (fp32: max |err| <= 1e-4 * max|ref| + 1e-5; f16 bars)', () => {
  caseTests('grouped');
});
