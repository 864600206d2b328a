/**
 * `npm run bench:peers [-- --quick] [--networks mobilenetv2,resnet50] [--runtime browser|node] [--rounds N] [--warmups N]`
 * `npm run bench:peers -- --zoo [--models a,b@side] [--side N] [--cache DIR]`
 *
 * webcnn against ONNX Runtime Web (JSEP and native WebGPU execution providers) and TensorFlow.js (WebGPU, and
 * WASM as the CPU reference) on the same adapter, batch 1, fp32, identical random weights: MobileNetV2 1.0 224
 * and ResNet-50 224. The protocol is `bench/peers/protocol.ts`; the page `bench/peers.html`.
 *
 * - `--runtime browser` (default): its own Vite server on a free port and one headless Chromium (Debian's, with
 *   the test suite's WebGPU flags plus `--enable-webgpu-developer-features`). Per network: each engine's cold
 *   start in its own fresh page (new browser context), one engine at a time; the engines stay open in their
 *   pages and the script interleaves warm-ups and timed rounds over them (same browser, GPU process and
 *   adapter: A, B, C, A, B, C, ...), then compares every engine's logits with webcnn's. One set-up per engine
 *   gives both figures, which keeps a full run on a software adapter near 10 minutes.
 * - `--runtime node`: every engine in Node through Dawn (`webgpu` package), for machines with a GPU and no
 *   browser: Dawn's GPU object is `navigator.gpu` for the peers (`bench/peers/node-engines.ts`), so all share
 *   one adapter. Each network runs in a fresh child process of this script (so that every engine's set-up,
 *   wasm and backend initialization included, is a cold start, and so that a crash loses one network only):
 *   each engine's set-up (prepare + first inference, webcnn on a fresh device) is its cold start, then
 *   warm-ups and interleaved rounds. When a network's process dies (a native abort, or `--network-timeout`),
 *   that network is run again with each peer beside webcnn in a process of its own, and what still fails is
 *   an error row. `--in-process` runs everything in this process instead.
 *
 * - `--zoo` (`--models name[@side],...`, `--side N`, `--cache DIR`): torchvision networks, one per family, exported
 *   by the zoo harness (`scripts/zoo/exporter.ts`, cache `zoo-cache/`), webcnn against both ONNX Runtime builds on
 *   the same file, in the browser as above; the page fetches each file from this script's Vite server, and counts
 *   every engine's compute dispatches per inference. Also writes the Markdown report (`docs/zoo-bench.md`'s table
 *   and fusions) next to the JSON. Networks and sides: `bench/peers/zoo-network.ts`; arguments:
 *   `scripts/bench-peers-args.ts`.
 *
 * Prints a table and the ratios, and writes everything to `bench-results/peers-<date>.json`.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from '@playwright/test';
import type { EngineId, EngineResult, NetworkRequest, NetworkResult, OpenedEngine, PeersResult } from '../bench/peers/protocol.ts';
import { compareLogits, errorText, networkTitle, timingFigures } from '../bench/peers/protocol.ts';
import { formatPeersSummary, formatPeersTable, peerRatios } from '../bench/peers/report.ts';
import { formatZooReport, replaceGenerated } from '../bench/peers/zoo-report.ts';
import type { ZooFacts } from '../bench/peers/zoo-report.ts';
import type { PeersOptions } from './bench-peers-args.ts';
import { PEERS_USAGE, parsePeersArgs } from './bench-peers-args.ts';
import { prepareZoo } from './bench-peers-zoo.ts';
import { freePort, launchWebgpuChromium } from './headless.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function parse(): PeersOptions {
  let o: PeersOptions;
  try {
    o = parsePeersArgs(process.argv.slice(2));
  } catch (e) {
    throw new Error(`${(e as Error).message.trim()}\n${PEERS_USAGE}`);
  }
  if (o.help) {
    console.log(PEERS_USAGE);
    process.exit(0);
  }
  return o;
}

type Options = PeersOptions;

function log(message: string): void {
  const t = new Date().toISOString().slice(11, 19);
  console.error(`[${t}] ${message}`);
}

/** A page in a fresh browser context (so that no HTTP, page or GPU cache of another engine's page helps). */
async function freshPage(browser: Browser, url: string, tag: string): Promise<{ page: Page; close: () => Promise<void> }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('console', (m) => {
    const text = m.text();
    if (text.startsWith('[peers] ')) log(`${tag}: ${text.slice(8)}`);
    else if (m.type() === 'error') log(`[${tag} page] ${text}`);
  });
  page.on('pageerror', (e) => log(`[${tag} page] ${e.message}`));
  page.on('crash', () => log(`[${tag} page] crashed`));
  await page.goto(url);
  await page.waitForFunction(() => window.peersReady === true, undefined, { timeout: 120_000 });
  return { page, close: () => context.close() };
}

