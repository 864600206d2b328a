/**
 * `npm run bench [-- --quick] [--runtime browser|node] [--networks mobilenet_v2,resnet50,deeplabv3] [--timer auto|timestamp|wall]
 *   [--precision f32|f16|f16-packed|auto] [--repeats N] [--warmups N]`
 *
 * Runs the per-kernel timing suite (`src/bench/timing.ts`) headless and prints a table per layer and a summary
 * per network, then writes the full result to `bench-results/timing-<date>.json`. A full run times every network; a
 * quick run leaves DeepLabV3 (seconds per inference on SwiftShader) out unless `--networks` names it. DeepLabV3
 * is the shared TFLite file: Node reads it as `npm run fetch-model -- --demo` finds it (the shared folder,
 * `$WEBCNN_SHARED`, else `models/`), the page fetches it from the Vite server, which serves it the same way.
 * `--repeats N` / `--warmups N` override the timed and untimed runs per figure (e.g. `--repeats 1 --warmups 0`).
 *
 * - `--runtime browser` (default): starts its own Vite server on a free port, opens `demo/timing.html?autorun=1`
 *   in Debian's Chromium (Playwright, the test suite's WebGPU flags plus `--enable-webgpu-developer-features`
 *   so that timestamps are not quantized) and collects what the page computed.
 * - `--runtime node`: runs the suite in this process through Dawn (`webgpu` package), for machines with a GPU
 *   and no browser. `--onnx a.onnx,b.onnx` (node only) times ONNX files too, after `--networks` (`--networks none`
 *   times them alone), e.g. the zoo's exports (`/work/zoo-cache/regnet_x_400mf_op13_b1_s64_seed0/model.onnx`).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { formatRowsTable, formatSummary } from '../src/bench/report.ts';
import type { TimingSuiteResult } from '../src/bench/timing.ts';
import { NETWORK_IDS } from '../src/bench/timing.ts';
import { pickNetworks, positiveInteger } from './args.ts';
import { DEMO_FILES, fetchFile } from './fetch-model.ts';
import { freePort, launchWebgpuChromium } from './headless.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const USAGE = `usage: npm run bench -- [--quick] [--runtime browser|node] [--networks ${NETWORK_IDS.join(',')}] [--timer auto|timestamp|wall] [--precision f32|f16|f16-packed|auto] [--repeats N] [--warmups N] [--onnx FILE,FILE (node)] [--out FILE]`;

function parse() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      runtime: { type: 'string', default: 'browser' },
      networks: { type: 'string' },
      timer: { type: 'string', default: 'auto' },
      precision: { type: 'string', default: 'f32' },
      out: { type: 'string' },
      onnx: { type: 'string' },
      repeats: { type: 'string' },
      warmups: { type: 'string' },
      headed: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  if (values.runtime !== 'browser' && values.runtime !== 'node') throw new Error(`--runtime must be browser or node, got "${values.runtime}"\n${USAGE}`);
  if (!['auto', 'timestamp', 'wall'].includes(values.timer!)) throw new Error(`--timer must be auto, timestamp or wall\n${USAGE}`);
  if (!['f32', 'f16', 'f16-packed', 'auto'].includes(values.precision!)) throw new Error(`--precision must be f32, f16, f16-packed or auto\n${USAGE}`);
  const networks = values.networks === undefined ? undefined : values.networks === 'none' ? [] : pickNetworks(values.networks, NETWORK_IDS, USAGE);
  const onnx = values.onnx === undefined ? [] : values.onnx.split(',').filter(Boolean);
  if (onnx.length && values.runtime !== 'node') throw new Error(`--onnx needs --runtime node\n${USAGE}`);
  const repeats = values.repeats === undefined ? undefined : positiveInteger(values.repeats, 'repeats', USAGE);
  const warmups = values.warmups === undefined ? undefined : values.warmups === '0' ? 0 : positiveInteger(values.warmups, 'warmups', USAGE);
  return {
    quick: values.quick!,
    repeats,
    warmups,
    runtime: values.runtime as 'browser' | 'node',
    networks,
    timer: values.timer as 'auto' | 'timestamp' | 'wall',
    precision: values.precision as 'f32' | 'f16' | 'f16-packed' | 'auto',
    out: values.out,
    onnx,
    headed: values.headed!,
  };
}

type Options = ReturnType<typeof parse>;

function progressLine(message: string, fraction: number): void {
  console.error(`[${(fraction * 100).toFixed(0).padStart(3)}%] ${message}`);
}

async function runInBrowser(o: Options): Promise<TimingSuiteResult> {
  const { createServer } = await import('vite');
  const port = await freePort();
  const server = await createServer({ root, configFile: resolve(root, 'vite.config.ts'), logLevel: 'warn', server: { port, strictPort: true, host: '127.0.0.1' } });
  await server.listen();
  const browser = await launchWebgpuChromium(o.headed);
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on('console', (m) => {
      if (m.type() === 'error') console.error(`[page] ${m.text()}`);
    });
    page.on('pageerror', (e) => console.error(`[page] ${e.message}`));
    // Relay the page's progress line.
    let last = '';
    const poll = setInterval(() => {
      page
        .evaluate(() => `${document.getElementById('progress')?.getAttribute('value') ?? 0}\t${document.getElementById('status')?.textContent ?? ''}`)
        .then((line) => {
          if (line === last) return;
          last = line;
          const [fraction, message] = line.split('\t');
          progressLine(message, Number(fraction));
        })
        .catch(() => undefined);
    }, 500);
    const query = new URLSearchParams({ autorun: '1' });
    if (o.quick) query.set('quick', '1');
    if (o.networks) query.set('networks', o.networks.join(','));
    if (o.timer !== 'auto') query.set('timer', o.timer);
    if (o.precision !== 'f32') query.set('precision', o.precision);
    if (o.repeats !== undefined) query.set('repeats', String(o.repeats));
    if (o.warmups !== undefined) query.set('warmups', String(o.warmups));
    try {
      await page.goto(`http://127.0.0.1:${port}/demo/timing.html?${query}`);
      await page.waitForFunction(() => window.timingDone === true, undefined, { timeout: 0, polling: 500 });
    } finally {
      clearInterval(poll);
    }
    const error = await page.evaluate(() => window.timingError);
    if (error) throw new Error(`the timing page failed: ${error}`);
    return await page.evaluate(() => window.timingSuite!);
  } finally {
    await browser.close();
    await server.close();
  }
}

/** `--repeats` / `--warmups` as settings overrides. */
function runSettings(o: Options): { repeats?: number; warmups?: number } {
  return { ...(o.repeats !== undefined && { repeats: o.repeats }), ...(o.warmups !== undefined && { warmups: o.warmups }) };
}

