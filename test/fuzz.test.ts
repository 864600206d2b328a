/**
 * A fast, fixed-seed slice of `npm run fuzz` (scripts/fuzz.ts): 300 cases per format, in process. Every case
 * must end in a loaded model or a typed `WebcnnError`, within the memory bound of the full run (see
 * test/fuzz/engine.ts). No per-case time limit here (that is `npm run fuzz`'s job, on a machine of its own): a
 * hang still fails, at the generous test timeout. A failure names the case; `npm run fuzz -- --format F --seed S
 * --case I` replays it.
 */
import { describe, expect, it } from 'vitest';
import { FUZZ_FORMATS } from './fuzz/corpus.ts';
import { corpus, makeCase, runCase } from './fuzz/engine.ts';

const SEED = 20_251_129;
const CASES = 300;
/** A hang guard for 300 cases (about 10 s on an idle machine), not a speed check. */
const HANG_GUARD_MS = 600_000;

describe('fuzz (fixed seed)', () => {
  for (const format of FUZZ_FORMATS) {
    it(`${format}: ${CASES} mutated and hostile files, typed errors only`, () => {
      corpus(format);
      const failures: string[] = [];
      const results = new Map<string, number>();
      for (let index = 0; index < CASES; index++) {
        const outcome = runCase(makeCase(format, SEED, index), null);
        results.set(outcome.result, (results.get(outcome.result) ?? 0) + 1);
        if (outcome.failure) {
          failures.push(
            `${outcome.failure} ${outcome.id} (${outcome.strategy}: ${outcome.what}): ${outcome.result} ${outcome.message ?? ''} ` +
              `${outcome.ms.toFixed(0)} ms, ${(outcome.memBytes / 2 ** 20).toFixed(1)} MiB\n${outcome.stack ?? ''}`,
          );
        }
      }
      expect(failures, failures.join('\n')).toEqual([]);
      // The mix exercises both sides: files that load and files that are refused.
      expect(results.get('ok') ?? 0).toBeGreaterThan(0);
      expect(CASES - (results.get('ok') ?? 0)).toBeGreaterThan(CASES / 2);
    }, HANG_GUARD_MS);
  }
});