interface EnginePage {
  readonly id: EngineId;
  readonly page: Page;
  readonly close: () => Promise<void>;
  opened: OpenedEngine;
  readonly times: number[];
  readonly warmupTimes: number[];
  readonly gpu: number[];
  output?: readonly number[];
  error?: string;
  /** Compute dispatches of the last timed run, where the page counts them. */
  dispatches?: number;
}

/**
 * One network: each engine's cold start in its own fresh page, one engine at a time (the others idle); then
 * warm-ups and interleaved rounds over the engines' pages (A, B, C, A, B, C, ...); then the logit check.
 */
async function measureNetwork(browser: Browser, url: string, o: Options, request: NetworkRequest): Promise<{ network: NetworkResult; opened: OpenedEngine[] }> {
  const pages: EnginePage[] = [];
  const name = request.zoo ? networkTitle(request) : request.network;
  try {
    for (const id of o.engines) {
      log(`${name}: cold start of ${id} in a fresh page`);
      const { page, close } = await freshPage(browser, url, id);
      const opened = await page.evaluate(([e, r, seed]) => window.peerPage!.open(e, r, seed), [id, request, o.seed] as const);
      pages.push({ id, page, close, opened, times: [], warmupTimes: [], gpu: [], output: opened.output, error: opened.error });
      log(`${name}: ${opened.label} cold start ${opened.error ? `failed: ${opened.error}` : `${opened.cold!.totalMs.toFixed(0)} ms`}`);
      if (opened.error) await close();
    }
    const live = () => pages.filter((p) => !p.error);
    // After every cold start (so that none runs beside another engine's background work) and before the warm-ups.
    for (const p of live()) {
      try {
        const details = await p.page.evaluate(() => window.peerPage!.settle());
        if (details) p.opened = { ...p.opened, details };
      } catch (e) {
        p.error = errorText(e);
        log(`${name}: ${p.opened.label} failed to settle: ${p.error}`);
        await p.close().catch(() => undefined);
      }
    }
    const runOn = async (p: EnginePage, timed: boolean, withOutput: boolean) => {
      try {
        const r = await p.page.evaluate((w) => window.peerPage!.run(w), withOutput);
        if (timed) {
          p.times.push(r.ms);
          if (r.gpuMs !== null) p.gpu.push(r.gpuMs);
          if (r.dispatches !== undefined) p.dispatches = r.dispatches;
        } else {
          p.warmupTimes.push(r.ms);
        }
        if (r.output) p.output = r.output;
      } catch (e) {
        p.error = errorText(e);
        log(`${name}: ${p.opened.label} failed: ${p.error}`);
        await p.close().catch(() => undefined);
      }
    };
    for (let w = 0; w < request.warmups; w++) {
      log(`${name}: warm-up ${w + 1}/${request.warmups}`);
      for (const p of live()) await runOn(p, false, false);
    }
    for (let r = 0; r < request.rounds; r++) {
      log(`${name}: round ${r + 1}/${request.rounds}`);
      for (const p of live()) await runOn(p, true, r === request.rounds - 1);
      log(`${name}: round ${r + 1}: ${live().map((p) => `${p.id} ${p.times[r]?.toFixed(0)} ms`).join(', ')}`);
    }
    const ref = pages.find((p) => p.id === 'webcnn');
    const engines = pages.map((p): EngineResult => ({
      engine: p.id,
      label: p.opened.label,
      webgpu: p.opened.webgpu,
      ...timingFigures(p.times, p.gpu),
      warmupMs: p.warmupTimes,
      cold: p.opened.cold,
      logits: ref?.output && p.output && !p.error ? compareLogits(ref.output, p.output) : undefined,
      coldLogits: ref?.opened.output && p.opened.output ? compareLogits(ref.opened.output, p.opened.output) : undefined,
      details: p.opened.details,
      ...(p.dispatches !== undefined ? { dispatchesPerRun: p.dispatches } : {}),
      ...(p.error ? { error: p.error } : {}),
    }));
    return { network: { ...pages[0].opened.network, engines }, opened: pages.map((p) => p.opened) };
  } finally {
    for (const p of pages) {
      await p.page.evaluate(() => window.peerPage!.close()).catch(() => undefined);
      await p.close().catch(() => undefined);
    }
  }
}

