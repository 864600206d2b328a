/**
 * `npx tsx scripts/inverted-residual-ab.ts [--models mobilenet_v2,efficientnet_b0] [--side 224] [--rounds 3]
 *   [--cache /work/zoo-cache] [--blocks]`
 *
 * Inverted-residual blocks on three launches (the software default) against the fused kernel
 * (`invertedResidual: 'fused'`, shaders/inverted-residual/), side by side on this machine's adapter (Dawn in
 * Node), on the zoo's exported ONNX files. The two run in turn round by round, the order rotating, after a
 * warm-up: per round one inference with a timestamp pair per dispatch and one whole inference in one pass
 * (`profilePass`). Prints per network the dispatches, the bytes one inference moves (`inferenceBytes`), the
 * fused blocks' time against their three launches', the whole pass, and the largest output difference; with
 * `--blocks`, every block's upper medians.
 */
import { inferenceBytes, upperMedian } from '../src/bench/figures.ts';
import { compileModel } from '../src/runtime/compile.ts';
import { DEFAULT_KERNEL_CHOICE } from '../src/runtime/kernel-choice.ts';
import type { CompiledModel } from '../src/runtime/compiled-model.ts';
import type { TensorId } from '../src/graph/ir.ts';
import { blockNodeOutputs } from '../src/runtime/inverted-residual.ts';
import type { KernelChoice } from '../src/runtime/kernel-choice.ts';
import { fusedBlocksIn } from '../src/runtime/lowering.ts';
import { countValue, parseAbArgs, roundsOption, zooGraphs, zooOptions } from './ab-args.ts';
import { acquireProfilingDevice, outputsOnSeededInput, profilePass } from './profile-pass.ts';

const USAGE = 'usage: npx tsx scripts/inverted-residual-ab.ts [--models mobilenet_v2,efficientnet_b0] [--side 224] [--rounds 3] [--cache /work/zoo-cache] [--blocks]';
const values = parseAbArgs(USAGE, { ...zooOptions('mobilenet_v2', 224), ...roundsOption(3), blocks: { type: 'boolean', default: false } });
const rounds = countValue(values.rounds, 'rounds', USAGE);
const { device, adapterInfo } = await acquireProfilingDevice();
console.log(`adapter: ${adapterInfo.vendor} ${adapterInfo.architecture} ${adapterInfo.description}; side ${values.side}; 1 warm-up + ${rounds} rounds`);
const fmt = (a: readonly number[]) => `${upperMedian(a).toFixed(1)} ms (min ${Math.min(...a).toFixed(1)})`;
const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;

/**
 * Per fused block (by its project conv's name): the step indices of its launches in `model` (three or more
 * convs, plus an SE's pool and FCs) and in `fusedModel` (one launch, or three with an SE), by the nodes they
 * are named after.
 */
function blockSteps(model: CompiledModel, fusedModel: CompiledModel, choice: KernelChoice): Map<string, { separate: number[]; fused: number[] }> {
  const out = new Map<string, { separate: number[]; fused: number[] }>();
  const stepsOf = (m: CompiledModel, nodes: ReadonlySet<TensorId>) => m.steps.flatMap((s, i) => (s.node !== undefined && nodes.has(s.node) ? [i] : []));
  for (const b of fusedBlocksIn(fusedModel.graph, choice).values()) {
    const nodes = new Set([...blockNodeOutputs(b), b.project.output]);
    out.set(b.project.name, { separate: stepsOf(model, nodes), fused: stepsOf(fusedModel, nodes) });
  }
  return out;
}

for (const { ask: name, graph } of zooGraphs(values, USAGE)) {
  const separate = await compileModel(device, graph, { kernels: DEFAULT_KERNEL_CHOICE });
  const fusedChoice: KernelChoice = { ...DEFAULT_KERNEL_CHOICE, invertedResidual: 'fused' };
  const fused = await compileModel(device, graph, { kernels: fusedChoice });
  const models = [separate, fused];
  const labels = ['separate', 'fused'];
  const outputs = await outputsOnSeededInput(graph, models);
  const blocks = blockSteps(separate, fused, fusedChoice);
  const blockMs = models.map(() => [] as number[]);
  const perBlock = new Map([...blocks.keys()].map((k) => [k, [[] as number[], [] as number[]]]));
  const whole = models.map(() => [] as number[]);
  for (let r = 0; r < 1 + rounds; r++) {
    for (let k = 0; k < models.length; k++) {
      const i = (k + r) % models.length;
      const { stepsMs, wholeMs } = await profilePass(device, models[i]);
      if (r === 0) continue;
      let sum = 0;
      for (const [label, b] of blocks) {
        const ms = (i === 0 ? b.separate : b.fused).reduce((s, j) => s + stepsMs[j], 0);
        perBlock.get(label)![i].push(ms);
        sum += ms;
      }
      blockMs[i].push(sum);
      whole[i].push(wholeMs);
    }
  }
  let diff = 0;
  let peak = 0;
  for (let k = 0; k < outputs[0].length; k++) {
    diff = Math.max(diff, Math.abs(outputs[1][k] - outputs[0][k]));
    peak = Math.max(peak, Math.abs(outputs[0][k]));
  }
  console.log(`${name}: ${blocks.size} blocks fused; max |diff| ${diff.toExponential(1)} (max |logit| ${peak.toFixed(2)})`);
  models.forEach((m, i) => {
    const bytes = inferenceBytes(m.graph, m.steps);
    console.log(`${name.padEnd(16)} ${labels[i].padEnd(8)} ${String(m.dispatchCount).padStart(3)} dispatches, ${mib(bytes.activationBytes)} activations + ${mib(bytes.weightBytes)} weights, `
      + `activation memory ${mib(m.memory.activationPeakBytes)}; blocks ${fmt(blockMs[i])}  whole pass ${fmt(whole[i])}`);
  });
  if (values.blocks) {
    for (const [label, [a, b]] of perBlock) {
      const s = fused.steps[blocks.get(label)!.fused.at(-1)!];
      const u = s.uniforms;
      const describe = `${u.inC4 * 4}->${u.hidC4 * 4}->${u.outC4 * 4} ${u.outH}x${u.outW}`;
      console.log(`  ${label.padEnd(40)} ${describe.padEnd(22)} separate ${fmt(a)}  fused ${fmt(b)}  ratio ${(upperMedian(b) / upperMedian(a)).toFixed(2)}`);
    }
  }
  for (const m of models) m.dispose();
}
device.destroy();
process.exit(0);
