/**
 * The fuzz engine shared by `npm run fuzz` (scripts/fuzz.ts, many cases in worker threads) and the fixed-seed
 * subset in test/fuzz.test.ts: deterministic cases (format, seed, index) -> bytes, and running one case on the
 * CPU (load, then the `webcnn info` path: validate, optimize, lower, plan memory) with its outcome.
 *
 * A case fails when it throws anything but a `WebcnnError`, takes over `SLOW_MS` of CPU time (the fuzz run only:
 * the test suite checks no time), or grows the heap plus
 * ArrayBuffer memory (`process.memoryUsage()` `heapUsed + arrayBuffers`, sampled right before and right after
 * the case while its result is still alive, no GC forced in between) by more than `memoryBound(size)` =
 * 64 MiB + 16 x the file size. The delta misses memory the GC reclaims during the case and counts garbage it has
 * not reclaimed yet, so it is an estimate of what the case allocates, generous by design.
 */
import { WebcnnError } from '../../src/errors.ts';
import type { LoadModelOptions } from '../../src/formats/index.ts';
import { loadModel } from '../../src/formats/index.ts';
import type { LoadedModel } from '../../src/formats/model.ts';
import { planMemory } from '../../src/graph/memory-plan.ts';
import { validateGraph } from '../../src/graph/validate.ts';
import { DEFAULT_KERNEL_CHOICE, optimizeForKernels } from '../../src/runtime/kernel-choice.ts';
import { isAliasNode, lowerGraph, storageBytes } from '../../src/runtime/lowering.ts';
import { hashString, Rng } from '../../src/util/random.ts';
import { mutateBytes } from './bytes.ts';
import type { FuzzFormat, Seed } from './corpus.ts';
import { corpusFor } from './corpus.ts';
import { editedOnnx, hostileOnnx } from './onnx.ts';
import { hostileExternal } from './external-data.ts';
import { editedSafetensors, hostileSafetensors } from './safetensors.ts';
import { editedTflite, hostileTflite } from './tflite.ts';

export const SLOW_MS = 2000;
export const memoryBound = (fileBytes: number): number => 64 * 2 ** 20 + 16 * fileBytes;

export interface FuzzCase {
  readonly format: FuzzFormat;
  readonly seed: number;
  readonly index: number;
  /** `format/seed/index`: `npm run fuzz -- --format F --seed S --case I` rebuilds it. */
  readonly id: string;
  /** How the bytes were made: `bytes`, `edit` (structured), `hostile` (from scratch), on which seed. */
  readonly strategy: string;
  readonly what: string;
  readonly bytes: Uint8Array;
  readonly options: LoadModelOptions;
}

export type FailureKind = 'untyped-error' | 'slow' | 'memory' | 'hang' | 'crash';

export interface Outcome {
  readonly id: string;
  readonly strategy: string;
  readonly what: string;
  readonly size: number;
  /** `ok` (loaded and planned), or the error class name. */
  readonly result: string;
  readonly message?: string;
  readonly stack?: string;
  /** CPU time of the case (user + system, this process), which a loaded machine does not inflate. */
  readonly ms: number;
  /** Wall time of the case, reported beside it. */
  readonly wallMs: number;
  readonly memBytes: number;
  readonly failure: FailureKind | null;
}

const corpora = new Map<FuzzFormat, Seed[]>();

/** The seed files of a format (built once per process). */
export function corpus(format: FuzzFormat): Seed[] {
  let c = corpora.get(format);
  if (!c) corpora.set(format, (c = corpusFor(format)));
  return c;
}

/** Share of cases that mutate a large seed (the shared TFLite model, the larger exports). */
const LARGE_SHARE = 0.06;