/** `fsAllow`: folders outside the repository the pages may fetch from (`/@fs/...`: the zoo's export cache). */
async function runInBrowser(o: Options, fsAllow: readonly string[] = []): Promise<{ result: PeersResult; browser: string }> {
  const { createServer } = await import('vite');
  const port = await freePort();
  const server = await createServer({
    root,
    configFile: resolve(root, 'vite.config.ts'),
    logLevel: 'warn',
    // No watcher and no HMR: engineers editing src/ or shaders/ during a run must not reload the pages under it.
    server: { port, strictPort: true, host: '127.0.0.1', hmr: false, watch: null, fs: { allow: [root, ...fsAllow] } },
    // Pre-bundle the peers' dependencies up front (the demo build's inputs do not name this page).
    optimizeDeps: { entries: ['bench/peers.html'] },
  });
  await server.listen();
  const browser = await launchWebgpuChromium(o.headed);
  const url = `http://127.0.0.1:${port}/bench/peers.html`;
  const start = performance.now();
  try {
    const browserVersion = `Chromium ${browser.version()}`;
    log(`${browserVersion}, Vite on port ${port}`);
    // The GPU process's first use (driver, shader compiler) is nobody's cold start: see primeGpu.
    const priming = await freshPage(browser, url, 'prime');
    try {
      log(`GPU primed in a page of its own: ${(await priming.page.evaluate(() => window.peerPage!.prime())).toFixed(0)} ms`);
    } finally {
      await priming.close();
    }
    const networks: NetworkResult[] = [];
    let first: OpenedEngine | undefined;
    for (const request of o.requests) {
      const { network, opened } = await measureNetwork(browser, url, o, request);
      networks.push(network);
      first ??= opened.find((x) => x.adapter) ?? opened[0];
    }
    const result: PeersResult = {
      version: 1,
      date: new Date().toISOString(),
      phase: 'both',
      runtime: first?.runtime ?? '',
      adapter: first?.adapter ?? null,
      seed: o.seed,
      versions: first?.versions ?? {},
      networks,
      durationMs: performance.now() - start,
    };
    return { result, browser: browserVersion };
  } finally {
    await browser.close();
    await server.close();
  }
}

