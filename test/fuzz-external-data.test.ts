/**
 * The hostile ONNX external-data cases of the fuzzer (test/fuzz/external-data.ts), 400 of them in process: each
 * loads or ends in a typed one-line `WebcnnError` (an `ExternalDataError` for every hostile location), within the
 * fuzzer's memory bound.
 */
import { describe, expect, it } from 'vitest';
import { ExternalDataError, WebcnnError } from '../src/errors.ts';
import { loadModel } from '../src/formats/index.ts';
import { hashString, Rng } from '../src/util/random.ts';
import { exerciseLoaded, memoryBound } from './fuzz/engine.ts';
import { hostileExternal } from './fuzz/external-data.ts';

describe('fuzz: hostile ONNX external data', () => {
  it('400 cases: loaded or a typed one-line error, never a file outside the folder', () => {
    const failures: string[] = [];
    const results = new Map<string, number>();
    for (let i = 0; i < 400; i++) {
      const made = hostileExternal(new Rng(hashString(`external/${i}`)));
      const fileName = i % 2 === 0 ? 'fuzz.onnx' : undefined;
      const before = process.memoryUsage().heapUsed;
      let result = 'ok';
      try {
        exerciseLoaded(loadModel(made.bytes, { ...made.options, ...(fileName ? { fileName } : {}) }));
      } catch (e) {
        result = (e as Error).name;
        if (!(e instanceof WebcnnError) || (e as Error).message.includes('\n')) failures.push(`case ${i} (${made.what}): ${String(e)}`);
        if (made.what.startsWith('external data: location') && !(e instanceof ExternalDataError)) failures.push(`case ${i} (${made.what}): ${result}`);
      }
      if (made.what.startsWith('external data: location') && result === 'ok' && !made.what.includes('"w.bin')) failures.push(`case ${i} (${made.what}) loaded`);
      if (process.memoryUsage().heapUsed - before > memoryBound(made.bytes.length)) failures.push(`case ${i} (${made.what}): memory`);
      results.set(result, (results.get(result) ?? 0) + 1);
    }
    expect(failures, failures.join('\n')).toEqual([]);
    expect(results.get('ExternalDataError') ?? 0).toBeGreaterThan(150);
    expect(results.get('ok') ?? 0).toBeGreaterThan(0);
  }, 300_000);
});
