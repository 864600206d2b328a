/**
 * Concat in place vs the copy kernel, on the GPU: every channel case compiled both ways (`concatInPlace` true and
 * false) gives bit-identical outputs, and the in-place one never has more dispatches (fewer wherever a concat's
 * inputs became views). `npx tsx test/concat-in-place-check.ts`; exit 1 on a failure.
 */
import { acquireNodeDevice } from '../src/gpu/node-device.ts';
import { compileModel } from '../src/runtime/compile.ts';
import { defaultKernelChoice } from '../src/runtime/kernel-choice.ts';
import { CHANNEL_CASES, buildCase, describeCase } from './gpu-cases.ts';

const { device, adapterInfo } = await acquireNodeDevice();
const base = defaultKernelChoice(adapterInfo);
let failed = 0;
let fewer = 0;
for (const c of [...CHANNEL_CASES, ...CHANNEL_CASES.map((k) => ({ ...k, precision: 'f16-packed' as const }))]) {
  const { graph, inputs } = buildCase(c);
  const results = [];
  for (const concatInPlace of [true, false]) {
    const model = await compileModel(device, graph, { kernels: { ...base, concatInPlace }, precision: c.precision });
    try {
      results.push({ outputs: await model.run(inputs), dispatches: model.dispatchCount });
    } finally {
      model.dispose();
    }
  }
  const [inPlace, copy] = results;
  const same = inPlace.outputs.every((o, k) => o.length === copy.outputs[k].length && o.every((v, i) => Object.is(v, copy.outputs[k][i])));
  const ok = same && inPlace.dispatches <= copy.dispatches;
  if (inPlace.dispatches < copy.dispatches) fewer++;
  if (!ok) failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${describeCase(c)}  identical=${same} dispatches in place ${inPlace.dispatches} / copy ${copy.dispatches}`);
}
// The aligned `convs` cases must actually have run in place, at both precisions.
if (fewer < 4) {
  console.log(`FAIL only ${fewer} cases ran with fewer dispatches in place (expected at least 4)`);
  failed++;
}
console.log(`${failed} failed`);
device.destroy();
process.exit(failed ? 1 : 0);