/** Every network in this process (`--in-process`, and each child of `runInNode`). */
async function runInThisProcess(o: Options): Promise<{ result: PeersResult; browser?: string }> {
  const { nodeGpu } = await import('../src/gpu/node-device.ts');
  const { acquireDevice } = await import('../src/gpu/device.ts');
  const { describeAdapter } = await import('../src/bench/timing.ts');
  const { primeGpu, runPeersWith } = await import('../bench/peers/protocol.ts');
  const { webcnnEngine } = await import('../bench/peers/webcnn-engine.ts');
  const { loadNodePeers, nodeEngineFactory } = await import('../bench/peers/node-engines.ts');
  // Dawn quantizes timestamps unless told not to (what --enable-webgpu-developer-features does in Chrome).
  const gpu = await nodeGpu(['disable-dawn-features=timestamp_quantization']);
  const adapter = await gpu.requestAdapter();
  if (!adapter) throw new Error('no WebGPU adapter from Dawn');
  const runtime = `node ${process.version} (Dawn, webgpu package)`;
  // The peers get the same GPU object (so the same adapter) as navigator.gpu.
  const peers = await loadNodePeers(gpu, o.engines);
  for (const [id, why] of Object.entries(peers.loadErrors)) log(`${id}: ${why}`);
  // The process's first use of the GPU (driver, shader compiler) is nobody's cold start: see primeGpu.
  log(`GPU primed: ${(await primeGpu(gpu)).toFixed(0)} ms`);
  // Every webcnn instance gets a fresh device, so its set-up compiles every pipeline.
  const factory = nodeEngineFactory(() => webcnnEngine(async () => (await acquireDevice({ gpu, timestamps: true })).device), peers);
  // One process: each engine's set-up (prepare + first inference) is its cold start (webcnn on a fresh device;
  // a peer's wasm and backend initialization happen in its first network's set-up only).
  const result = await runPeersWith(factory, { phase: 'warm', networks: o.requests, engines: o.engines, seed: o.seed }, {
    runtime,
    adapter: describeAdapter(adapter, runtime),
    versions: peers.versions,
    defaultEngines: o.engines,
    onProgress: (p) => log(p.message),
  });
  return {
    result: { ...result, phase: 'both', networks: result.networks.map((n) => ({ ...n, engines: n.engines.map((e) => ({ ...e, cold: e.setup })) })) },
  };
}

interface ChildOutcome {
  readonly result?: PeersResult;
  /** Why there is no result: exit status or signal, and the last lines the child wrote. */
  readonly why?: string;
}

/** `request` with `engines` in a child process of this script (`--in-process --result FILE`). */
async function runChild(o: Options, request: NetworkRequest, engines: readonly EngineId[], file: string): Promise<ChildOutcome> {
  const { spawn } = await import('node:child_process');
  const { existsSync, readFileSync, rmSync } = await import('node:fs');
  rmSync(file, { force: true });
  const args = [
    ...process.execArgv,
    process.argv[1],
    '--runtime', 'node', '--in-process', '--result', file,
    '--networks', request.network,
    '--engines', engines.join(','),
    '--rounds', String(request.rounds),
    '--warmups', String(request.warmups),
    '--seed', String(o.seed),
    ...(request.inputSize !== undefined ? ['--input-size', String(request.inputSize)] : []),
    ...(request.widthMultiplier !== undefined ? ['--width-multiplier', String(request.widthMultiplier)] : []),
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'pipe'] });
  const tail: string[] = [];
  let pending = '';
  child.stderr.on('data', (chunk: Buffer) => {
    process.stderr.write(chunk);
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) if (line.trim() && !line.includes('XDG_RUNTIME_DIR')) tail.push(line.replace(/^\[\d\d:\d\d:\d\d\] /, ''));
    tail.splice(0, Math.max(0, tail.length - 3));
  });
  let timedOut = false;
  const timer = o.networkTimeoutS
    ? setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, o.networkTimeoutS * 1000)
    : undefined;
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((ok) => child.on('close', (c, s) => ok([c, s])));
  clearTimeout(timer);
  if (code === 0 && existsSync(file)) return { result: JSON.parse(readFileSync(file, 'utf8')) as PeersResult };
  const how = timedOut ? `killed after --network-timeout ${o.networkTimeoutS} s` : signal ? `ended by ${signal}` : `exited with status ${code}`;
  return { why: `its process ${how}${tail.length ? ` (last output: ${tail.join(' | ')})` : ''}` };
}

function failedRow(id: EngineId, label: string, why: string): EngineResult {
  return { engine: id, label, webgpu: id !== 'tfjs-wasm', timesMs: [], medianMs: NaN, minMs: NaN, maxMs: NaN, error: why };
}

