/**
 * `npm run zoo -- [--models a,b | --family f | --ci] [--task classification|segmentation|all] [--opset N]
 *   [--batch N] [--side N] [--runs N] [--seed N] [--cache DIR] [--out FILE]`, or `--acceptance` (issue #16's
 * whole matrix: sweeps over opsets, batch 2 and other sides, `acceptancePlan` in `scripts/zoo/models.ts`).
 *
 * Issue #16's measuring harness: exports torchvision CNNs with PyTorch (`scripts/zoo/export.py`, Debian's
 * python3-torch / python3-torchvision / python3-onnx, installed when missing), then in this one process loads
 * each ONNX file with webcnn's public API, compiles it, runs it on PyTorch's input and compares with PyTorch's
 * CPU output. Prints a table (model, opset, ONNX nodes, dispatches after fusion, max error, top-1 agreement,
 * compile and median run ms) and a summary per family, and writes `bench-results/zoo-<date>.json`. A model
 * webcnn refuses is a row with the typed error's message; the exit code is non-zero when any model fails, is
 * refused or errs, after the whole table.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CompiledModel, LoadedModel } from '../src/index.ts';
import { WebcnnError, compileModel } from '../src/index.ts';
import { acquireNodeDevice, loadModelFile } from '../src/node.ts';
import type { ExportReport } from './zoo/exporter.ts';
import { PYTHON, ensureTorch, exportModels } from './zoo/exporter.ts';
import type { ZooOptions, ZooPick, ZooSweep } from './zoo/models.ts';
import { ZOO_USAGE, acceptancePlan, loadZooTable, parseZooArgs, selectModels } from './zoo/models.ts';
import type { ZooResult } from './zoo/report.ts';
import { anyProblem, compareOutputs, formatSummary, formatTable, maskAgreement, median, oneLine, tolerance, top1Agreement, verdict } from './zoo/report.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const log = (message: string): void => void process.stderr.write(`[zoo] ${message}\n`);

/** A little-endian float32 file (copied: Node may hand back a Buffer at an odd offset in its pool). */
function readF32(file: string): Float32Array {
  const b = readFileSync(file);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

interface ExportMeta {
  inputShape: number[];
  outputShape: number[];
  onnxNodes: number;
  onnxOps: Record<string, number>;
  maxAbsRef: number;
  torchF32Error?: number;
  warning?: string | null;
  exportSeconds?: number;
}

/** Refused: webcnn's own typed error at load or compile; anything else is an error (a bug, or the run failing). */
function failure(result: ZooResult, stage: string, e: unknown): void {
  const err = e instanceof Error ? e : new Error(String(e));
  result.status = e instanceof WebcnnError && (stage === 'load' || stage === 'compile') ? 'refused' : 'error';
  result.stage = stage;
  result.errorName = err.name;
  // Whole (on one line) in the JSON; the table cuts it.
  result.message = oneLine(err.message, 4000);
}

async function runOne(device: GPUDevice, pick: ZooPick, exported: ExportReport | undefined, sweep: ZooSweep, runs: number): Promise<ZooResult> {
  const { model: m, side } = pick;
  const result: ZooResult = { name: m.name, family: m.family, task: m.task, side, batch: sweep.batch, opset: sweep.opset, status: 'pass' };
  if (pick.skip) {
    result.status = 'skipped';
    result.message = pick.skip;
    return result;
  }
  if (!exported || exported.status === 'error' || !exported.dir) {
    result.status = 'error';
    result.stage = 'export';
    result.message = exported?.error ?? 'export.py reported nothing for this model';
    return result;
  }
  const dir = exported.dir;
  const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as ExportMeta;
  result.onnxNodes = meta.onnxNodes;
  result.onnxOps = meta.onnxOps;
  result.torchF32Error = meta.torchF32Error;
  if (meta.warning) {
    result.exportWarning = meta.warning;
    log(`${m.name}: ${meta.warning}`);
  }
  // Known before webcnn runs: a refused model's row still shows PyTorch's own error against the bound.
  result.maxAbsRef = meta.maxAbsRef;
  result.tolerance = tolerance(meta.maxAbsRef);
  result.exportSeconds = exported.status === 'cached' ? meta.exportSeconds : exported.seconds;
  result.exportCached = exported.status === 'cached';
  const input = readF32(join(dir, 'input.bin'));
  const ref = readF32(join(dir, 'output.bin'));

  let loaded: LoadedModel;
  let t = performance.now();
  try {
    // Models over 2 GB (regnet_y_128gf) keep their weights in files beside model.onnx, which this reads too.
    loaded = loadModelFile(join(dir, 'model.onnx'));
  } catch (e) {
    failure(result, 'load', e);
    return result;
  }
  result.loadMs = performance.now() - t;
  let compiled: CompiledModel;
  t = performance.now();
  try {
    compiled = await compileModel(device, loaded.graph);
  } catch (e) {
    failure(result, 'compile', e);
    return result;
  }
  result.compileMs = performance.now() - t;
  result.dispatches = compiled.dispatchCount;
  try {
    const [got] = await compiled.run([input]);
    const cmp = compareOutputs(got, ref);
    result.maxAbsErr = cmp.maxAbsErr;
    result.maxAbsRef = cmp.maxAbsRef;
    result.tolerance = cmp.tolerance;
    // Within the tolerance, a reference top-1 ahead by at most twice it may flip: a tie, not a failure.
    const tie = 2 * cmp.tolerance;
    result.top1 = m.task === 'segmentation' ? maskAgreement(got, ref, meta.outputShape, tie) : top1Agreement(got, ref, sweep.batch, tie);
    const v = verdict(m.task, cmp, result.top1);
    result.status = v.status;
    if (v.message) result.message = v.message;
    if (v.status === 'fail' && meta.torchF32Error !== undefined && meta.torchF32Error > 0.25 * cmp.tolerance) {
      result.message += ` (PyTorch's own f32 error against f64 is ${(meta.torchF32Error / cmp.tolerance).toFixed(2)} x the tolerance: the random network is ill-conditioned at this side)`;
    }
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      t = performance.now();
      await compiled.run([input]);
      times.push(performance.now() - t);
    }
    if (runs > 0) {
      result.runsMs = times;
      result.runMs = median(times);
    }
  } catch (e) {
    failure(result, 'run', e);
  } finally {
    compiled.dispose();
  }
  return result;
}

