/**
 * `npx tsx scripts/onnx-known-update.ts`: runs every in-scope ONNX node test (Debian's libonnx-testdata) on this
 * machine's WebGPU adapter and rewrites test/onnx-conformance/known.ts with the tests that do not pass, each
 * with its actual reason (shortened). Run it after adding or changing an op, then review the diff: a test that
 * left the list now passes, and a test that joined it is a regression or a newly in-scope case.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { acquireNodeDevice } from '../src/node.ts';
import { KNOWN_UNSUPPORTED } from '../test/onnx-conformance/known.ts';
import { listNodeTests, runNodeTest } from '../test/onnx-conformance/runner.ts';
import { inScope } from '../test/onnx-conformance/scope.ts';
import { PROJECT_ROOT } from '../test/shared.ts';

/** A stable, short reason: the old one when the op is still refused for it, else the loader's own words. */
function reasonFor(name: string, actual: string): string {
  const old = KNOWN_UNSUPPORTED[name];
  if (old !== undefined && !/is not converted yet|of two computed tensors/.test(old)) return old;
  const notConverted = /op type "([^"]+)" is not supported/.exec(actual.replace(/'/g, '"'));
  if (notConverted) return `${notConverted[1]} is not converted yet`;
  return actual.replace(/^(load|compile|run): /, '').replace(/^node [^:]*: /, '').replace(/'/g, '"').slice(0, 140);
}

const { device } = await acquireNodeDevice();
const entries: [string, string][] = [];
for (const test of listNodeTests().filter((t) => inScope(t))) {
  const outcome = await runNodeTest(device, test);
  if (!outcome.ok) entries.push([test.name, reasonFor(test.name, outcome.reason)]);
}
device.destroy();
const head = `/**
 * The in-scope ONNX node tests webcnn does not pass yet, each with why. The conformance test fails when one of
 * these passes (remove it here) and when a test missing here fails (a regression, or a new case to list).
 * \`npx tsx scripts/onnx-known-update.ts\` rewrites this file from a run.
 */
export const KNOWN_UNSUPPORTED: Readonly<Record<string, string>> = {
`;
const body = entries.map(([n, r]) => `  ${n}: '${r}',`).join('\n');
writeFileSync(resolve(PROJECT_ROOT, 'test/onnx-conformance/known.ts'), `${head}${body}\n};\n`);
console.log(`${entries.length} in-scope node tests not passing; test/onnx-conformance/known.ts rewritten`);
