/**
 * Which runtime runs which GPU case. CI runs the case table in headless Chromium (Playwright, `e2e/`) and in Node
 * through Dawn (`test/run-gpu-cases.ts`), both on SwiftShader, so running every case in both doubled the cost and
 * found nothing the other did not. The groups that have a Playwright spec (`SPLIT_GROUPS`) are therefore split:
 * Chromium runs one share, Node the other, and both run a smoke subset; the Node-only groups run in Node alone.
 * Every case still runs on every CI run, in at least one runtime.
 *
 * The split is a pure function of the table. In each group, cases fall into buckets by storage precision and
 * family (the kernel family of a conv, the kind of any other case, a named case's name without its numbers);
 * each bucket, in the order of a stable hash of its cases, alternates between the runtimes, so both run about
 * half of every family, and adding a case moves at most the cases of its own bucket. Per group and precision,
 * the case of the lowest hash runs in both (the smoke subset).
 *
 * `WEBCNN_GPU_CASES=all` runs the whole table in both runtimes (the device kit, `scripts/device/run.sh`, sets it).
 */
import type { KernelChoice } from '../src/runtime/kernel-choice.ts';
import { describeCase, type GpuCase } from './gpu-cases.ts';
import { BLOCK_CASES, NETWORK_CASES } from './network-cases.ts';
import { CHANNEL_CASES } from './channel-cases.ts';
import { KERNEL_CASES } from './kernel-cases.ts';
import { F16_CASES, F16_TILE_CASES } from './f16-cases.ts';
import { TILE_CASES, type TileCase } from './tile-cases.ts';
import { GROUPED_CASES, GROUPED_F16_CASES, GROUPED_ROW_ENTRIES } from './grouped-cases.ts';
import { DEPTHWISE_CASES, DEPTHWISE_F16_CASES, depthwiseKernelPrefix } from './depthwise-cases.ts';
import { FUSED_BLOCK_CASES, FUSED_BLOCK_F16_CASES } from './inverted-residual-cases.ts';
import { STEM_CASES, STEM_F16_CASES } from './stem-cases.ts';

/** One GPU case as both runners run it: the case, the kernels forced on it, and what the run must show. */
export interface CaseEntry {
  readonly case: GpuCase;
  readonly kernels?: KernelChoice;
  readonly name?: string;
  /** A program-key prefix that one of the case's launches must have (the kernel the case is about ran). */
  readonly kernel?: string;
  /** How many launches the compiled model must make. */
  readonly dispatches?: number;
}

export type CaseRuntime = 'chromium' | 'node';
export type Assignment = CaseRuntime | 'both';

/** The environment variable that, set to `all`, runs the whole table in both runtimes. */
export const FULL_TABLE_ENV = 'WEBCNN_GPU_CASES';

export const plainEntries = (cases: readonly GpuCase[]): CaseEntry[] => cases.map((c) => ({ case: c }));
export const tileEntries = (tiles: readonly TileCase[], check: Pick<CaseEntry, 'kernel' | 'dispatches'> = {}): CaseEntry[] =>
  tiles.map((t) => ({ case: t.case, kernels: t.kernels, name: t.name, ...check }));

/**
 * The groups with a Playwright spec of the same name (`e2e/<group>.spec.ts`) and a Node group of the same name:
 * the cases split between the runtimes. A new group joins by a line here and a spec that runs `caseTests(...)` (`e2e/case-tests.ts`).
 */
export const SPLIT_GROUPS = {
  kernels: plainEntries(KERNEL_CASES),
  blocks: plainEntries(BLOCK_CASES),
  networks: plainEntries(NETWORK_CASES),
  // Every kernel variant the autotuner can pick (workgroup-memory tiles included).
  tiles: tileEntries(TILE_CASES),
  f16: [...plainEntries(F16_CASES), ...tileEntries(F16_TILE_CASES)],
  channels: plainEntries(CHANNEL_CASES),
  // Grouped convs on the grouped family (each group's work only), not on the dense fallback.
  // (The row form's programs are keyed `grouped-rows/`.)
  grouped: [...tileEntries([...GROUPED_CASES, ...GROUPED_F16_CASES], { kernel: 'grouped' }), ...GROUPED_ROW_ENTRIES],
  // Depthwise convs on the block and rolling kernels (several output rows per invocation).
  depthwise: [...DEPTHWISE_CASES, ...DEPTHWISE_F16_CASES].map((t) => ({ ...tileEntries([t])[0], kernel: depthwiseKernelPrefix(t) })),
  // Inverted-residual blocks on the fused kernel: pack, the fused block, unpack.
  'inverted-residual': tileEntries([...FUSED_BLOCK_CASES, ...FUSED_BLOCK_F16_CASES], { kernel: 'inverted-residual/', dispatches: 3 }),
  // RGB stems on the stem family.
  stem: tileEntries([...STEM_CASES, ...STEM_F16_CASES], { kernel: 'conv-stem/' }),
} as const satisfies Record<string, readonly CaseEntry[]>;

