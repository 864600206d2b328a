/**
 * `npm run fuzz`: feeds the three model loaders mutated and hostile files, on the CPU, and reports every case
 * that throws anything but a typed `WebcnnError`, takes over 2 s of CPU time, allocates more than the file size justifies
 * (heap + ArrayBuffer growth over 64 MiB + 16 x the file size), hangs (no progress for --hang-ms) or kills its
 * process (e.g. out of memory). Cases run in child processes (scripts/fuzz-worker.ts), several at a time, each
 * with a 3 GiB heap limit. Cases are deterministic: format, seed and index rebuild the same bytes.
 *
 *   npm run fuzz                                   # 10,000 cases per format, seed 1
 *   npm run fuzz -- --cases 2000 --seed 7 --format onnx
 *   npm run fuzz -- --format tflite --seed 1 --case 20   # one case, in process, with the full error
 *
 * Failures are saved under fuzz-failures/ (FORMAT-sSEED-cINDEX-KIND.EXT plus a .json with the outcome; untyped
 * errors also as a byte-minimized -min copy). The exit status is 1 when anything failed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { WebcnnError } from '../src/errors.ts';
import { loadModel } from '../src/formats/index.ts';
import type { FuzzFormat } from '../test/fuzz/corpus.ts';
import { FUZZ_FORMATS } from '../test/fuzz/corpus.ts';
import type { FailureKind, FuzzCase, Outcome } from '../test/fuzz/engine.ts';
import { exerciseLoaded, makeCase, memoryBound, runCase, SLOW_MS } from '../test/fuzz/engine.ts';
import { PROJECT_ROOT } from '../test/shared.ts';
import type { WorkerTask } from './fuzz-worker.ts';

const EXTENSIONS: Record<FuzzFormat, string> = { tflite: 'tflite', onnx: 'onnx', safetensors: 'safetensors' };

const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: '10000' },
    seed: { type: 'string', default: '1' },
    format: { type: 'string', multiple: true },
    case: { type: 'string' },
    jobs: { type: 'string' },
    chunk: { type: 'string', default: '2500' },
    out: { type: 'string', default: 'fuzz-failures' },
    'hang-ms': { type: 'string', default: '30000' },
    'no-minimize': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h' },
  },
});

if (values.help) {
  console.log(`Usage: npm run fuzz -- [--cases N] [--seed S] [--format tflite|onnx|safetensors]... [--case I]
  --cases N      cases per format (default 10000)
  --seed S       seed (default 1); format, seed and case index fix a case's bytes
  --format F     only these formats (repeatable; default all three)
  --case I       run one case in this process and print it in full (needs one --format)
  --jobs J       child processes at a time (default: CPU count, at most 3)
  --chunk C      cases per child process (default 2500)
  --out DIR      where failing cases are saved (default fuzz-failures/)
  --hang-ms MS   a child silent this long is a hang (default 30000)
  --no-minimize  do not minimize the bytes of untyped-error cases`);
  process.exit(0);
}

function int(value: string | undefined, name: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) {
    console.error(`fuzz: ${name} must be a non-negative integer, got '${value}'`);
    process.exit(2);
  }
  return n;
}

const cases = int(values.cases, '--cases');
const seed = int(values.seed, '--seed');
const formats = (values.format?.flatMap((f) => f.split(',')) ?? [...FUZZ_FORMATS]) as FuzzFormat[];
for (const f of formats) {
  if (!FUZZ_FORMATS.includes(f)) {
    console.error(`fuzz: unknown format '${f}' (formats: ${FUZZ_FORMATS.join(', ')})`);
    process.exit(2);
  }
}
const outDir = resolve(PROJECT_ROOT, values.out!);
const hangMs = int(values['hang-ms'], '--hang-ms');
const jobs = values.jobs ? Math.max(1, int(values.jobs, '--jobs')) : Math.min(3, availableParallelism());
const chunk = Math.max(1, int(values.chunk, '--chunk'));

interface Failure {
  readonly format: FuzzFormat;
  readonly index: number;
  readonly kind: FailureKind;
  readonly outcome: Outcome | null;
  readonly detail: string;
}

const repro = (format: FuzzFormat, index: number) => `npm run fuzz -- --format ${format} --seed ${seed} --case ${index}`;
const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;

function save(format: FuzzFormat, index: number, kind: FailureKind, bytes: Uint8Array, info: object): string {
  mkdirSync(outDir, { recursive: true });
  const base = join(outDir, `${format}-s${seed}-c${index}-${kind}`);
  writeFileSync(`${base}.${EXTENSIONS[format]}`, bytes);
  writeFileSync(`${base}.json`, `${JSON.stringify({ format, seed, index, kind, repro: repro(format, index), ...info }, null, 2)}\n`);
  return `${base}.${EXTENSIONS[format]}`;
}

/** Byte-level delta minimization of an untyped-error case: drop chunks while the same error class remains. */
function minimize(c: FuzzCase, errorName: string): Uint8Array {
  const fails = (bytes: Uint8Array): boolean => {
    try {
      exerciseLoaded(loadModel(bytes, c.options));
      return false;
    } catch (e) {
      return !(e instanceof WebcnnError) && (e as Error).name === errorName;
    }
  };
  let best = c.bytes;
  const deadline = Date.now() + 30_000;
  for (let size = Math.max(1, best.length >> 1); size >= 1 && Date.now() < deadline; size >>= 1) {
    for (let at = 0; at < best.length && Date.now() < deadline; ) {
      const candidate = new Uint8Array(best.length - Math.min(size, best.length - at));
      candidate.set(best.subarray(0, at));
      candidate.set(best.subarray(at + size), at);
      if (candidate.length > 0 && fails(candidate)) best = candidate;
      else at += size;
    }
  }
  return best;
}

