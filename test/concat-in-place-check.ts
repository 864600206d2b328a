/**
 * Concat in place vs the copy kernel, on the GPU: every channel case compiled both ways (`concatInPlace` true and
 * false) gives bit-identical outputs, and the in-place one never has more dispatches (fewer wherever a concat's
 * inputs became views). `npx tsx test/concat-in-place-check.ts`; exit 1 on a failure.
 */
import { acquireNodeDevice } from '../src/gpu/node-device.ts';
import { compileModel } from '../src/runtime/compile.ts';
import { GPU_KERNEL_CHOICE, defaultKernelChoice } from '../src/runtime/kernel-choice.ts';
import { CHANNEL_CASES, buildCase, describeCase } from './gpu-cases.ts';

const { device, adapterInfo } = await acquireNodeDevice();
let failed = 0;
let fewer = 0;
// This adapter's default kernels, and the hardware-GPU default (workgroup-memory convs) wherever it differs.
const choices = [defaultKernelChoice(adapterInfo), GPU_KERNEL_CHOICE].filter((k, i, all) => all.indexOf(k) === i);
const cases = [...CHANNEL_CASES, ...CHANNEL_CASES.map((k) => ({ ...k, precision: 'f16-packed' as const }))];
for (const [base, c] of choices.flatMap((k) => cases.map((c) => [k, c] as const))) {
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
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${base === GPU_KERNEL_CHOICE ? '[gpu default] ' : ''}${describeCase(c)}  identical=${same} dispatches in place ${inPlace.dispatches} / copy ${copy.dispatches}`);
}
// The aligned `convs` cases must actually have run in place, at both precisions.
if (fewer < 12) {
  console.log(`FAIL only ${fewer} cases ran with fewer dispatches in place (expected at least 12)`);
  failed++;
}
console.log(`${failed} failed`);
device.destroy();
process.exit(failed ? 1 : 0);