/** A model file the project publishes (DeepLabV3), found and checked by sha256 as `npm run fetch-model` does. */
async function readPublishedModel(name: string): Promise<Uint8Array> {
  const spec = DEMO_FILES.find((f) => f.file === name);
  if (!spec) throw new Error(`${name} is not one of the published model files (${DEMO_FILES.map((f) => f.file).join(', ')})`);
  return new Uint8Array(readFileSync(await fetchFile(spec)));
}

async function runInNode(o: Options): Promise<TimingSuiteResult> {
  const { nodeGpu } = await import('../src/gpu/node-device.ts');
  const { acquireDevice } = await import('../src/gpu/device.ts');
  const { describeAdapter, runTimingSuite } = await import('../src/bench/timing.ts');
  const { loadModel } = await import('../src/formats/index.ts');
  // An ONNX file is named by its folder where it is a zoo export's `model.onnx`, else by its file name.
  const extraNetworks = o.onnx.map((file) => {
    const name = basename(file) === 'model.onnx' ? basename(dirname(resolve(file))) : basename(file, '.onnx');
    const bytes = new Uint8Array(readFileSync(file));
    return { id: name, title: name, build: () => loadModel(bytes).graph };
  });
  // Dawn quantizes timestamps unless told not to (what --enable-webgpu-developer-features does in Chrome).
  const gpu = await nodeGpu(['disable-dawn-features=timestamp_quantization']);
  const adapter = await gpu.requestAdapter();
  if (!adapter) throw new Error('no WebGPU adapter from Dawn');
  const adapterDescription = describeAdapter(adapter, `node ${process.version} (Dawn, webgpu package)`);
  const { device } = await acquireDevice({ gpu, timestamps: true });
  try {
    return await runTimingSuite(device, {
      quick: o.quick,
      networks: o.networks,
      extraNetworks,
      readModelFile: readPublishedModel,
      settings: runSettings(o),
      timer: o.timer,
      precision: o.precision,
      adapter: adapterDescription,
      onProgress: (p) => progressLine(p.message, p.fraction),
    });
  } finally {
    device.destroy();
  }
}

async function main(): Promise<void> {
  const o = parse();
  const result = o.runtime === 'node' ? await runInNode(o) : await runInBrowser(o);
  console.log(formatRowsTable(result.rows));
  console.log('');
  console.log(formatSummary(result));
  const file = o.out ? resolve(o.out) : resolve(root, 'bench-results', `timing-${result.date.replace(/[:.]/g, '-')}.json`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify({ ...result, runtime: o.runtime }, null, 2)}\n`);
  const shown = relative(process.cwd(), file);
  console.log(`\nwrote ${shown && !shown.startsWith('..') ? shown : file}`);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  },
);
