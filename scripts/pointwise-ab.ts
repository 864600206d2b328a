/**
 * `npx tsx scripts/pointwise-ab.ts [--networks mobilenet_v2,resnet50] [--side 224] [--rounds 3]
 *   [--family pointwise|conv2d] [--tiles 8x2,16x2,8x4w16] [--rules '16/8x4/3/2;8x2'] [--compiles 3]`
 *
 * Dense convs of one family (`pointwise`: 1x1; `conv2d`: the other dense ones but RGB stems) on the software
 * default against uniform tiles of `--tiles` (`PxV`: P pixels x V output vec4s per invocation, `PxVwW` in
 * workgroups of W) and against shape rules (`--rules`, `;`-separated: `16/8x4/2` is `pointwiseByShape` with pixels
 * [16, 8] and vec4s [4, 2], `16x4m30000000` the same with minMacs 3e7; the default's own rule, if any, is
 * replaced), side by side on this
 * machine's adapter (Dawn in Node), on the repository's MobileNetV2 and ResNet-50 graphs with random weights. The
 * variants run in turn round by round, the order rotating, after a warm-up: per round one inference with a
 * timestamp pair per dispatch and one whole inference in one pass. Prints per layer (shape, the upper median ms
 * and GFLOP/s of each variant), the family's summed time per variant, the whole pass, and the largest output
 * difference against the default. With `--compiles N`, then the whole network's pipeline compile time per variant
 * (`compileTimings.totalMs`: pipelines compile beside the weight upload; each compile on a fresh device so that no pipeline cache answers), interleaved
 * over N rounds, with the number of distinct pipelines of the family.
 */
import type { Conv2dNode } from '../src/graph/ir.ts';
import { convResidual } from '../src/graph/ir.ts';
import { upperMedian } from '../src/bench/figures.ts';
import { compileModel } from '../src/runtime/compile.ts';
import type { CompiledModel } from '../src/runtime/compiled-model.ts';
import type { ConvTile, KernelChoice } from '../src/runtime/kernel-choice.ts';
import { DEFAULT_KERNEL_CHOICE } from '../src/runtime/kernel-choice.ts';
import { acquireNodeDevice } from '../src/gpu/node-device.ts';
import { countValue, networkBuilders, networksOption, parseAbArgs, roundsOption, sideOption, tileList, usageError } from './ab-args.ts';
import { acquireProfilingDevice, maxAbsDiff, outputsOnSeededInput, profilePass } from './profile-pass.ts';

const USAGE = "usage: npx tsx scripts/pointwise-ab.ts [--networks mobilenet_v2,resnet50] [--side 224] [--rounds 3] [--family pointwise|conv2d] [--tiles 8x2,16x2,8x4w16] [--rules '16/8x4/3/2;8x2'] [--compiles 3]";
const values = parseAbArgs(USAGE, {
  ...networksOption,
  ...sideOption(224),
  ...roundsOption(3),
  family: { type: 'string', default: 'pointwise' },
  tiles: { type: 'string', default: '16x2,8x4' },
  rules: { type: 'string', default: '' },
  compiles: { type: 'string', default: '0' },
});
const rounds = countValue(values.rounds, 'rounds', USAGE);
const side = countValue(values.side, 'side', USAGE, 1);
const compileRounds = countValue(values.compiles, 'compiles', USAGE);
const family = values.family as 'pointwise' | 'conv2d';
if (family !== 'pointwise' && family !== 'conv2d') usageError(USAGE, `--family ${family}: pointwise or conv2d`);
const networks = networkBuilders(values.networks, USAGE);
const tiles = tileList(values.tiles, USAGE, true).map(({ label, p, v, w }): { label: string; tile: ConvTile } => {
  const tile: ConvTile = family === 'pointwise' && w ? { family, pixelsPerThread: p, vec4sPerThread: v, workgroupSize: w } : { family, pixelsPerThread: p, vec4sPerThread: v };
  return { label, tile };
});
const variants: { label: string; kernels: KernelChoice }[] = [
  { label: 'default', kernels: DEFAULT_KERNEL_CHOICE },
  ...(DEFAULT_KERNEL_CHOICE.pointwiseByShape ? [{ label: 'no shape rule', kernels: { ...DEFAULT_KERNEL_CHOICE, pointwiseByShape: undefined } }] : []),
  ...tiles.map((t) => ({ label: t.label, kernels: { ...DEFAULT_KERNEL_CHOICE, [family]: t.tile } })),
  ...(values.rules ? values.rules.split(';') : []).map((r) => {
    const [tiles, minMacs] = r.split('m');
    const [pixels, vec4s] = tiles.split('x').map((list) => list.split('/').map(Number));
    return { label: `rule ${r}`, kernels: { ...DEFAULT_KERNEL_CHOICE, pointwiseByShape: { pixels, vec4s, ...(minMacs ? { minMacs: Number(minMacs) } : {}) } } };
  }),
];
const { device, adapterInfo } = await acquireProfilingDevice();
console.log(`adapter: ${adapterInfo.vendor} ${adapterInfo.architecture} ${adapterInfo.description}; side ${side}; family ${family}; 1 warm-up + ${rounds} rounds`);