/** Case `index` of `format` for `seed`: the same bytes every time. */
export function makeCase(format: FuzzFormat, seed: number, index: number): FuzzCase {
  const rng = new Rng(hashString(`${format}/${seed}/${index}`));
  const seeds = corpus(format);
  const large = seeds.filter((s) => s.large);
  const small = seeds.filter((s) => !s.large);
  const pickSeed = (): Seed => (large.length && rng.next() < LARGE_SHARE ? rng.pick(large) : rng.pick(small));
  const other = () => rng.pick(seeds).bytes;
  const r = rng.next();
  let strategy: string;
  let made: { bytes: Uint8Array; what: string };
  let options: LoadModelOptions;
  if (r < 0.45) {
    const s = pickSeed();
    strategy = `bytes:${s.name}`;
    made = mutateBytes(rng, s.bytes, s.large, other);
    options = s.options;
  } else if (r < 0.8) {
    const s = pickSeed();
    strategy = `edit:${s.name}`;
    options = s.options;
    switch (format) {
      case 'tflite':
        strategy = 'edit:tflite-writer';
        made = editedTflite(rng);
        break;
      case 'onnx':
        made = editedOnnx(rng, s.bytes);
        break;
      case 'safetensors':
        made = editedSafetensors(rng, s.bytes);
        break;
    }
  } else {
    strategy = 'hostile';
    made = format === 'tflite' ? hostileTflite(rng) : format === 'onnx' ? hostileOnnx(rng) : hostileSafetensors(rng);
    options = format === 'safetensors' ? { architecture: 'mobilenet_v2', inputSize: 32 } : {};
    // ONNX external data: hostile locations, ranges and files, with the options that hand the files over.
    if (format === 'onnx' && rng.next() < 0.15) {
      const external = hostileExternal(rng);
      made = external;
      options = external.options;
    }
  }
  // ONNX has no magic number: most cases say so through the file name, the rest must be sniffed.
  if (format === 'onnx' && rng.next() < 0.8) options = { ...options, fileName: 'fuzz.onnx' };
  return { format, seed, index, id: `${format}/${seed}/${index}`, strategy, what: made.what, bytes: made.bytes, options };
}

/** What `webcnn info` does after loading, without a GPU. */
export function exerciseLoaded(loaded: LoadedModel): unknown {
  validateGraph(loaded.graph);
  const optimized = optimizeForKernels(loaded.graph, DEFAULT_KERNEL_CHOICE);
  validateGraph(optimized);
  const steps = lowerGraph(optimized, DEFAULT_KERNEL_CHOICE);
  const plan = planMemory(optimized, { bytesOf: (id) => storageBytes(optimized.tensors[id].shape), isAlias: (node) => isAliasNode(optimized, node) });
  return [steps, plan];
}

function memNow(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

const gc = (globalThis as { gc?: () => void }).gc;
let lastGcMem = 0;

/**
 * Runs one case: load, then exercise. Never throws. `slowMs` is the CPU-time limit of `npm run fuzz` (each case
 * runs synchronously in one worker process, so the process's CPU time is the case's, whatever else shares the
 * machine); `null` (the test suite) checks no time (a real hang still ends the test at its timeout).
 */
export function runCase(c: FuzzCase, slowMs: number | null = SLOW_MS): Outcome {
  if (gc && memNow() > lastGcMem + 256 * 2 ** 20) {
    gc();
    lastGcMem = memNow();
  }
  const before = memNow();
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  let kept: unknown;
  let error: unknown;
  try {
    const loaded = loadModel(c.bytes, c.options);
    kept = [loaded, exerciseLoaded(loaded)];
  } catch (e) {
    error = e;
  }
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const ms = (cpu.user + cpu.system) / 1000;
  const memBytes = Math.max(0, memNow() - before);
  void kept;
  const typed = error instanceof WebcnnError;
  const err = error as Error | undefined;
  let failure: FailureKind | null = null;
  if (error !== undefined && !typed) failure = 'untyped-error';
  else if (slowMs !== null && ms > slowMs) failure = 'slow';
  else if (memBytes > memoryBound(c.bytes.length)) failure = 'memory';
  return {
    id: c.id,
    strategy: c.strategy,
    what: c.what,
    size: c.bytes.length,
    result: error === undefined ? 'ok' : (err?.name ?? typeof error),
    ...(error !== undefined ? { message: String(err?.message ?? error).slice(0, 500) } : {}),
    ...(failure === 'untyped-error' ? { stack: err?.stack?.split('\n').slice(0, 8).join('\n') } : {}),
    ms,
    wallMs,
    memBytes,
    failure,
  };
}
