/**
 * `npx tsx scripts/logits-fingerprint.ts [--out FILE]`
 *
 * Runs fixed networks on this machine's WebGPU adapter (Dawn in Node) and prints one line per case: the
 * sha256 of the output bytes and the first logits. Run it before and after a refactor that must not change
 * behaviour, and compare the files: equal hashes mean bit-identical outputs. Cases cover both kernel
 * defaults (software and GPU), f32 and f16-packed storage, the ONNX frontend (export, then load) and, when
 * `../shared` (or `$WEBCNN_SHARED`) has it, the shared TFLite model on a fixed input.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { CompileOptions, Graph, StoragePrecision } from '../src/index.ts';
import { DEFAULT_KERNEL_CHOICE, GPU_KERNEL_CHOICE, compileModel, exportOnnx, loadModel, mobilenetV2, randomParams, resnet50 } from '../src/index.ts';
import { acquireNodeDevice } from '../src/node.ts';
import { Rng } from '../src/util/random.ts';
import { SHARED_MODEL } from '../test/shared.ts';

interface Case {
  readonly name: string;
  readonly graph: () => Graph;
  readonly options: CompileOptions;
}

const { values } = parseArgs({ options: { out: { type: 'string' } }, strict: true });

const choices = { software: DEFAULT_KERNEL_CHOICE, gpu: GPU_KERNEL_CHOICE } as const;
const precisions: readonly StoragePrecision[] = ['f32', 'f16-packed'];

const networks: Record<string, () => Graph> = {
  'mobilenet_v2 224': () => mobilenetV2({ params: randomParams(1) }),
  'resnet50 112': () => resnet50({ params: randomParams(2), inputSize: 112 }),
  'mobilenet_v2 96 batch 2 via onnx': () => loadModel(exportOnnx(mobilenetV2({ params: randomParams(3), inputSize: 96, batch: 2 }))).graph,
};
if (existsSync(SHARED_MODEL)) networks['shared tflite mobilenet_v2 quant'] = () => loadModel(readFileSync(SHARED_MODEL)).graph;

const cases: Case[] = [];
for (const [net, graph] of Object.entries(networks)) {
  for (const [choiceName, kernels] of Object.entries(choices)) {
    for (const precision of precisions) cases.push({ name: `${net} | ${choiceName} | ${precision}`, graph, options: { kernels, precision } });
  }
}

const { device } = await acquireNodeDevice();
const lines: string[] = [];
for (const c of cases) {
  const graph = c.graph();
  const model = await compileModel(device, graph, c.options);
  const rng = new Rng(42);
  const inputs = model.inputs.map((t) => rng.fill(t.shape.reduce((a, b) => a * b, 1), -1, 1));
  const outputs = await model.run(inputs);
  const hash = createHash('sha256');
  for (const o of outputs) hash.update(new Uint8Array(o.buffer, o.byteOffset, o.byteLength));
  const head = Array.from(outputs[0].slice(0, 3), (v) => v.toPrecision(8)).join(' ');
  const line = `${c.name}: ${hash.digest('hex').slice(0, 16)}  [${head}]`;
  console.log(line);
  lines.push(line);
  model.dispose();
}
if (values.out) writeFileSync(values.out, `${lines.join('\n')}\n`);
device.destroy();
