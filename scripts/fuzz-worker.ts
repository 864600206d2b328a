/**
 * Child process of `npm run fuzz` (see scripts/fuzz.ts): runs cases `[start, end)` of one format and reports
 * each over IPC: a `start` message before the case (so the parent knows which case hung or killed the
 * process) and a `done` message with the outcome after it, with the case's bytes when it failed. A child
 * process rather than a worker thread: a fatal out-of-memory in V8 ends the whole process it happens in.
 */
import type { FuzzFormat } from '../test/fuzz/corpus.ts';
import { corpus, makeCase, runCase } from '../test/fuzz/engine.ts';

export interface WorkerTask {
  readonly format: FuzzFormat;
  readonly seed: number;
  readonly start: number;
  readonly end: number;
}

function send(message: object): Promise<void> {
  return new Promise((resolve, reject) => process.send!(message, undefined, {}, (e) => (e ? reject(e) : resolve())));
}

const task = JSON.parse(process.argv[2]) as WorkerTask;
corpus(task.format);
for (let index = task.start; index < task.end; index++) {
  await send({ type: 'start', index });
  const c = makeCase(task.format, task.seed, index);
  const outcome = runCase(c);
  await send({ type: 'done', index, outcome, bytes: outcome.failure ? c.bytes : undefined });
}
await send({ type: 'finished' });
process.disconnect();