/** The launches of `family`'s layers: step index, with a shape label. */
function familySteps(m: CompiledModel): { step: number; label: string; key: string }[] {
  return m.steps.flatMap((s, j) => {
    if (s.program.name !== family) return [];
    const node = m.graph.nodes.find((n) => n.output === s.node) as Conv2dNode | undefined;
    if (node?.op !== 'conv2d') return [];
    const inShape = m.graph.tensors[node.inputs[0]].shape;
    const outShape = m.graph.tensors[node.output].shape;
    const k = node.attrs.kernel;
    const extra = `${node.attrs.stride[0] > 1 ? ` s${node.attrs.stride[0]}` : ''}${convResidual(node) !== undefined ? ' +res' : ''}`;
    return [{ step: j, label: `${k[0]}x${k[1]} ${inShape[1]}->${outShape[1]} @${outShape[2]}x${outShape[3]}${extra}`, key: s.program.key }];
  });
}

for (const { name, build } of networks) {
  const graph = build({ side });
  const models: CompiledModel[] = [];
  for (const v of variants) models.push(await compileModel(device, graph, { kernels: v.kernels }));
  const outputs = await outputsOnSeededInput(graph, models);
  const steps = models.map(familySteps);
  const layerMs = models.map(() => steps[0].map(() => [] as number[]));
  const whole = models.map(() => [] as number[]);
  for (let r = 0; r < 1 + rounds; r++) {
    for (let k = 0; k < models.length; k++) {
      const i = (k + r) % models.length;
      const { stepsMs, wholeMs } = await profilePass(device, models[i]);
      if (r === 0) continue;
      steps[i].forEach((s, l) => layerMs[i][l].push(stepsMs[s.step]));
      whole[i].push(wholeMs);
    }
  }
  const header = variants.map((v) => v.label.padStart(22)).join('');
  console.log(`\n${name}: ${steps[0].length} ${family} layers; upper median / min ms (GFLOP/s at the min) per layer over ${rounds} rounds`);
  console.log(`${'layer'.padEnd(36)}${header}`);
  const totals = models.map(() => 0);
  const minTotals = models.map(() => 0);
  steps[0].forEach((s, l) => {
    const macs = models[0].steps[s.step].macs;
    const cells = models.map((_, i) => {
      const ms = upperMedian(layerMs[i][l]);
      const min = Math.min(...layerMs[i][l]);
      totals[i] += ms;
      minTotals[i] += min;
      return `${ms.toFixed(2)}/${min.toFixed(2)} (${((2 * macs) / (min * 1e6)).toFixed(2)})`.padStart(22);
    });
    console.log(`${s.label.padEnd(36)}${cells.join('')}`);
  });
  console.log(`${'family total, medians / mins'.padEnd(36)}${totals.map((t, i) => `${t.toFixed(1)}/${minTotals[i].toFixed(1)}`.padStart(22)).join('')}`);
  console.log(`${'whole pass ms, median / min'.padEnd(36)}${whole.map((w) => `${upperMedian(w).toFixed(1)}/${Math.min(...w).toFixed(1)}`.padStart(22)).join('')}`);
  console.log(`${'max |diff| vs default'.padEnd(36)}${outputs.map((o) => maxAbsDiff(o, outputs[0]).toExponential(1).padStart(22)).join('')}`);
  for (const m of models) m.dispose();
  if (compileRounds > 0) {
    const compileMs = variants.map(() => [] as number[]);
    const familyPipelines = variants.map(() => 0);
    for (let r = 0; r < compileRounds; r++) {
      for (let k = 0; k < variants.length; k++) {
        const i = (k + r) % variants.length;
        const fresh = await acquireNodeDevice();
        const m = await compileModel(fresh.device, graph, { kernels: variants[i].kernels });
        compileMs[i].push(m.compileTimings.totalMs);
        familyPipelines[i] = new Set(m.steps.filter((st) => st.program.name === family).map((st) => st.program.key)).size;
        m.dispose();
        fresh.device.destroy();
      }
    }
    console.log(`${'compile ms (total), median / min'.padEnd(36)}${compileMs.map((c) => `${upperMedian(c).toFixed(0)}/${Math.min(...c).toFixed(0)}`.padStart(22)).join('')}`);
    console.log(`${`distinct ${family} pipelines`.padEnd(36)}${familyPipelines.map((n) => String(n).padStart(22)).join('')}`);
  }
}
device.destroy();
process.exit(0);
