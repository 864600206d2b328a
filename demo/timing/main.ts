/**
 * The timing page: acquires a device with `timestamp-query` where the adapter has it, runs the timing suite
 * (`src/bench/timing.ts`) and shows adapter, per-network summaries, a roofline, a breakdown by kernel type and
 * a sortable table. `?autorun=1` runs on load, `&quick=1` cuts repeats (and leaves DeepLabV3 out unless named);
 * `&networks=mobilenet_v2,resnet50,deeplabv3` and `&timer=wall` select what runs, `&repeats=1&warmups=0` set
 * the timed and untimed runs per figure, `&precision=f16-packed` (or f16, auto) the networks' storage precision. When done: `window.timingResults` (rows), `window.timingSuite` (everything),
 * `window.timingDone = true`, or `window.timingError` on failure.
 */
import type { Chart } from 'chart.js';
import type { NetworkRoofline, TimingRow } from '../../src/bench/figures.ts';
import { medianLabel } from '../../src/bench/figures.ts';
import { bandwidthRoofText, computeRoofText, formatBytes, formatNumber } from '../../src/bench/report.ts';
import type { AdapterDescription, NetworkId, TimingSuiteResult } from '../../src/bench/timing.ts';
import { FULL_SETTINGS, NETWORK_IDS, describeAdapter, runTimingSuite } from '../../src/bench/timing.ts';
import { acquireDevice } from '../../src/gpu/device.ts';
import { breakdownChart, rooflineChart } from './charts.ts';
import { RowsTable } from './table.ts';
import { noWebgpuHelp } from '../webgpu-help.ts';
import { readDemoModelFile } from './model-files.ts';
import { runCounts } from './run-counts.ts';
import './timing.css';

