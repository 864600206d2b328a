/**
 * The zoo's model table (`models.json`, which `export.py` reads too), the command line of `npm run zoo`, and
 * which models at which input side a run covers. Pure: no torch, no GPU.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

export type ZooTask = 'classification' | 'segmentation';

export interface ZooModel {
  /** torchvision's constructor name (`torchvision.models.get_model(name)`). */
  readonly name: string;
  readonly family: string;
  readonly task: ZooTask;
  /** The input side the architecture is known at (224; 299 for Inception v3). */
  readonly side: number;
  /**
   * Sides torch can export at, where not every side works (AlexNet and VGG: `AdaptiveAvgPool2d` exports only
   * when the feature map is a multiple of its output size; Inception v3 from 75): inclusive `[low, high]` ranges.
   */
  readonly sideRanges?: readonly (readonly [number, number])[];
  /** In the CI subset (one small model per family), at `ciSide`. */
  readonly ci?: boolean;
  readonly ciSide?: number;
  /** Constructor keyword arguments besides `weights=None` (aux heads off, ...). */
  readonly kwargs?: Readonly<Record<string, unknown>>;
  /**
   * Reference recipe (read by `export.py` only): the gain of the BatchNorms that end a concatenation's longer
   * branches, where a random network is otherwise too ill-conditioned for float32 (Inception v3).
   */
  readonly concatBranchGain?: number;
  readonly note?: string;
}

export const ZOO_TABLE_URL = new URL('./models.json', import.meta.url);

/** Reads and checks `models.json`. */
export function loadZooTable(file: string | URL = ZOO_TABLE_URL): ZooModel[] {
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { models?: unknown };
  if (!Array.isArray(parsed.models)) throw new Error(`${String(file)}: expected {"models": [...]}`);
  return checkZooTable(parsed.models as ZooModel[]);
}

export function checkZooTable(models: ZooModel[]): ZooModel[] {
  const seen = new Set<string>();
  for (const m of models) {
    if (typeof m.name !== 'string' || !m.name) throw new Error(`zoo table: an entry without a name: ${JSON.stringify(m)}`);
    if (seen.has(m.name)) throw new Error(`zoo table: ${m.name} is listed twice`);
    seen.add(m.name);
    if (typeof m.family !== 'string' || !m.family) throw new Error(`zoo table: ${m.name} has no family`);
    if (m.task !== 'classification' && m.task !== 'segmentation') throw new Error(`zoo table: ${m.name} has task ${String(m.task)}`);
    if (!Number.isInteger(m.side) || m.side < 1) throw new Error(`zoo table: ${m.name} has side ${String(m.side)}`);
    if (m.ci && !Number.isInteger(m.ciSide)) throw new Error(`zoo table: ${m.name} is in the CI set without a ciSide`);
  }
  return models;
}

/** Lower case without spaces, `-` and `_`: how names and families are matched. */
export const bare = (s: string): string => s.toLowerCase().replace(/[-_\s]/g, '');

export const ZOO_USAGE = `usage: npm run zoo -- [--models a,b | --family f,g | --ci] [--task classification|segmentation|all]
                   [--opset N] [--batch N] [--side N] [--runs N] [--seed N] [--cache DIR] [--out FILE]
       npm run zoo -- --acceptance [--family f,g] [--runs N] [--seed N] [--cache DIR] [--out FILE]

Exports torchvision CNNs with PyTorch (random weights, randomised BatchNorm statistics; Debian's
python3-torch, python3-torchvision and python3-onnx, installed when missing), loads each ONNX file with
webcnn, runs it on the GPU (Dawn; SwiftShader without one) and compares with PyTorch's CPU output.

  --models a,b     these models (torchvision names; see scripts/zoo/models.json)
  --family f,g     every model of these families (e.g. resnet, "mobilenet v3", efficientnet-v2)
  --ci             the CI subset: one small model per family, at a small input side
  --task T         classification, segmentation or all (default)
  --opset N        ONNX opset to export at, 11 to 17 (default 13)
  --batch N        batch size (default 1)
  --side N         input side for every model (default: each model's own; --ci: its CI side)
  --runs N         timed runs per model after the checked one; the median is reported (default 3; 0: the
                   checked run alone, no timing)
  --seed N         weights, BatchNorm statistics and input seed (default 0)
  --cache DIR      where exports are kept and reused (default zoo-cache/)
  --out FILE       the JSON results (default bench-results/zoo-<date>.json)
  --acceptance     issue #16's whole matrix of classification models, in sweeps: every model at opset 13,
                   batch 1 and a small side; the CI model of each family at its own side; at opsets 11, 12,
                   14, 15, 16 and 17; at batch 2; and at the odd sides 97 and 131 (see docs/zoo.md)

Passes when max |webcnn - torch| <= 1e-4 * max|torch| + 1e-5 and every batch row's top-1 agrees (ties within
the tolerance excepted). Exits non-zero when any model fails, is refused or errs.`;

