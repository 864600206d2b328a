import { readFileSync } from 'node:fs';
import { compileModel, loadModel } from '../src/index.ts';
import { optimizeGraph } from '../src/graph/passes/index.ts';
import { acquireNodeDevice } from '../src/node.ts';
const { device } = await acquireNodeDevice();
for (const name of process.argv.slice(2)) {
  const dir = `/work/zoo-cache/${name}_op13_b1_s64_seed0`;
  const loaded = loadModel(readFileSync(`${dir}/model.onnx`));
  const shape = loaded.graph.tensors[loaded.graph.inputs[0]].shape;
  const input = new Float32Array(shape.reduce((a, b) => a * b, 1)).map((_, i) => Math.sin(i));
  const variants = [];
  for (const fuse of [true, false]) variants.push(await compileModel(device, optimizeGraph(loaded.graph, { fusePoolLinear: false, fuseInputTransforms: fuse }), { optimize: false }));
  for (const v of variants) await v.run([input]);
  const times: number[][] = [[], []];
  for (let r = 0; r < 11; r++) for (let v = 0; v < 2; v++) { const t = performance.now(); await variants[v].run([input]); times[v].push(performance.now() - t); }
  const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
  console.log(name, 'fused', med(times[0]).toFixed(1), 'unfused', med(times[1]).toFixed(1), 'min', Math.min(...times[0]).toFixed(1), Math.min(...times[1]).toFixed(1));
}
process.exit(0);
