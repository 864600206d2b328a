/**
 * `npm run bench:peers`'s command line (pure, so that it is unit-tested): which networks at which repeats,
 * which engines, where. The zoo mode (`--zoo`, `--models`, `--side`) picks torchvision networks from the zoo
 * harness's table; `zooPicks` resolves them against it.
 */
import { parseArgs } from 'node:util';
import type { EngineId, NetworkRequest } from '../bench/peers/protocol.ts';
import { ENGINE_IDS, NETWORK_IDS } from '../bench/peers/protocol.ts';
import { defaultRequests } from '../bench/peers/report.ts';
import { ZOO_BENCH_DEFAULTS, ZOO_QUICK_REPEATS, ZOO_REPEATS } from '../bench/peers/zoo-network.ts';
import type { ZooModel, ZooPick } from './zoo/models.ts';
import { bare } from './zoo/models.ts';
import { pickNetworks } from './args.ts';

export const PEERS_USAGE =
  `usage: npm run bench:peers -- [--quick] [--networks ${NETWORK_IDS.join(',')}] [--runtime browser|node] ` +
  `[--engines ${ENGINE_IDS.join(',')}] [--rounds N] [--warmups N] [--input-size N] [--width-multiplier X] [--seed N] ` +
  `[--out FILE] [--headed] [--in-process] [--network-timeout SECONDS]\n` +
  `       npm run bench:peers -- --zoo [--models name[@side],...] [--side N] [--cache DIR] [--update-doc] [--from-json FILE] [--quick] [--rounds N] [--warmups N] ` +
  `[--engines webcnn,ort-jsep,ort-webgpu] [--seed N] [--out FILE] [--headed]\n\n` +
  `--zoo: torchvision networks exported by the zoo harness (scripts/zoo/export.py; default cache zoo-cache/), one per ` +
  `family (${ZOO_BENCH_DEFAULTS.map((z) => `${z.model}@${z.side}`).join(', ')}), webcnn against both ONNX Runtime Web ` +
  `WebGPU builds in headless Chromium; --models picks others (implies --zoo), --side sets every side; ` +
  `--update-doc rewrites the generated section of docs/zoo-bench.md with the run's report; --from-json FILE measures ` +
  `nothing and renders the report of an earlier zoo run's JSON again.`;

/** The engines that take any ONNX file (TF.js builds webcnn's builder networks only). */
export const ZOO_ENGINES: readonly EngineId[] = ['webcnn', 'ort-jsep', 'ort-webgpu'];

/** A zoo network as asked for: `name` or `name@side`. */
export interface ZooAsk {
  readonly model: string;
  readonly side?: number;
}

export interface PeersOptions {
  readonly help: boolean;
  readonly quick: boolean;
  readonly runtime: 'browser' | 'node';
  /** The builder networks' requests (empty in zoo mode: see `zoo`). */
  readonly requests: NetworkRequest[];
  readonly engines: EngineId[];
  readonly seed: number;
  readonly out?: string;
  readonly headed: boolean;
  readonly inProcess: boolean;
  readonly networkTimeoutS?: number;
  /** Internal (`--in-process` children): write the raw result here and print nothing else. */
  readonly resultFile?: string;
  /** Zoo mode: the networks (sides still to resolve against the table), repeats, and the export cache. */
  readonly zoo?: {
    readonly asks: readonly ZooAsk[];
    readonly side?: number;
    readonly warmups: number;
    readonly rounds: number;
    readonly cache?: string;
    /** Replace the generated section of docs/zoo-bench.md with this run's report. */
    readonly updateDoc: boolean;
    /** Measure nothing: the report again from a zoo run's JSON (after a change to the report's format). */
    readonly fromJson?: string;
  };
}

function count(v: string | undefined, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\s*\d+\s*$/.test(v) || !Number.isInteger(n) || n < min || n > max) {
    throw new Error(`--${name} must be an integer from ${min}${max === Number.MAX_SAFE_INTEGER ? ' up' : ` to ${max}`}, got "${v}"`);
  }
  return n;
}

function engineList(v: string | undefined): EngineId[] | undefined {
  const items = v?.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  for (const x of items ?? []) if (!ENGINE_IDS.includes(x as EngineId)) throw new Error(`unknown engine "${x}" (known: ${ENGINE_IDS.join(', ')})`);
  return items as EngineId[] | undefined;
}

/** `a,b@160`: names with optional sides. */
export function parseZooAsks(value: string): ZooAsk[] {
  const asks = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((item): ZooAsk => {
      const [model, side, extra] = item.split('@');
      if (extra !== undefined || !model) throw new Error(`--models: "${item}" is not name or name@side`);
      return side === undefined ? { model } : { model, side: count(side, `models (${model}@side)`, 16, 1024) };
    });
  if (asks.length === 0) throw new Error('--models is empty');
  return asks;
}