/**
 * Each network in a fresh child process; a network whose process dies is run again with each peer beside
 * webcnn in a process of its own (so that one crashing engine does not take the others' figures with it).
 */
async function runInNode(o: Options, onNetwork?: (partial: PeersResult) => void): Promise<{ result: PeersResult; browser?: string }> {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { engineLabels } = await import('../bench/peers/peer-engines.ts');
  const dir = mkdtempSync(resolve(tmpdir(), 'webcnn-peers-'));
  const start = performance.now();
  const networks: NetworkResult[] = [];
  let first: PeersResult | undefined;
  const snapshot = (): PeersResult => ({
    version: 1,
    date: new Date().toISOString(),
    phase: 'both',
    runtime: first?.runtime ?? `node ${process.version} (Dawn, webgpu package)`,
    adapter: first?.adapter ?? null,
    seed: o.seed,
    versions: first?.versions ?? {},
    networks: [...networks],
    durationMs: performance.now() - start,
  });
  const done = (network: NetworkResult) => {
    networks.push(network);
    // This network's rows in the log now (prefixed, so that the final table stays the only unprefixed one).
    for (const line of formatPeersTable({ ...snapshot(), networks: [network] }).split('\n')) log(`| ${line}`);
    onNetwork?.(snapshot());
  };
  try {
    for (const [i, request] of o.requests.entries()) {
      const title = networkTitle(request);
      log(`${title}: in a fresh process`);
      const whole = await runChild(o, request, o.engines, resolve(dir, `${i}.json`));
      if (whole.result) {
        first ??= whole.result;
        done(whole.result.networks[0]);
        continue;
      }
      log(`${title}: ${whole.why}; again with each engine in a process of its own`);
      const withWebcnn = o.engines.includes('webcnn');
      const peers = o.engines.filter((e) => e !== 'webcnn');
      const groups: EngineId[][] = peers.length === 0 ? [['webcnn']] : peers.map((p) => (withWebcnn ? ['webcnn', p] : [p]));
      const rows = new Map<EngineId, EngineResult>();
      let facts: NetworkResult | undefined;
      const failures: string[] = [];
      const side = request.inputSize ?? 224;
      const assemble = (pending: string): NetworkResult => {
        const labels = engineLabels(first?.versions['onnxruntime-web'] ?? '?');
        return {
          ...(facts ?? {
            network: request.network,
            title,
            inputShape: [1, 3, side, side],
            outputSize: 0,
            parameters: 0,
            macs: 0,
            onnxBytes: 0,
            warmups: request.warmups,
            rounds: request.rounds,
          }),
          engines: o.engines.map((id) => rows.get(id) ?? failedRow(id, labels[id], pending)),
        };
      };
      for (const [j, group] of groups.entries()) {
        log(`${title}: ${group.join(' + ')} in a fresh process`);
        const part = await runChild(o, request, group, resolve(dir, `${i}-${j}.json`));
        const labels = engineLabels(first?.versions['onnxruntime-web'] ?? part.result?.versions['onnxruntime-web'] ?? '?');
        if (part.result) {
          first ??= part.result;
          facts ??= part.result.networks[0];
          for (const line of formatPeersTable(part.result).split('\n')) log(`| ${line}`);
          for (const e of part.result.networks[0].engines) if (e.engine !== 'webcnn' || !rows.get('webcnn') || rows.get('webcnn')!.error) rows.set(e.engine, e);
        } else {
          failures.push(part.why!);
          for (const id of group) if (id !== 'webcnn' || group.length === 1) rows.set(id, failedRow(id, labels[id], part.why!));
        }
        // What this network has so far, saved in case the run is stopped before its last group.
        onNetwork?.({ ...snapshot(), networks: [...networks, assemble('not run: the run stopped before its turn')] });
      }
      done(assemble(`with every peer: ${failures[0] ?? whole.why}`));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { result: snapshot() };
}

async function main(): Promise<void> {
  let o = parse();
  if (o.resultFile) {
    const { result } = await runInThisProcess(o);
    writeFileSync(o.resultFile, JSON.stringify(result));
    return;
  }
  if (o.zoo?.fromJson) {
    const saved = JSON.parse(readFileSync(o.zoo.fromJson, 'utf8')) as PeersResult & { browser?: string; zoo?: Record<string, ZooFacts>; zooNotes?: string[] };
    if (!saved.zoo) throw new Error(`${o.zoo.fromJson} is not the JSON of a zoo run (it has no "zoo" facts)`);
    writeZooReport(o, saved, new Map(Object.entries(saved.zoo)), saved.browser, saved.zooNotes ?? [], o.zoo.fromJson);
    return;
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const file = o.out ? resolve(o.out) : resolve(root, 'bench-results', `peers-${o.zoo ? 'zoo-' : ''}${stamp}.json`);
  mkdirSync(dirname(file), { recursive: true });
  // Zoo mode: export (or find in the cache) every network first, then measure them like the builder networks.
  let zooFacts: ReadonlyMap<string, ZooFacts> | undefined;
  let fsAllow: string[] = [];
  const loadAtStart = loadavg()[0];
  let notes: string[] | undefined;
  // The machine's load over the run and the command, for the report (kept in the JSON for --from-json).
  const zooNotes = (): string[] =>
    (notes ??= [
      `Machine: ${cpus().length} CPU cores; 1-minute load average ${loadAtStart.toFixed(1)} at the start and ${loadavg()[0].toFixed(1)} at the end.`,
      `Command: \`npm run bench:peers -- ${process.argv.slice(2).join(' ')}\`.`,
    ]);
  if (o.zoo) {
    const zoo = await prepareZoo(o.zoo, o.engines, root, log);
    o = { ...o, requests: zoo.requests };
    zooFacts = zoo.facts;
    fsAllow = [zoo.cache];
  }
  const save = (result: PeersResult, browser: string | undefined, partial: boolean) => {
    const ratios = result.networks.map(peerRatios);
    const zoo = zooFacts ? { zoo: Object.fromEntries(zooFacts), ...(partial ? {} : { zooNotes: zooNotes() }) } : {};
    const json = { ...result, runtime: o.runtime, userAgent: result.runtime, browser, ratios, ...zoo, ...(partial ? { partial: true } : {}) };
    writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);
  };
  // Node: the networks measured so far are saved after each one (a run stopped from outside keeps them).
  const { result, browser } =
    o.runtime === 'browser'
      ? await runInBrowser(o, fsAllow)
      : o.inProcess
        ? await runInThisProcess(o)
        : await runInNode(o, (partial) => save(partial, undefined, true));
  console.log(formatPeersTable(result));
  console.log('');
  console.log(formatPeersSummary(result, { browser }));
  save(result, browser, false);
  console.log(`\nwrote ${shown(file)}`);
  if (zooFacts) writeZooReport(o, result, zooFacts, browser, zooNotes(), file);
}

const shown = (f: string): string => {
  const r = relative(process.cwd(), f);
  return r && !r.startsWith('..') ? r : f;
};

/** The zoo report as Markdown next to `file` (its JSON), printed, and in docs/zoo-bench.md with `--update-doc`. */
function writeZooReport(o: Options, result: PeersResult, facts: ReadonlyMap<string, ZooFacts>, browser: string | undefined, notes: readonly string[], file: string): void {
  const markdown = formatZooReport(result, facts, { browser, notes });
  const mdFile = `${file.replace(/\.json$/, '')}.md`;
  writeFileSync(mdFile, markdown);
  console.log(`\n${markdown}`);
  console.log(`wrote ${shown(mdFile)}`);
  if (o.zoo?.updateDoc) {
    const doc = resolve(root, 'docs', 'zoo-bench.md');
    writeFileSync(doc, replaceGenerated(readFileSync(doc, 'utf8'), markdown));
    console.log(`updated ${shown(doc)}`);
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  },
);