async function main(): Promise<number> {
  let o: ZooOptions;
  try {
    o = parseZooArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`${(e as Error).message}\n${ZOO_USAGE}`);
    return 2;
  }
  if (o.help) {
    console.log(ZOO_USAGE);
    return 0;
  }
  const table = loadZooTable();
  const sweeps: ZooSweep[] = o.acceptance
    ? acceptancePlan(table, o)
    : [{ label: `opset ${o.opset}, batch ${o.batch}`, opset: o.opset, batch: o.batch, picks: selectModels(table, o) }];
  if (sweeps.every((s) => s.picks.length === 0)) throw new Error('no model matches');
  const cache = resolve(o.cache ?? join(root, 'zoo-cache'));
  const started = performance.now();

  ensureTorch();
  const date = new Date().toISOString();
  const file = o.out ? resolve(o.out) : join(root, 'bench-results', `zoo-${date.replace(/[:.]/g, '-')}.json`);
  mkdirSync(dirname(file), { recursive: true });
  const versions = existsSync(PYTHON)
    ? spawnSync(PYTHON, ['-c', 'import torch, torchvision, onnx; print(torch.__version__, torchvision.__version__, onnx.__version__)'], { encoding: 'utf8' }).stdout.trim().split(' ')
    : [];
  let exportWallS = 0;
  let runWallS = 0;
  let acquired: Awaited<ReturnType<typeof acquireNodeDevice>> | undefined;
  const results: ZooResult[] = [];
  // Written again after every model: a long run stopped midway keeps what it measured.
  const save = (info: GPUAdapterInfo): void => {
    const record = {
      date,
      argv: process.argv.slice(2),
      options: o,
      device: { vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description },
      versions: { node: process.version, torch: versions[0], torchvision: versions[1], onnx: versions[2] },
      exportWallS,
      runWallS,
      results,
    };
    writeFileSync(file, `${JSON.stringify(record, null, 1)}\n`);
  };
  for (const sweep of sweeps) {
    const { picks } = sweep;
    log(`${sweep.label}: exporting ${picks.filter((p) => !p.skip).length} model(s) at opset ${sweep.opset}, batch ${sweep.batch}, seed ${o.seed} into ${relative(process.cwd(), cache) || '.'}`);
    let t = performance.now();
    const exports = await exportModels(sweep.picks, { opset: sweep.opset, batch: sweep.batch, seed: o.seed }, cache);
    exportWallS += (performance.now() - t) / 1000;

    t = performance.now();
    if (!acquired) {
      acquired = await acquireNodeDevice();
      const info = acquired.adapterInfo;
      log(`device: ${[info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' / ')}`);
    }
    for (const pick of picks) {
      let r: ZooResult;
      try {
        r = await runOne(acquired.device, pick, exports.get(pick.model.name), sweep, o.runs);
      } catch (e) {
        // Reading the cached files or an unexpected throw: still a row.
        r = { name: pick.model.name, family: pick.model.family, task: pick.model.task, side: pick.side, batch: sweep.batch, opset: sweep.opset, status: 'pass' };
        failure(r, 'harness', e);
      }
      results.push(r);
      save(acquired.adapterInfo);
      const figures = r.maxAbsErr === undefined ? '' : ` max err ${r.maxAbsErr.toExponential(1)}${r.runMs === undefined ? '' : `, run ${r.runMs.toFixed(1)} ms`}`;
      log(`${r.name} @${r.side} opset ${r.opset} batch ${r.batch}: ${r.status}${figures}${r.message ? `: ${oneLine(r.message, 200)}` : ''}`);
      // A lost device (a model too big for it, a driver crash) would fail every model after it: take a new one.
      if (r.errorName === 'DeviceLostError' || r.errorName === 'GpuError') {
        log('taking a new device');
        acquired.device.destroy();
        acquired = await acquireNodeDevice();
      }
    }
    runWallS += (performance.now() - t) / 1000;
  }
  save(acquired!.adapterInfo);

  console.log(formatTable(results));
  console.log('');
  console.log(formatSummary(results, o.acceptance));
  console.log(`\nexport ${exportWallS.toFixed(1)} s, webcnn ${runWallS.toFixed(1)} s (load, compile, ${o.runs + 1} runs per model), total ${((performance.now() - started) / 1000).toFixed(1)} s`);

  console.log(`wrote ${relative(process.cwd(), file)}`);
  return anyProblem(results) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`zoo: ${(e as Error).stack ?? e}`);
    process.exit(2);
  },
);
