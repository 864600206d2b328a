/**
 * The zoo's exporter, shared by `npm run zoo` (scripts/zoo.ts) and the peers benchmark's zoo mode
 * (scripts/bench-peers.ts): Debian's torch for /usr/bin/python3 (installed when missing), and `export.py` run
 * once for a list of models, each exported (or found in the cache) at its side.
 */
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ZooOptions, ZooPick } from './models.ts';
import { oneLine } from './report.ts';

export const PYTHON = '/usr/bin/python3';
const EXPORT_SCRIPT = fileURLToPath(new URL('./export.py', import.meta.url));
const DEBIAN_PACKAGES = ['python3-torch', 'python3-torchvision', 'python3-onnx'];

const defaultLog = (message: string): void => void process.stderr.write(`[zoo] ${message}\n`);

/** Debian's torch, torchvision and onnx for /usr/bin/python3, installed with apt-get when the import fails. */
export function ensureTorch(log: (message: string) => void = defaultLog): void {
  const probe = () => spawnSync(PYTHON, ['-c', 'import torch, torchvision, onnx'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const first = probe();
  if (first.status === 0) return;
  log(`${PYTHON} cannot import torch, torchvision and onnx (${oneLine(String(first.stderr ?? first.error ?? ''), 160)})`);
  const root_ = process.getuid?.() === 0;
  const aptGet = (args: string[]) => {
    const cmd = root_ ? ['apt-get', ...args] : ['sudo', '-n', 'apt-get', ...args];
    log(`running: ${cmd.join(' ')}`);
    return spawnSync(cmd[0], cmd.slice(1), { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status;
  };
  if (aptGet(['install', '-y', ...DEBIAN_PACKAGES]) !== 0) {
    // A fresh container has no package lists yet.
    if (aptGet(['update']) !== 0 || aptGet(['install', '-y', ...DEBIAN_PACKAGES]) !== 0) {
      throw new Error(`could not install ${DEBIAN_PACKAGES.join(', ')}; install them (Debian 12) and run again`);
    }
  }
  const again = probe();
  if (again.status !== 0) throw new Error(`${PYTHON} still cannot import torch, torchvision and onnx: ${oneLine(String(again.stderr), 300)}`);
}

export interface ExportReport {
  name: string;
  side?: number;
  dir?: string;
  status: 'exported' | 'cached' | 'error';
  error?: string;
  seconds: number;
}

/** Runs export.py once for every model to export; its stdout carries one JSON report per model. */
export function exportModels(picks: readonly ZooPick[], o: Pick<ZooOptions, 'opset' | 'batch' | 'seed'>, cache: string, log: (message: string) => void = defaultLog): Promise<Map<string, ExportReport>> {
  const wanted = picks.filter((p) => !p.skip);
  const reports = new Map<string, ExportReport>();
  if (wanted.length === 0) return Promise.resolve(reports);
  const args = [
    EXPORT_SCRIPT,
    '--models', wanted.map((p) => `${p.model.name}@${p.side}`).join(','),
    '--opset', String(o.opset),
    '--batch', String(o.batch),
    '--seed', String(o.seed),
    '--cache', cache,
  ];
  return new Promise((resolveReports, reject) => {
    const child = spawn(PYTHON, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let pending = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const text = pending.slice(0, nl).trim();
        pending = pending.slice(nl + 1);
        if (!text) continue;
        let r: ExportReport;
        try {
          r = JSON.parse(text) as ExportReport;
        } catch {
          log(`export.py: ${text}`);
          continue;
        }
        reports.set(r.name, r);
        log(`export ${r.name}: ${r.status}${r.error ? ` (${r.error})` : ''} in ${(r.seconds ?? 0).toFixed(1)} s`);
      }
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) log(`export.py exited with ${code}`);
      resolveReports(reports);
    });
  });
}
