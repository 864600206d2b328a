/**
 * ONNX conformance: ONNX's own backend node tests (Debian's `libonnx-testdata`) for every op webcnn claims or
 * issue #16 plans, run on the GPU through Dawn (SwiftShader without a GPU). Each in-scope test passes within
 * tolerance or is listed in `test/onnx-conformance/known.ts` with the reason, so that a newly supported case
 * (remove it from the table) and a regression both fail here. Skips, saying so, only when the test data is
 * not installed (`apt-get install libonnx-testdata`; `.ci/run` does it).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireNodeDevice } from '../src/gpu/node-device.ts';
import { COVERAGE_DOC, renderCoverage } from './onnx-conformance/coverage.ts';
import { KNOWN_UNSUPPORTED } from './onnx-conformance/known.ts';
import { NODE_TEST_ROOT, listNodeTests, runNodeTest } from './onnx-conformance/runner.ts';
import { inScope } from './onnx-conformance/scope.ts';

const present = existsSync(NODE_TEST_ROOT);
const absent = `skipped: ${NODE_TEST_ROOT} is absent (apt-get install libonnx-testdata)`;
const tests = present ? listNodeTests().filter((t) => inScope(t)) : [];

describe.skipIf(!present)('ONNX backend node tests', () => {
  let device: GPUDevice;
  beforeAll(async () => {
    device = (await acquireNodeDevice()).device;
  }, 60_000);
  afterAll(() => device?.destroy());

  it('the known-unsupported table names only in-scope node tests that exist', () => {
    const names = new Set(tests.map((t) => t.name));
    expect(Object.keys(KNOWN_UNSUPPORTED).filter((name) => !names.has(name))).toEqual([]);
  });

  it(`${COVERAGE_DOC} is up to date`, () => {
    const want = renderCoverage(tests);
    if (process.env.UPDATE_ONNX_OPS_DOC) writeFileSync(COVERAGE_DOC, want);
    const have = existsSync(COVERAGE_DOC) ? readFileSync(COVERAGE_DOC, 'utf8') : '';
    expect(have, `${COVERAGE_DOC} is stale: UPDATE_ONNX_OPS_DOC=1 npx vitest run test/onnx-conformance.test.ts`).toBe(want);
  });

  for (const test of tests) {
    const known = Object.hasOwn(KNOWN_UNSUPPORTED, test.name) ? KNOWN_UNSUPPORTED[test.name] : undefined;
    it(`${test.name}${known ? ` (known unsupported: ${known})` : ''}`, async () => {
      const outcome = await runNodeTest(device, test);
      if (known) {
        expect(outcome.ok, `${test.name} now passes: remove it from KNOWN_UNSUPPORTED (test/onnx-conformance/known.ts)`).toBe(false);
      } else {
        expect(outcome.ok ? 'ok' : outcome.reason).toBe('ok');
      }
    });
  }
});

if (!present) {
  console.warn(`ONNX conformance ${absent}`);
  it.skip(`ONNX backend node tests ${absent}`, () => {});
}
