/**
 * Runs ONNX's backend node tests of the upsampling ops (Resize, Upsample, ArgMax, ConvTranspose) through the
 * ONNX loader, on the CPU reference and (with --gpu) on the GPU, and prints one line per test: pass, fail
 * (with the error) or unsupported (with the loader's reason). `npx tsx scripts/onnx-node-upsample.ts [--gpu]`
 */
import { WebcnnError } from '../src/errors.ts';
import { loadOnnx } from '../src/formats/onnx/loader.ts';
import { runGraphReference } from '../src/reference/index.ts';
import { nodeTestNames, readNodeTest } from '../test/helpers/onnx-node-tests.ts';
import { UPSAMPLE_NODE_TEST_PREFIXES, compareNodeOutput } from '../test/helpers/onnx-node-compare.ts';

const gpu = process.argv.includes('--gpu');
const device = gpu ? (await import('../src/gpu/node-device.ts')).acquireNodeDevice().then((d) => d.device) : null;
const { compileModel } = await import('../src/runtime/compile.ts');
const counts = { pass: 0, fail: 0, unsupported: 0 };
for (const name of nodeTestNames(UPSAMPLE_NODE_TEST_PREFIXES)) {
  const t = readNodeTest(name);
  let line: string;
  try {
    const { graph } = loadOnnx(t.model);
    const ref = runGraphReference(graph, [t.input])[0];
    let verdict = compareNodeOutput(ref, t.expected);
    if (device && verdict === null) {
      const model = await compileModel(await device, graph);
      verdict = compareNodeOutput((await model.run([t.input]))[0], t.expected);
      model.dispose();
      if (verdict !== null) verdict = `gpu: ${verdict}`;
    }
    line = verdict === null ? 'pass' : `FAIL ${verdict}`;
    counts[verdict === null ? 'pass' : 'fail']++;
  } catch (e) {
    if (!(e instanceof WebcnnError)) throw e;
    line = `unsupported: ${e.message}`;
    counts.unsupported++;
  }
  console.log(`${name.padEnd(64)} ${line}`);
}
console.log(`${counts.pass} pass, ${counts.fail} fail, ${counts.unsupported} unsupported${gpu ? ' (CPU reference and GPU)' : ' (CPU reference)'}`);
if (device) (await device).destroy();
process.exit(counts.fail ? 1 : 0);
