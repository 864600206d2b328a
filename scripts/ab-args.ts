/**
 * The command line of the interleaved A/B scripts (`scripts/*-ab.ts`): the options they share (`--rounds`, the
 * zoo's `--models` / `--side` / `--cache`, the built networks' `--networks` / `--side` / `--batch`), `--help`,
 * one usage error for a bad flag or value, and the graphs those options name. Each script keeps its own options
 * beside them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadModel } from '../src/formats/index.ts';
import type { Graph } from '../src/graph/ir.ts';
import { mobilenetV2, randomParams, resnet50 } from '../src/models/index.ts';
import { pickNetworks } from './args.ts';

type AbOption = { readonly type: 'string'; readonly default?: string } | { readonly type: 'boolean'; readonly default?: boolean };
type AbValues<O extends Record<string, AbOption>> = {
  [K in keyof O]: O[K] extends { type: 'boolean' } ? boolean : O[K] extends { default: string } ? string : string | undefined;
};

/** Prints `message` and `usage` to stderr and exits with status 2. */
export function usageError(usage: string, message: string): never {
  console.error(`${message}\n${usage}`);
  process.exit(2);
}

/** `options` and `--help` / `-h` (prints `usage`, exits 0); an unknown flag or a missing value is a usage error. */
export function parseAbArgs<const O extends Record<string, AbOption>>(usage: string, options: O): AbValues<O> {
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({ options: { ...options, help: { type: 'boolean', short: 'h', default: false } }, strict: true }));
  } catch (e) {
    usageError(usage, (e as Error).message);
  }
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  return values as AbValues<O>;
}

/** `--rounds N` (warm-up excluded), `N` the script's default. */
export const roundsOption = (rounds: number) => ({ rounds: { type: 'string', default: String(rounds) } }) as const;

/** `--side N`: the input's height and width. */
export const sideOption = (side: number) => ({ side: { type: 'string', default: String(side) } }) as const;

/** The zoo scripts' `--models a,b` (`name` or `name@side`), `--side`, `--cache DIR` (`npm run zoo -- --cache DIR`). */
export const zooOptions = (models: string, side: number) =>
  ({ models: { type: 'string', default: models }, ...sideOption(side), cache: { type: 'string', default: '/work/zoo-cache' } }) as const;

/** The built-network scripts' `--networks a,b` (of `AB_NETWORKS`). */
export const networksOption = { networks: { type: 'string', default: 'mobilenet_v2,resnet50' } } as const;

/** `--batch N`: images per inference. */
export const batchOption = { batch: { type: 'string', default: '1' } } as const;

/** A count option's value (`--rounds 3`): a whole number from `min` (0 by default: a script may skip a phase on 0). */
export function countValue(value: string, option: string, usage: string, min = 0): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < min) usageError(usage, `--${option} must be a whole number from ${min}, got "${value}"`);
  return n;
}

/**
 * The tiles of `--tiles a,b` ('' for none): `PxV` (P pixels x V output vec4s), with `walk` also `PxVwN` (N a walk
 * or workgroup size); `label` is the tile as given.
 */
export function tileList(list: string, usage: string, walk = false): { label: string; p: number; v: number; w?: number }[] {
  return (list ? list.split(',') : []).map((label) => {
    const m = (walk ? /^(\d+)x(\d+)(?:w(\d+))?$/ : /^(\d+)x(\d+)$/).exec(label.trim());
    if (!m) usageError(usage, `tile "${label}" is not ${walk ? 'PxV or PxVwN' : 'PxV'}`);
    return { label, p: Number(m[1]), v: Number(m[2]), ...(m[3] ? { w: Number(m[3]) } : {}) };
  });
}

/**
 * The zoo exports `--models` names, one at a time: `name` at `--side`, or `name@side` at that side; `ask` is the
 * entry as given. A missing export is a usage error.
 */
export function* zooGraphs(values: { models: string; side: string; cache: string }, usage: string): Generator<{ ask: string; name: string; graph: Graph }> {
  for (const ask of values.models.split(',')) {
    const [name, side = values.side] = ask.split('@');
    const file = join(values.cache, `${name}_op13_b1_s${side}_seed0`, 'model.onnx');
    if (!existsSync(file)) usageError(usage, `no export ${file} (npm run zoo -- --cache ${values.cache} writes them)`);
    yield { ask, name, graph: loadModel(new Uint8Array(readFileSync(file))).graph };
  }
}

/** The repository's networks with random weights (seed 1 for MobileNetV2, 2 for ResNet-50, unless `seed`). */
export const AB_NETWORKS: Record<string, (o: { side: number; batch?: number; seed?: number }) => Graph> = {
  mobilenet_v2: (o) => mobilenetV2({ params: randomParams(o.seed ?? 1), inputSize: o.side, batch: o.batch }),
  resnet50: (o) => resnet50({ params: randomParams(o.seed ?? 2), inputSize: o.side, batch: o.batch }),
};

/** The networks `--networks` names (any spelling `pickNetworks` takes), each with its builder; unknown ones are usage errors. */
export function networkBuilders(networks: string, usage: string): { name: string; build: typeof AB_NETWORKS[string] }[] {
  try {
    return pickNetworks(networks, Object.keys(AB_NETWORKS), usage).map((name) => ({ name, build: AB_NETWORKS[name] }));
  } catch (e) {
    usageError(usage, (e as Error).message.split('\n')[0]);
  }
}