// ---- one case, in process ----------------------------------------------------------------------------------

if (values.case !== undefined) {
  if (formats.length !== 1) {
    console.error('fuzz: --case needs exactly one --format');
    process.exit(2);
  }
  const [format] = formats;
  const index = int(values.case, '--case');
  const c = makeCase(format, seed, index);
  console.log(`case ${c.id}: ${c.strategy}: ${c.what}`);
  console.log(`${c.bytes.length} bytes, options ${JSON.stringify(c.options)}`);
  const outcome = runCase(c);
  try {
    exerciseLoaded(loadModel(c.bytes, c.options));
  } catch (e) {
    console.log(`error: ${(e as Error).stack ?? String(e)}`);
  }
  console.log(JSON.stringify({ ...outcome, memBytes: mib(outcome.memBytes), bound: mib(memoryBound(c.bytes.length)) }, null, 2));
  if (outcome.failure) console.log(`saved ${save(format, index, outcome.failure, c.bytes, { outcome })}`);
  process.exit(outcome.failure ? 1 : 0);
}

// ---- many cases, in worker threads ---------------------------------------------------------------------------

interface Stats {
  count: number;
  results: Map<string, number>;
  failures: Failure[];
  caseMs: number;
  maxMs: number;
  maxMsId: string;
  maxMemRatio: number;
  maxMemId: string;
  wallMs: number;
}

const stats = new Map<FuzzFormat, Stats>(
  formats.map((f) => [f, { count: 0, results: new Map(), failures: [], caseMs: 0, maxMs: 0, maxMsId: '', maxMemRatio: 0, maxMemId: '', wallMs: 0 }]),
);

function record(format: FuzzFormat, failure: Failure, bytes: Uint8Array | undefined): void {
  const s = stats.get(format)!;
  s.failures.push(failure);
  // A hung or dead process sent no bytes: the case is rebuilt here (cases are deterministic).
  const c = bytes ? null : makeCase(format, seed, failure.index);
  const detail = c ? `${failure.detail} (${c.strategy}: ${c.what})` : failure.detail;
  const file = save(format, failure.index, failure.kind, bytes ?? c!.bytes, { detail, outcome: failure.outcome });
  console.log(`FAIL ${failure.kind} ${format}/${seed}/${failure.index}: ${detail}\n     saved ${file}\n     repro: ${repro(format, failure.index)}`);
}

const WORKER = fileURLToPath(new URL('./fuzz-worker.ts', import.meta.url));