export type SplitGroup = keyof typeof SPLIT_GROUPS;

/** What identifies a case across groups and runtimes: the case, its kernels and its checks. */
export function caseKey(e: CaseEntry): string {
  return JSON.stringify([describeCase(e.case), e.case.seed ?? 1, e.kernels ?? null, e.kernel ?? null, e.dispatches ?? null]);
}

/** 32-bit FNV-1a: stable across runs, machines and Node versions. */
export function stableHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** The family a case counts in: a conv's kernel family, another case's kind, a named case's name without numbers. */
export function caseFamily(e: CaseEntry): string {
  if (e.name !== undefined) return e.name.split(',')[0].split(/\s+/).filter((w) => w && !/\d/.test(w)).join(' ');
  const c = e.case;
  if (c.kind !== 'conv') return c.kind;
  if (c.groups > 1) return c.groups === c.inC && c.outC === c.inC ? 'conv depthwise' : 'conv grouped';
  return c.kernel === 1 ? 'conv pointwise' : c.inC === 3 ? 'conv stem' : 'conv dense';
}

const precisionOf = (e: CaseEntry): string => e.case.precision ?? 'f32';

/** Which runtime runs each entry of a split group (same order as `entries`). */
export function assignGroup(group: string, entries: readonly CaseEntry[]): Assignment[] {
  const keys = entries.map(caseKey);
  const hashes = keys.map(stableHash);
  const byHash = (i: number, j: number): number => hashes[i] - hashes[j] || (keys[i] < keys[j] ? -1 : keys[i] > keys[j] ? 1 : i - j);
  const buckets = new Map<string, number[]>();
  entries.forEach((e, i) => {
    const bucket = `${precisionOf(e)}|${caseFamily(e)}`;
    buckets.set(bucket, [...(buckets.get(bucket) ?? []), i]);
  });
  const out: Assignment[] = new Array<Assignment>(entries.length);
  for (const [bucket, members] of buckets) {
    // Where a bucket starts alternating depends on its name, so single-case buckets spread over both runtimes.
    const start = stableHash(`${group}|${bucket}`) & 1;
    [...members].sort(byHash).forEach((i, rank) => {
      out[i] = (rank + start) % 2 === 0 ? 'chromium' : 'node';
    });
  }
  const smoke = new Map<string, number>();
  entries.forEach((e, i) => {
    const held = smoke.get(precisionOf(e));
    if (held === undefined || byHash(i, held) < 0) smoke.set(precisionOf(e), i);
  });
  for (const i of smoke.values()) out[i] = 'both';
  return out;
}

/** Whether the environment asks for the whole table in both runtimes. */
export function fullTable(env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  return env[FULL_TABLE_ENV] === 'all';
}

/** The entries of a split group that `runtime` runs: its share and the smoke subset, or all of them in full mode. */
export function casesFor(runtime: CaseRuntime, group: SplitGroup, env: Readonly<Record<string, string | undefined>> = process.env): CaseEntry[] {
  const entries = SPLIT_GROUPS[group];
  if (fullTable(env)) return [...entries];
  const assigned = assignGroup(group, entries);
  return entries.filter((_, i) => assigned[i] === runtime || assigned[i] === 'both');
}

/**
 * The keys of the cases Chromium runs and Node need not: in Chromium's share of a split group and in Node's
 * share of none. Node skips these in its default run; empty in full mode.
 */
export function leftToChromium(env: Readonly<Record<string, string | undefined>> = process.env): Set<string> {
  if (fullTable(env)) return new Set();
  const chromium = new Set<string>();
  const node = new Set<string>();
  for (const group of Object.keys(SPLIT_GROUPS) as SplitGroup[]) {
    const assigned = assignGroup(group, SPLIT_GROUPS[group]);
    SPLIT_GROUPS[group].forEach((e, i) => (assigned[i] === 'chromium' ? chromium : node).add(caseKey(e)));
  }
  return new Set([...chromium].filter((k) => !node.has(k)));
}
