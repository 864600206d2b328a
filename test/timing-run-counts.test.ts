import { describe, expect, it } from 'vitest';
import { runCounts } from '../demo/timing/run-counts.ts';

describe('timing page run counts (?repeats=&warmups=)', () => {
  it('overrides only what the URL names', () => {
    expect(runCounts(new URLSearchParams(''))).toEqual({});
    expect(runCounts(new URLSearchParams('repeats=1&warmups=0'))).toEqual({ repeats: 1, warmups: 0 });
    expect(runCounts(new URLSearchParams('quick=1&warmups=3'))).toEqual({ warmups: 3 });
  });

  it('rejects counts below the minimum, fractions and words in one line', () => {
    expect(() => runCounts(new URLSearchParams('repeats=0'))).toThrow(/^repeats must be an integer >= 1, got "0"$/);
    expect(() => runCounts(new URLSearchParams('warmups=-1'))).toThrow(/^warmups must be an integer >= 0, got "-1"$/);
    expect(() => runCounts(new URLSearchParams('repeats=1.5'))).toThrow(/repeats/);
    expect(() => runCounts(new URLSearchParams('repeats='))).toThrow(/repeats/);
    expect(() => runCounts(new URLSearchParams('warmups=two'))).toThrow(/warmups/);
  });
});