function runTask(task: WorkerTask): Promise<void> {
  return new Promise((done) => {
    const s = stats.get(task.format)!;
    let current = task.start;
    let last = Date.now();
    let finished = false;
    let stderr = '';
    const child = fork(WORKER, [JSON.stringify(task)], {
      execArgv: ['--import', 'tsx', '--expose-gc', '--max-old-space-size=3072'],
      serialization: 'advanced',
      cwd: PROJECT_ROOT,
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    });
    child.stderr!.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
    const restart = (kind: FailureKind, detail: string) => {
      if (finished) return;
      finished = true;
      clearInterval(watchdog);
      record(task.format, { format: task.format, index: current, kind, outcome: null, detail }, undefined);
      s.count++;
      child.kill('SIGKILL');
      const rest = { ...task, start: current + 1 };
      if (rest.start < rest.end) void runTask(rest).then(done);
      else done();
    };
    const watchdog = setInterval(() => {
      if (Date.now() - last > hangMs) restart('hang', `no progress for ${hangMs} ms (case still running)`);
    }, 1000);
    child.on('message', (m: { type: string; index?: number; outcome?: Outcome; bytes?: Uint8Array }) => {
      last = Date.now();
      if (m.type === 'start') current = m.index!;
      else if (m.type === 'done') {
        const o = m.outcome!;
        s.count++;
        s.results.set(o.result, (s.results.get(o.result) ?? 0) + 1);
        s.caseMs += o.ms;
        if (o.ms > s.maxMs) [s.maxMs, s.maxMsId] = [o.ms, o.id];
        const ratio = o.memBytes / memoryBound(o.size);
        if (ratio > s.maxMemRatio) [s.maxMemRatio, s.maxMemId] = [ratio, o.id];
        if (o.failure) {
          const detail =
            o.failure === 'untyped-error' ? `${o.result}: ${o.message} (${o.strategy}: ${o.what})\n${o.stack ?? ''}`
            : o.failure === 'slow' ? `${o.ms.toFixed(0)} ms CPU > ${SLOW_MS} ms (wall ${o.wallMs.toFixed(0)} ms; ${o.strategy}: ${o.what})`
            : `${mib(o.memBytes)} > ${mib(memoryBound(o.size))} for ${o.size} bytes (${o.strategy}: ${o.what})`;
          record(task.format, { format: task.format, index: m.index!, kind: o.failure, outcome: o, detail }, m.bytes ? new Uint8Array(m.bytes) : undefined);
        }
      } else if (m.type === 'finished') {
        finished = true;
        clearInterval(watchdog);
        done();
      }
    });
    child.on('exit', (code, signal) => {
      if (!finished) {
        const why = /heap out of memory/.test(stderr) ? 'out of memory' : (stderr.trim().split('\n').pop() ?? '');
        restart('crash', `process died (${signal ?? `exit code ${code}`}) during the case: ${why}`);
      }
    });
  });
}

async function main(): Promise<void> {
  console.log(
    `fuzz: ${cases} cases per format (${formats.join(', ')}), seed ${seed}, ${jobs} process(es); failure = an error that is no ` +
      `WebcnnError, > ${SLOW_MS} ms of CPU time, heap+ArrayBuffer growth > 64 MiB + 16 x file size (process.memoryUsage() before/after ` +
      `each case, result alive, no GC in between), no progress for ${hangMs} ms, or a dead process`,
  );
  const tasks: WorkerTask[] = [];
  for (const format of formats) for (let start = 0; start < cases; start += chunk) tasks.push({ format, seed, start, end: Math.min(cases, start + chunk) });
  const t0 = Date.now();
  const started = new Map<FuzzFormat, number>();
  let next = 0;
  const lane = async () => {
    while (next < tasks.length) {
      const task = tasks[next++];
      if (!started.has(task.format)) started.set(task.format, Date.now());
      await runTask(task);
      const s = stats.get(task.format)!;
      s.wallMs = Date.now() - started.get(task.format)!;
      console.log(`  ${task.format}: cases ${task.start}-${task.end - 1} done (${s.count} run, ${s.failures.length} failing)`);
    }
  };
  await Promise.all(Array.from({ length: jobs }, lane));

  let failing = 0;
  console.log(`\nfuzz summary (seed ${seed}, ${((Date.now() - t0) / 1000).toFixed(1)} s wall in all):`);
  for (const [format, s] of stats) {
    failing += s.failures.length;
    const results = [...s.results].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ');
    console.log(
      `  ${format}: ${s.count} cases, ${s.failures.length} failing; ${results}; case time ${(s.caseMs / 1000).toFixed(1)} s ` +
        `(max ${s.maxMs.toFixed(0)} ms CPU, ${s.maxMsId}); max memory ${(100 * s.maxMemRatio).toFixed(0)}% of the bound (${s.maxMemId})`,
    );
  }
  if (!values['no-minimize']) {
    for (const s of stats.values()) {
      for (const f of s.failures) {
        if (f.kind !== 'untyped-error' || !f.outcome) continue;
        const c = makeCase(f.format, seed, f.index);
        const min = minimize(c, f.outcome.result);
        const file = join(outDir, `${f.format}-s${seed}-c${f.index}-${f.kind}-min.${EXTENSIONS[f.format]}`);
        writeFileSync(file, min);
        console.log(`  minimized ${c.id}: ${c.bytes.length} -> ${min.length} bytes (${file})`);
      }
    }
  }
  process.exit(failing > 0 ? 1 : 0);
}

void main();
