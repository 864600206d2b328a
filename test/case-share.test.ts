/**
 * The split of the GPU case table between Chromium and Node (`test/case-share.ts`) drops no case: every case of
 * every group runs in at least one runtime on the default (CI) run, both runtimes run part of every family, and
 * `WEBCNN_GPU_CASES=all` runs the whole table in both. Node's side is read from the runner itself (`--list`).
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FULL_TABLE_ENV, SPLIT_GROUPS, assignGroup, caseFamily, caseKey, casesFor, leftToChromium, type SplitGroup } from './case-share.ts';
import { PROJECT_ROOT } from './shared.ts';

interface Planned {
  readonly group: string;
  readonly name: string;
  readonly key: string;
  readonly action: 'run' | 'chromium' | 'repeat';
}

/** What `npx tsx test/run-gpu-cases.ts` would run, read from its `--list`. */
function nodePlan(env: Record<string, string>): Planned[] {
  const tsx = resolve(PROJECT_ROOT, 'node_modules/.bin/tsx');
  const out = execFileSync(tsx, ['test/run-gpu-cases.ts', '--list'], { cwd: PROJECT_ROOT, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 64 << 20 });
  return out.trim().split('\n').map((line) => JSON.parse(line) as Planned);
}

const groups = Object.keys(SPLIT_GROUPS) as SplitGroup[];
const noEnv = {};
const fullEnv = { [FULL_TABLE_ENV]: 'all' };

describe('GPU cases split between Chromium and Node', () => {
  const plan = nodePlan({ [FULL_TABLE_ENV]: '' });
  const nodeRuns = new Set(plan.filter((p) => p.action === 'run').map((p) => p.key));
  const chromiumRuns = new Set(groups.flatMap((g) => casesFor('chromium', g, noEnv).map(caseKey)));

  it('every case of every Node group runs in Node or in Chromium', () => {
    const dropped = plan.filter((p) => !nodeRuns.has(p.key) && !chromiumRuns.has(p.key)).map((p) => `${p.group}: ${p.name}`);
    expect(plan.length).toBeGreaterThan(1000);
    expect(dropped).toEqual([]);
  });

  it('every case of every split group runs in Chromium or in Node, and Node leaves only what Chromium runs', () => {
    for (const g of groups) {
      const dropped = SPLIT_GROUPS[g].filter((e) => !chromiumRuns.has(caseKey(e)) && !nodeRuns.has(caseKey(e)));
      expect(dropped.map((e) => e.name ?? e.case.kind), g).toEqual([]);
    }
    for (const p of plan.filter((q) => q.action === 'chromium')) expect(chromiumRuns.has(p.key), `${p.group}: ${p.name}`).toBe(true);
    expect(new Set(plan.filter((p) => p.action === 'chromium').map((p) => p.key))).toEqual(leftToChromium(noEnv));
  });

  it('the shares are a partition plus a smoke subset: chromium, node or both for each entry, both for one per group and precision', () => {
    for (const g of groups) {
      const entries = SPLIT_GROUPS[g];
      const assigned = assignGroup(g, entries);
      expect(assigned.every((a) => a === 'chromium' || a === 'node' || a === 'both'), g).toBe(true);
      const precisions = new Set(entries.map((e) => e.case.precision ?? 'f32'));
      expect(assigned.filter((a) => a === 'both').length, g).toBe(precisions.size);
      const chromium = casesFor('chromium', g, noEnv).length;
      const node = casesFor('node', g, noEnv).length;
      expect(chromium + node - precisions.size, g).toBe(entries.length);
    }
  });

  it('both runtimes run part of every family with two or more cases, and about half of every group', () => {
    for (const g of groups) {
      const entries = SPLIT_GROUPS[g];
      const assigned = assignGroup(g, entries);
      const families = new Map<string, Set<string>>();
      entries.forEach((e, i) => {
        const f = `${e.case.precision ?? 'f32'} ${caseFamily(e)}`;
        families.set(f, new Set([...(families.get(f) ?? []), assigned[i]]));
      });
      for (const [f, seen] of families) {
        const size = entries.filter((e) => `${e.case.precision ?? 'f32'} ${caseFamily(e)}` === f).length;
        if (size < 2) continue;
        expect(seen.has('chromium') || seen.has('both'), `${g}: ${f} in Chromium`).toBe(true);
        expect(seen.has('node') || seen.has('both'), `${g}: ${f} in Node`).toBe(true);
      }
      const share = casesFor('chromium', g, noEnv).length / entries.length;
      if (entries.length >= 8) expect(share, g).toBeGreaterThan(0.35);
      if (entries.length >= 8) expect(share, g).toBeLessThan(0.65);
    }
  });

  it('is deterministic', () => {
    for (const g of groups) expect(assignGroup(g, SPLIT_GROUPS[g])).toEqual(assignGroup(g, [...SPLIT_GROUPS[g]]));
  });

  it(`${FULL_TABLE_ENV}=all runs the whole table in both runtimes`, () => {
    for (const g of groups) {
      expect(casesFor('chromium', g, fullEnv).map(caseKey), g).toEqual(SPLIT_GROUPS[g].map(caseKey));
      expect(casesFor('node', g, fullEnv).map(caseKey), g).toEqual(SPLIT_GROUPS[g].map(caseKey));
    }
    // Node leaves nothing to Chromium then, and its groups hold every case of the split groups.
    expect(leftToChromium(fullEnv).size).toBe(0);
    const planned = new Set(plan.map((p) => p.key));
    for (const g of groups) expect(SPLIT_GROUPS[g].filter((e) => !planned.has(caseKey(e))).map((e) => e.name ?? e.case.kind), g).toEqual([]);
    // Only repeats of a case run earlier in the process are left out.
    expect(plan.filter((p) => p.action === 'repeat').every((p) => nodeRuns.has(p.key) || chromiumRuns.has(p.key))).toBe(true);
  });
});
