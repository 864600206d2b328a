/**
 * `npx tsx scripts/split-k-layers.ts [--layers all|NAME,...] [--splits 2,4,8,16] [--rounds 15] [--repeats 5] [--precision f32]`
 *
 * Split-K against the GPU default's workgroup-memory tile (`S2x2`: 16 px x 64 ch per workgroup), layer by layer:
 * single convolutions at the real shapes of ResNet-50's and MobileNetV2's small-map layers (batch 1, 224 input,
 * BN folded, ReLU, residual where the network has one), each compiled once per tile, measured in interleaved
 * rounds (so drift hits every tile alike) with one timestamp pair per launch; a split-K layer's time is its two
 * launches summed, the reduce's share shown apart. Under Node through Dawn, unquantized timestamps. For the
 * device machines (see docs/perf-h200.md); on SwiftShader only a record of what a CPU does.
 */
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import type { StoragePrecision } from '../shaders/common.ts';
import { acquireNodeDevice } from '../src/gpu/node-device.ts';
import { GraphBuilder } from '../src/graph/builder.ts';
import type { Graph } from '../src/graph/ir.ts';
import { RELU } from '../src/graph/ir.ts';
import { optimizeGraph } from '../src/graph/passes/index.ts';
import { profileSteps } from '../src/runtime/profile-steps.ts';
import { compileModel } from '../src/runtime/compile.ts';
import type { ConvSharedTile } from '../shaders/conv-shared/index.ts';
import { GPU_KERNEL_CHOICE } from '../src/runtime/kernel-choice.ts';
import { sharedConvGeometry, splitKSlices } from '../shaders/conv-shared/geometry.ts';
import { Rng } from '../src/util/random.ts';
import { upperMedian } from '../src/bench/figures.ts';

interface Layer {
  readonly name: string;
  readonly inC: number;
  readonly size: number;
  readonly outC: number;
  readonly kernel: number;
  readonly stride: number;
  readonly residual: boolean;
}

/** Small-map layers of the two networks at 224 (torchvision names of one representative each). */
const LAYERS: readonly Layer[] = [
  { name: 'resnet50 layer4.1.conv2', inC: 512, size: 7, outC: 512, kernel: 3, stride: 1, residual: false },
  { name: 'resnet50 layer4.0.conv2', inC: 512, size: 14, outC: 512, kernel: 3, stride: 2, residual: false },
  { name: 'resnet50 layer4.1.conv1', inC: 2048, size: 7, outC: 512, kernel: 1, stride: 1, residual: false },
  { name: 'resnet50 layer4.1.conv3', inC: 512, size: 7, outC: 2048, kernel: 1, stride: 1, residual: true },
  { name: 'resnet50 layer3.1.conv2', inC: 256, size: 14, outC: 256, kernel: 3, stride: 1, residual: false },
  { name: 'resnet50 layer3.1.conv1', inC: 1024, size: 14, outC: 256, kernel: 1, stride: 1, residual: false },
  { name: 'resnet50 layer2.1.conv2', inC: 128, size: 28, outC: 128, kernel: 3, stride: 1, residual: false },
  { name: 'mobilenet_v2 features.16.conv.2', inC: 960, size: 7, outC: 160, kernel: 1, stride: 1, residual: true },
  { name: 'mobilenet_v2 features.18.0', inC: 320, size: 7, outC: 1280, kernel: 1, stride: 1, residual: false },
  { name: 'mobilenet_v2 features.13.conv.2', inC: 576, size: 14, outC: 96, kernel: 1, stride: 1, residual: true },
];

const { values } = parseArgs({
  options: {
    layers: { type: 'string', default: 'all' },
    splits: { type: 'string', default: '2,4,8,16' },
    rounds: { type: 'string', default: '15' },
    repeats: { type: 'string', default: '5' },
    precision: { type: 'string', default: 'f32' },
  },
});
const rounds = Number(values.rounds);
const repeats = Number(values.repeats);
const precision = values.precision as StoragePrecision;
const layers = values.layers === 'all' ? LAYERS : values.layers!.split(',').map((n) => LAYERS.find((l) => l.name.endsWith(n)) ?? fail(`unknown layer ${n}`));
const base: ConvSharedTile = { family: 'conv-shared', pixelsPerThread: 2, vec4sPerThread: 2 }; // GPU_KERNEL_CHOICE's dense tile
const tiles: ConvSharedTile[] = [base, ...values.splits!.split(',').map((s) => ({ ...base, splitK: Number(s) }))];