declare global {
  interface Window {
    timingResults?: TimingRow[];
    timingSuite?: TimingSuiteResult;
    timingDone?: boolean;
    timingError?: string;
    /** The Chart.js instances (roofline, breakdown), for tests. */
    timingCharts?: Chart[];
  }
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const params = new URLSearchParams(location.search);
const quickBox = $<HTMLInputElement>('quick');
const runButton = $<HTMLButtonElement>('run');
const downloadButton = $<HTMLButtonElement>('download');
const statusText = $<HTMLSpanElement>('status');
const progressBar = $<HTMLProgressElement>('progress');
const table = new RowsTable($<HTMLTableElement>('rows'), $<HTMLSelectElement>('network-filter'), $<HTMLSelectElement>('kernel-filter'));
let charts: Chart[] = [];
let lastResult: TimingSuiteResult | null = null;

quickBox.checked = params.get('quick') === '1';

function setStatus(message: string, fraction?: number, error = false): void {
  statusText.textContent = message;
  statusText.parentElement!.classList.toggle('error', error);
  if (fraction !== undefined) progressBar.value = fraction;
}

function fact(dl: HTMLElement, term: string, value: string): void {
  const dt = document.createElement('dt');
  dt.textContent = term;
  const dd = document.createElement('dd');
  dd.textContent = value || '–';
  dl.append(dt, dd);
}

function showAdapter(a: AdapterDescription, result?: TimingSuiteResult): void {
  const dl = $('adapter');
  dl.replaceChildren();
  fact(dl, 'vendor', a.vendor);
  fact(dl, 'architecture', a.architecture);
  fact(dl, 'device', a.device);
  fact(dl, 'description', a.description);
  fact(dl, 'timer', result ? `${result.timer}${result.timer === 'timestamp' ? ' (timestamp-query, one pair per dispatch)' : ' (submit → onSubmittedWorkDone)'}` : a.features.includes('timestamp-query') ? 'timestamp (timestamp-query)' : 'wall (no timestamp-query)');
  fact(dl, 'timer resolution', result ? `${formatNumber(result.timerResolutionMs * 1000, 3)} µs (smallest nonzero step seen)` : '');
  fact(dl, 'storage precision', result ? `${result.precision ?? 'f32'}${a.features.includes('shader-f16') ? ' (adapter has shader-f16)' : ''}` : '');
  const p = result?.peaks;
  const titles = new Map<string, string>(result?.networks.map((n) => [n.network, n.title]));
  fact(dl, 'compute roof', p ? computeRoofText(p, titles) : '');
  fact(dl, 'bandwidth roof', p ? bandwidthRoofText(p, titles) : '');
  fact(dl, 'runs', result ? `${describeRuns(result)}, ${(result.durationMs / 1000).toFixed(1)} s in all` : '');
  fact(dl, 'runtime', a.runtime ?? '');

  const details = $('adapter-details');
  const features = document.createElement('div');
  const fh = document.createElement('strong');
  fh.textContent = `features (${a.features.length})`;
  const fl = document.createElement('ul');
  for (const f of a.features) fl.append(Object.assign(document.createElement('li'), { textContent: f }));
  features.append(fh, fl);
  const limits = document.createElement('div');
  const lh = document.createElement('strong');
  lh.textContent = 'limits';
  const ll = document.createElement('ul');
  for (const [k, v] of Object.entries(a.limits)) ll.append(Object.assign(document.createElement('li'), { textContent: `${k}: ${v}` }));
  limits.append(lh, ll);
  details.replaceChildren(features, limits);
}

function describeRuns(r: TimingSuiteResult): string {
  const s = r.settings;
  return `${s.warmups} warm-up + ${s.repeats} timed inferences, ${s.stepWarmups} + ${s.repeats} per-kernel batches${r.quick ? ' (quick)' : ''}`;
}

function showSummary(result: TimingSuiteResult): void {
  const section = $('summary');
  section.replaceChildren();
  for (const n of result.networks) {
    const card = document.createElement('div');
    card.className = 'card';
    const h = document.createElement('h3');
    h.textContent = n.title;
    const big = document.createElement('div');
    big.className = 'big';
    big.append(`${formatNumber(n.inferenceMs)} ms`);
    const small = document.createElement('small');
    small.textContent = ` per inference, ${medianLabel(result.settings.repeats)} (min ${formatNumber(n.minMs)}, max ${formatNumber(n.maxMs)})`;
    big.append(small);
    const lines = [
      `${formatNumber(n.gflops, 2)} GFLOP/s · ${(n.macs / 1e9).toFixed(2)} GMAC · ${formatBytes(n.weightBytes)} weights`,
      // Measured apart from the whole inference (a pass per kernel, other runs): no order between the two holds.
      `${n.dispatches} dispatches · sum of per-kernel medians ${formatNumber(n.sumOfStepsMs)} ms (each kernel timed alone, in runs of its own)`,
      `submit → done ${formatNumber(n.latencyMs)} ms · compile ${formatNumber(n.compileMs, 0)} ms`,
      `${formatNumber(n.flops / 1e9)} GFLOP · ${formatBytes(n.bytesMoved.bytes)} moved per inference (${formatBytes(n.bytesMoved.activationBytes)} activations + ${formatBytes(n.bytesMoved.weightBytes)} weights)`,
      ...(n.roofline ? rooflineLines(n.roofline) : []),
    ];
    card.append(h, big, ...lines.map((t) => Object.assign(document.createElement('p'), { textContent: t })));
    section.append(card);
  }
}

/**
 * Roofline efficiency at the roofs the chart draws: the network's, then each kernel family's (most time first) with
 * how many of its kernels each roof bounds.
 */
function rooflineLines(r: NetworkRoofline): string[] {
  const families = Object.entries(r.byKernel)
    .sort((x, y) => y[1].measuredMs - x[1].measuredMs)
    .map(([k, f]) => `${k} ${formatNumber(f.efficiency, 2)} (${f.computeBound} compute-, ${f.bandwidthBound} bandwidth-bound)`);
  return [
    `roofline efficiency ${formatNumber(r.efficiency, 2)}: roofline ${formatNumber(r.roofMs)} ms of ${formatNumber(r.measuredMs)} ms (sum over kernels of max(FLOP / compute roof, bytes / bandwidth roof) over the sum of their medians)`,
    `by kernel: ${families.join(' · ')}`,
  ];
}

/** Quick runs take 2 samples per figure and small probes: say so where the figures are. */
function showNote(result: TimingSuiteResult): void {
  const note = $('note');
  note.classList.remove('error');
  note.hidden = !result.quick;
  const s = result.settings;
  note.textContent = result.quick
    ? `Quick run: ${s.repeats} timed run${s.repeats === 1 ? '' : 's'} per figure (${medianLabel(s.repeats)}), small probes; the figures are approximate. ` +
      `Run without quick for ${FULL_SETTINGS.repeats} runs per figure.`
    : '';
}

function show(result: TimingSuiteResult): void {
  const titles = new Map<string, string>(result.networks.map((n) => [n.network, n.title]));
  showNote(result);
  showAdapter(result.adapter, result);
  showSummary(result);
  for (const c of charts) c.destroy();
  charts = [
    rooflineChart($<HTMLCanvasElement>('roofline'), result.rows, result.peaks, titles) as unknown as Chart,
    breakdownChart($<HTMLCanvasElement>('breakdown'), result.networks) as unknown as Chart,
  ];
  window.timingCharts = charts;
  table.set(result.rows, titles);
}

function download(result: TimingSuiteResult): void {
  const blob = new Blob([JSON.stringify(result, null, 2)], { type: 'application/json' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = `timing-${result.date.replace(/[:.]/g, '-')}.json`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

function selectedNetworks(): NetworkId[] | undefined {
  const list = params.get('networks');
  if (!list) return undefined;
  const ids = list.split(',').filter(Boolean);
  for (const id of ids) if (!NETWORK_IDS.includes(id as NetworkId)) throw new Error(`unknown network "${id}" (known: ${NETWORK_IDS.join(', ')})`);
  return ids as NetworkId[];
}

const NO_WEBGPU_HELP = noWebgpuHelp('page');

/** No WebGPU here: an expected state, not a bug, so help in the page and no console error. */
function unavailable(reason: string): void {
  const message = `WebGPU is not available (${reason}).`;
  window.timingError = message;
  setStatus(message, undefined, true);
  const note = $('note');
  note.textContent = `${message} ${NO_WEBGPU_HELP}`;
  note.classList.add('error');
  note.hidden = false;
  fact($('adapter'), 'WebGPU', `not available: ${reason}`);
  window.timingDone = true;
}

async function main(): Promise<void> {
  if (!navigator.gpu) return unavailable('navigator.gpu is missing: an older browser, WebGPU turned off, or not https / localhost');
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) return unavailable('no adapter: GPU drivers missing or blocklisted, or WebGPU turned off');
  const description = describeAdapter(adapter, browserName(navigator.userAgent));
  showAdapter(description);
  const { device } = await acquireDevice({ timestamps: true });
  device.lost.then((info) => {
    if (info.reason !== 'destroyed') setStatus(`GPU device lost: ${info.message}`, undefined, true);
  });
  const timer = params.get('timer');
  const precision = params.get('precision');
  const run = async () => {
    runButton.disabled = true;
    downloadButton.disabled = true;
    window.timingDone = false;
    window.timingError = undefined;
    try {
      const result = await runTimingSuite(device, {
        quick: quickBox.checked,
        networks: selectedNetworks(),
        readModelFile: readDemoModelFile,
        settings: runCounts(params),
        timer: timer === 'wall' || timer === 'timestamp' ? timer : 'auto',
        precision: precision === 'f16' || precision === 'f16-packed' || precision === 'auto' ? precision : 'f32',
        adapter: description,
        onProgress: (p) => setStatus(p.message, p.fraction),
      });
      lastResult = result;
      show(result);
      setStatus(`done in ${(result.durationMs / 1000).toFixed(1)} s (${result.rows.length} rows)`, 1);
      window.timingSuite = result;
      window.timingResults = [...result.rows];
    } catch (e) {
      fail(e);
    } finally {
      runButton.disabled = false;
      downloadButton.disabled = lastResult === null;
      window.timingDone = true;
    }
  };
  runButton.addEventListener('click', () => void run());
  downloadButton.addEventListener('click', () => lastResult && download(lastResult));
  runButton.disabled = false;
  setStatus('ready: press Run (quick cuts repeats and microbenchmark sizes)', 0);
  if (params.get('autorun') === '1') await run();
}

/** `Chrome 156.0.0.0` and the like, from a user agent (the whole string when nothing matches). */
function browserName(ua: string): string {
  const m = /(HeadlessChrome|Edg|Chrome|Firefox|Version)\/([\d.]+)/.exec(ua);
  if (!m) return ua;
  const name = m[1] === 'Version' ? 'Safari' : m[1] === 'Edg' ? 'Edge' : m[1];
  return `${name} ${m[2]}`;
}

function fail(e: unknown): void {
  const message = e instanceof Error ? e.message : String(e);
  console.error(e);
  window.timingError = message;
  setStatus(`failed: ${message}`, undefined, true);
}

main().catch((e) => {
  fail(e);
  window.timingDone = true;
});
