/**
 * The peer benchmark page (`bench/peers.html`): exposes `window.runPeers(options)` for `npm run bench:peers`
 * and the e2e test, and a Run button for people. Not part of the demo build.
 */
import type { AdapterDescription } from '../../src/bench/timing.ts';
import { describeAdapter } from '../../src/bench/timing.ts';
import { ENGINE_IDS } from './protocol.ts';
import type { EngineId, NetworkRequest, OpenedEngine, PeerEngine, PeersOptions, PeersProgress, PeersResult, TimedRun } from './protocol.ts';
import { buildPeerModel, coldStart, errorText, networkFacts, primeGpu, runPeersWith } from './protocol.ts';
import { PEER_VERSIONS, createBrowserEngine, preloadEngineAssets } from './engines.ts';
import { defaultRequests, formatPeersSummary, formatPeersTable } from './report.ts';
import { dispatchesSoFar, installDispatchCounter } from './dispatch-counter.ts';
import { zooPeerModel } from './zoo-model.ts';

installDispatchCounter();

/**
 * One engine per page, for `npm run bench:peers`: `open` is the engine's cold start in this fresh page, then
 * the script interleaves `run` over the engines' pages (same browser, same GPU process, same adapter), so that
 * one set-up per engine gives both the cold start and the warm rounds.
 */
export interface PeerPageApi {
  open(engine: EngineId, request: NetworkRequest, seed: number): Promise<OpenedEngine>;
  /**
   * Lets the open engine finish what it optimizes in the background (`PeerEngine.settle`), called by the script
   * once every engine's cold start is done; resolves to the engine's report details then, or null if it has none.
   */
  settle(): Promise<Record<string, string> | null>;
  /** One inference, timed from input upload to output in JS; `withOutput` returns the output too. */
  run(withOutput: boolean): Promise<TimedRun>;
  close(): Promise<void>;
  /** `primeGpu` in this page: the script calls it in a page of its own before the first cold start. */
  prime(): Promise<number>;
}

declare global {
  interface Window {
    runPeers?: (options: PeersOptions) => Promise<PeersResult>;
    peerPage?: PeerPageApi;
    peersReady?: boolean;
  }
}

const statusEl = document.getElementById('status')!;
const reportEl = document.getElementById('report')!;
const runButton = document.getElementById('run') as HTMLButtonElement;
const quickBox = document.getElementById('quick') as HTMLInputElement;

function progress(p: PeersProgress): void {
  statusEl.textContent = p.message;
  console.log(`[peers] ${p.message}`);
}

let running: Promise<unknown> = Promise.resolve();

async function adapterDescription(): Promise<AdapterDescription | null> {
  const adapter = navigator.gpu ? await navigator.gpu.requestAdapter() : null;
  return adapter ? describeAdapter(adapter, navigator.userAgent) : null;
}

/** Runs `options` (one call at a time) and resolves with everything measured. */
export async function runPeers(options: PeersOptions): Promise<PeersResult> {
  const previous = running;
  const work = (async () => {
    await previous.catch(() => undefined);
    const engines = options.engines ?? ENGINE_IDS;
    progress({ message: 'loading engine binaries' });
    await preloadEngineAssets(engines);
    if (options.phase !== 'warm' && navigator.gpu) {
      progress({ message: 'priming the GPU (one trivial kernel on a throwaway device)' });
      await primeGpu(navigator.gpu);
    }
    return runPeersWith(createBrowserEngine, options, {
      runtime: navigator.userAgent,
      adapter: await adapterDescription(),
      versions: PEER_VERSIONS,
      defaultEngines: ENGINE_IDS,
      onProgress: progress,
    });
  })();
  running = work;
  return work;
}

// Under `npm run demo` / the e2e server, an edit anywhere below this page would make Vite reload it mid-run:
// accept updates of the direct imports (so of everything below them) and keep running the code loaded.
if (import.meta.hot) {
  import.meta.hot.accept(['../../src/bench/timing.ts', './protocol.ts', './engines.ts', './report.ts', './dispatch-counter.ts', './zoo-model.ts'], () => undefined);
}

let opened: { engine: PeerEngine; input: Float32Array } | null = null;

const peerPage: PeerPageApi = {
  async open(id, request, seed) {
    await peerPage.close();
    progress({ message: 'loading engine binaries' });
    await preloadEngineAssets([id]);
    const adapter = await adapterDescription();
    progress({ message: request.zoo ? `fetching ${request.zoo.url}` : `building ${request.network} and its ONNX bytes` });
    const model = request.zoo ? await zooPeerModel(request, seed) : buildPeerModel(request, seed);
    const engine = createBrowserEngine(id);
    const base = {
      engine: id,
      label: engine.label,
      webgpu: engine.webgpu,
      network: networkFacts(model, request),
      runtime: navigator.userAgent,
      adapter,
      versions: PEER_VERSIONS,
    };
    progress({ message: `${model.title}: cold start of ${engine.label}` });
    try {
      const { cold, output } = await coldStart(engine, model);
      // Keep the engine and the input only: the graphs and ONNX bytes can go.
      opened = { engine, input: model.input };
      return { ...base, cold, output: Array.from(output), details: engine.describe?.() };
    } catch (e) {
      await engine.dispose().catch(() => undefined);
      return { ...base, error: errorText(e) };
    }
  },
  async settle() {
    if (!opened) throw new Error('peerPage.settle: no engine is open');
    const { engine } = opened;
    if (!engine.settle) return null;
    progress({ message: `${engine.label} settling` });
    await engine.settle();
    return engine.describe?.() ?? null;
  },
  async run(withOutput) {
    if (!opened) throw new Error('peerPage.run: no engine is open');
    const { engine, input } = opened;
    await engine.activate?.();
    const before = dispatchesSoFar();
    const t0 = performance.now();
    const out = await engine.run(input);
    const ms = performance.now() - t0;
    const dispatches = dispatchesSoFar() - before;
    return { ms, gpuMs: engine.lastGpuMs?.() ?? null, dispatches, ...(withOutput ? { output: Array.from(out) } : {}) };
  },
  async prime() {
    if (!navigator.gpu) throw new Error('no WebGPU in this page (navigator.gpu is missing)');
    return primeGpu(navigator.gpu);
  },
  async close() {
    const o = opened;
    opened = null;
    await o?.engine.dispose().catch(() => undefined);
  },
};

window.peerPage = peerPage;
window.runPeers = runPeers;
window.peersReady = true;
runButton.disabled = false;
statusEl.textContent = 'ready';

runButton.addEventListener('click', async () => {
  runButton.disabled = true;
  reportEl.textContent = '';
  try {
    const result = await runPeers({ phase: 'both', networks: defaultRequests(quickBox.checked) });
    reportEl.textContent = `${formatPeersTable(result)}\n\n${formatPeersSummary(result)}`;
    statusEl.textContent = 'done';
  } catch (e) {
    statusEl.textContent = `failed: ${e instanceof Error ? e.message : String(e)}`;
  } finally {
    runButton.disabled = false;
  }
});