function fail(message: string): never {
  throw new Error(message);
}

function build(l: Layer): Graph {
  const rng = new Rng(1);
  const b = new GraphBuilder();
  const x = b.input('x', [1, l.inC, l.size, l.size]);
  const fanIn = l.inC * l.kernel * l.kernel;
  const y = b.conv2d(x, {
    outChannels: l.outC, kernel: l.kernel, stride: l.stride, padding: (l.kernel - 1) / 2,
    weight: rng.fill(l.outC * fanIn, -Math.sqrt(3 / fanIn), Math.sqrt(3 / fanIn)), bias: rng.fill(l.outC, -0.1, 0.1),
  }, 'conv');
  const out = l.residual ? b.add(y, b.input('residual', b.shape(y))) : y;
  b.output(b.activation(out, RELU));
  return optimizeGraph(b.build());
}

const smClock = (): string => {
  try {
    return execFileSync('nvidia-smi', ['--query-gpu=clocks.sm', '--format=csv,noheader'], { encoding: 'utf8', timeout: 5000 }).trim();
  } catch {
    return '';
  }
};

const { device, adapterInfo } = await acquireNodeDevice({ timestamps: true, flags: ['disable-dawn-features=timestamp_quantization'] });
console.log(`adapter: ${adapterInfo.vendor} ${adapterInfo.architecture} ${adapterInfo.description}; precision ${precision}; ${rounds} rounds x ${repeats} runs`);
const label = (t: ConvSharedTile) => (t.splitK ? `K${t.splitK}` : 'S2x2');
console.log(['layer', 'shape', 'tiles', 'K', ...tiles.map((t) => `${label(t)} us`), 'best', 'best / S2x2', 'reduce share'].join('\t'));
for (const l of layers) {
  const graph = build(l);
  const conv = graph.nodes.find((n) => n.op === 'conv2d')!;
  if (conv.op !== 'conv2d') throw new Error('no conv');
  const inShape = graph.tensors[conv.inputs[0]].shape;
  const outShape = graph.tensors[conv.output].shape;
  const { tiles: outTiles, K } = sharedConvGeometry(base, inShape, outShape, conv.attrs);
  const models = await Promise.all(
    tiles.map((t) => compileModel(device, graph, { optimize: false, precision, kernels: { ...GPU_KERNEL_CHOICE, perNode: new Map([[conv.output, t]]) } })),
  );
  const inputs = models[0].inputs.map((i, k) => new Rng(10 + k).fill(i.shape.reduce((a, b) => a * b, 1), -1, 1));
  for (const m of models) m.writeInputs(inputs);
  const layerMs: number[][] = tiles.map(() => []);
  const reduceMs: number[][] = tiles.map(() => []);
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 ? [...models.keys()].reverse() : [...models.keys()];
    for (const i of order) {
      const ms = await profileSteps(device, models[i], repeats);
      let sum = 0;
      let reduce = 0;
      models[i].steps.forEach((s, k) => {
        if (s.node !== conv.output) return;
        sum += ms[k];
        if (s.program.name === 'split-k-reduce') reduce += ms[k];
      });
      layerMs[i].push(sum);
      reduceMs[i].push(reduce);
    }
  }
  const med = layerMs.map((ms) => upperMedian(ms));
  const best = med.indexOf(Math.min(...med));
  const slices = (t: ConvSharedTile) => (t.splitK ? splitKSlices(K, t.splitK).slices : 1);
  console.log([
    l.name, `${l.inC}x${l.size}x${l.size} -> ${outShape[1]}x${outShape[2]}x${outShape[3]} ${l.kernel}x${l.kernel}${l.stride > 1 ? `/${l.stride}` : ''}${l.residual ? ' +res' : ''}`,
    outTiles, K,
    ...med.map((ms, i) => `${(ms * 1000).toFixed(1)}${slices(tiles[i]) !== (tiles[i].splitK ?? 1) ? `(${slices(tiles[i])})` : ''}`),
    label(tiles[best]), (med[best] / med[0]).toFixed(2), best === 0 ? '-' : (upperMedian(reduceMs[best]) / med[best]).toFixed(2),
  ].join('\t'));
  for (const m of models) m.dispose();
}
const clock = smClock();
if (clock) console.log(`SM clock at the end: ${clock}`);
device.destroy();
process.exit(0);