export interface ZooOptions {
  readonly models?: readonly string[];
  readonly families?: readonly string[];
  readonly ci: boolean;
  readonly task: ZooTask | 'all';
  readonly opset: number;
  readonly batch: number;
  readonly side?: number;
  readonly runs: number;
  readonly seed: number;
  readonly cache?: string;
  readonly out?: string;
  readonly acceptance: boolean;
  readonly help: boolean;
}

function integerOption(value: string | undefined, option: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isInteger(n) || n < min || n > max) {
    throw new Error(`--${option} must be an integer from ${min}${max === Number.MAX_SAFE_INTEGER ? ' up' : ` to ${max}`}, got "${value}"`);
  }
  return n;
}

const list = (value: string | undefined): string[] | undefined =>
  value === undefined ? undefined : value.split(',').map((s) => s.trim()).filter(Boolean);

/** `npm run zoo`'s command line; throws with a one-line reason on anything it does not take. */
export function parseZooArgs(argv: readonly string[]): ZooOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      models: { type: 'string' },
      family: { type: 'string' },
      ci: { type: 'boolean', default: false },
      task: { type: 'string', default: 'all' },
      opset: { type: 'string' },
      batch: { type: 'string' },
      side: { type: 'string' },
      runs: { type: 'string', default: '3' },
      seed: { type: 'string', default: '0' },
      cache: { type: 'string' },
      out: { type: 'string' },
      acceptance: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const models = list(values.models);
  const families = list(values.family);
  if (models && (families || values.ci)) throw new Error('--models names the models itself: it does not combine with --family or --ci');
  if (models?.length === 0) throw new Error('--models is empty');
  if (families?.length === 0) throw new Error('--family is empty');
  if (values.acceptance) {
    // The matrix sets these per sweep; --family narrows it.
    const clash = (['models', 'ci', 'opset', 'batch', 'side'] as const).filter((k) => values[k] !== undefined && values[k] !== false);
    if (clash.length) throw new Error(`--acceptance sets the models, opsets, batches and sides itself: it does not combine with ${clash.map((k) => `--${k}`).join(', ')}`);
    if (values.task !== 'all' && values.task !== 'classification') throw new Error('--acceptance covers the classification models only');
  }
  if (!['classification', 'segmentation', 'all'].includes(values.task!)) {
    throw new Error(`--task must be classification, segmentation or all, got "${values.task}"`);
  }
  return {
    models,
    families,
    ci: values.ci!,
    task: values.acceptance ? 'classification' : (values.task as ZooOptions['task']),
    opset: integerOption(values.opset ?? '13', 'opset', 11, 17)!,
    batch: integerOption(values.batch ?? '1', 'batch', 1, 64)!,
    side: integerOption(values.side, 'side', 16, 1024),
    runs: integerOption(values.runs, 'runs', 0, 1000)!,
    seed: integerOption(values.seed, 'seed', 0)!,
    cache: values.cache,
    out: values.out,
    acceptance: values.acceptance!,
    help: values.help!,
  };
}

/** One model of a run: at which side, or why it is skipped. */
export interface ZooPick {
  readonly model: ZooModel;
  readonly side: number;
  /** Set when torch cannot export the model at `side` (outside `sideRanges`): the run lists it and goes on. */
  readonly skip?: string;
}

/** `sideRanges` as text: `224-255, 448-479`. */
export const rangesText = (ranges: readonly (readonly [number, number])[]): string => ranges.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(', ');

/**
 * The models a run covers, in table order (or `--models` order), each with its side: `--side`, else the CI
 * side under `--ci`, else the model's own.
 */