/** Throws with a one-line reason on anything it does not take (the caller adds the usage). */
export function parsePeersArgs(argv: readonly string[]): PeersOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean', default: false },
      networks: { type: 'string' },
      runtime: { type: 'string', default: 'browser' },
      engines: { type: 'string' },
      rounds: { type: 'string' },
      warmups: { type: 'string' },
      'width-multiplier': { type: 'string' },
      'input-size': { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
      headed: { type: 'boolean', default: false },
      'in-process': { type: 'boolean', default: false },
      'network-timeout': { type: 'string' },
      result: { type: 'string' },
      zoo: { type: 'boolean', default: false },
      models: { type: 'string' },
      side: { type: 'string' },
      cache: { type: 'string' },
      'update-doc': { type: 'boolean', default: false },
      'from-json': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.runtime !== 'browser' && values.runtime !== 'node') throw new Error(`--runtime must be browser or node, got "${values.runtime}"`);
  const engines = engineList(values.engines);
  const rounds = count(values.rounds, 'rounds', 1);
  const warmups = count(values.warmups, 'warmups', 0);
  const seed = count(values.seed, 'seed', 0) ?? 1;
  const common = {
    help: values.help!,
    quick: values.quick!,
    runtime: values.runtime as 'browser' | 'node',
    seed,
    out: values.out,
    headed: values.headed!,
    inProcess: values['in-process']!,
    networkTimeoutS: count(values['network-timeout'], 'network-timeout', 1),
    resultFile: values.result,
  };
  const zoo = values.zoo! || values.models !== undefined;
  if (!zoo) {
    for (const option of ['side', 'cache'] as const) {
      if (values[option] !== undefined) throw new Error(`--${option} belongs to the zoo mode (--zoo or --models)`);
    }
    for (const option of ['update-doc', 'from-json'] as const) {
      if (values[option]) throw new Error(`--${option} belongs to the zoo mode (--zoo or --models)`);
    }
    const networks = values.networks === undefined ? undefined : pickNetworks(values.networks, NETWORK_IDS, '').map((n) => n);
    const inputSize = count(values['input-size'], 'input-size', 16);
    const widthMultiplier = values['width-multiplier'] === undefined ? undefined : Number(values['width-multiplier']);
    if (widthMultiplier !== undefined && !(widthMultiplier > 0)) throw new Error('--width-multiplier must be > 0');
    const requests: NetworkRequest[] = defaultRequests(values.quick!, networks).map((r) => ({
      ...r,
      ...(rounds !== undefined ? { rounds } : {}),
      ...(warmups !== undefined ? { warmups } : {}),
      ...(inputSize !== undefined ? { inputSize } : {}),
      ...(widthMultiplier !== undefined && r.network === 'mobilenetv2' ? { widthMultiplier } : {}),
    }));
    return { ...common, requests, engines: engines ?? [...ENGINE_IDS] };
  }
  for (const option of ['networks', 'input-size', 'width-multiplier'] as const) {
    if (values[option] !== undefined) throw new Error(`--${option} is for the builder networks; the zoo mode takes --models and --side`);
  }
  if (values.runtime !== 'browser') throw new Error('the zoo mode runs in the browser only (--runtime browser)');
  const notOnnx = engines?.filter((e) => !ZOO_ENGINES.includes(e));
  if (notOnnx?.length) throw new Error(`the zoo mode runs ${ZOO_ENGINES.join(', ')} (engines that load ONNX files), not ${notOnnx.join(', ')}`);
  const repeats = values.quick ? ZOO_QUICK_REPEATS : ZOO_REPEATS;
  return {
    ...common,
    requests: [],
    engines: engines ?? [...ZOO_ENGINES],
    zoo: {
      asks: values.models === undefined ? ZOO_BENCH_DEFAULTS : parseZooAsks(values.models),
      side: count(values.side, 'side', 16, 1024),
      warmups: warmups ?? repeats.warmups,
      rounds: rounds ?? repeats.rounds,
      cache: values.cache,
      updateDoc: values['update-doc']!,
      ...(values['from-json'] !== undefined ? { fromJson: values['from-json'] } : {}),
    },
  };
}

/**
 * The zoo models and sides a run covers: each ask's own side, else `--side`, else the default set's side for
 * that model, else the model's own (scripts/zoo/models.json). Unknown names and sides torch cannot export at
 * are errors before anything runs.
 */
export function zooPicks(table: readonly ZooModel[], asks: readonly ZooAsk[], side?: number): ZooPick[] {
  return asks.map((ask) => {
    const model = table.find((t) => bare(t.name) === bare(ask.model));
    if (!model) throw new Error(`unknown zoo model "${ask.model}" (scripts/zoo/models.json lists ${table.length}: e.g. ${ZOO_BENCH_DEFAULTS.map((z) => z.model).join(', ')})`);
    const chosen = ask.side ?? side ?? ZOO_BENCH_DEFAULTS.find((z) => z.model === model.name)?.side ?? model.side;
    const ranges = model.sideRanges;
    if (ranges && !ranges.some(([a, b]) => chosen >= a && chosen <= b)) {
      throw new Error(`torch exports ${model.name} only at sides ${ranges.map(([a, b]) => `${a}-${b}`).join(', ')}, not ${chosen}`);
    }
    return { model, side: chosen };
  });
}