export function selectModels(table: readonly ZooModel[], o: Pick<ZooOptions, 'models' | 'families' | 'ci' | 'task' | 'side'>): ZooPick[] {
  let picked: ZooModel[];
  if (o.models) {
    picked = o.models.map((name) => {
      // The exact name first: bare() makes regnet_x_16gf and regnet_x_1_6gf the same.
      const m = table.find((t) => t.name === name) ?? table.find((t) => bare(t.name) === bare(name));
      if (!m) {
        const near = table.filter((t) => bare(t.name).startsWith(bare(name).slice(0, 4))).map((t) => t.name);
        throw new Error(`unknown model "${name}"${near.length ? ` (did you mean ${near.slice(0, 6).join(', ')}?)` : ''}; the zoo lists ${table.length} models in scripts/zoo/models.json`);
      }
      return m;
    });
  } else {
    picked = [...table];
    if (o.families) {
      const known = [...new Set(table.map((t) => t.family))];
      const wanted = o.families.map((f) => {
        const family = known.find((k) => bare(k) === bare(f));
        if (!family) throw new Error(`unknown family "${f}" (known: ${known.join(', ')})`);
        return family;
      });
      picked = picked.filter((m) => wanted.includes(m.family));
    }
    if (o.ci) picked = picked.filter((m) => m.ci);
  }
  if (o.task !== 'all') picked = picked.filter((m) => m.task === o.task);
  return picked.map((model) => {
    const side = o.side ?? (o.ci && model.ciSide ? model.ciSide : model.side);
    const ranges = model.sideRanges;
    if (ranges && !ranges.some(([a, b]) => side >= a && side <= b)) {
      return { model, side, skip: `torch exports ${model.name} only at sides ${rangesText(ranges)}` };
    }
    return { model, side };
  });
}

/** One export-and-run pass of a run: these models at this opset and batch. */
export interface ZooSweep {
  /** What the sweep covers, for the log (`opset 11`, `batch 2`, `side 97`). */
  readonly label: string;
  readonly opset: number;
  readonly batch: number;
  readonly picks: readonly ZooPick[];
}

/** The small side of the acceptance matrix's first sweep (its CI side where it has one, as Inception v3's 160). */
export const ACCEPTANCE_SMALL_SIDE = 64;
export const ACCEPTANCE_OPSETS = [11, 12, 14, 15, 16, 17] as const;
export const ACCEPTANCE_ODD_SIDES = [97, 131] as const;

/** `side`, or where torch cannot export the model there, the nearest side it can. */
function exportableSide(model: ZooModel, side: number): number {
  const ranges = model.sideRanges;
  if (!ranges || ranges.some(([a, b]) => side >= a && side <= b)) return side;
  const ends = ranges.flat();
  return ends.reduce((best, s) => (Math.abs(s - side) < Math.abs(best - side) ? s : best), ends[0]);
}

/**
 * `--acceptance`: issue #16's matrix over the classification models (of `--family`, if given), as sweeps.
 * 1. every model at opset 13, batch 1, a small side (its CI side, else 64; AlexNet and VGG at the nearest side
 *    torch exports them at, 223 and 224); 2. the CI model of each family at the model's own side (224; 299);
 * 3. the CI models at opsets 11, 12, 14, 15, 16, 17; 4. at batch 2; 5. at the odd sides 97 and 131, where torch
 * can export them there (not AlexNet and VGG). Sweeps 3 and 4 use the CI sides.
 */
export function acceptancePlan(table: readonly ZooModel[], o: Pick<ZooOptions, 'families'>): ZooSweep[] {
  const models = selectModels(table, { families: o.families, ci: false, task: 'classification' }).map((p) => p.model);
  const ci = models.filter((m) => m.ci);
  const small = (m: ZooModel) => exportableSide(m, m.ciSide ?? ACCEPTANCE_SMALL_SIDE);
  const sweeps: ZooSweep[] = [
    { label: 'every model, small side', opset: 13, batch: 1, picks: models.map((model) => ({ model, side: small(model) })) },
    { label: 'own side', opset: 13, batch: 1, picks: ci.filter((model) => small(model) !== model.side).map((model) => ({ model, side: model.side })) },
    ...ACCEPTANCE_OPSETS.map((opset) => ({ label: `opset ${opset}`, opset, batch: 1, picks: ci.map((model) => ({ model, side: small(model) })) })),
    { label: 'batch 2', opset: 13, batch: 2, picks: ci.map((model) => ({ model, side: small(model) })) },
    ...ACCEPTANCE_ODD_SIDES.map((side) => ({
      label: `side ${side}`,
      opset: 13,
      batch: 1,
      picks: ci.filter((model) => exportableSide(model, side) === side).map((model) => ({ model, side })),
    })),
  ];
  return sweeps.filter((s) => s.picks.length > 0);
}
