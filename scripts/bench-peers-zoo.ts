/**
 * The zoo mode's preparation for `npm run bench:peers -- --zoo`: resolves the networks against the zoo's table,
 * exports them with the zoo harness's exporter (or finds them in its cache), and turns each into a request whose
 * ONNX file the page fetches from the script's Vite server (`/@fs/<cache>/.../model.onnx`).
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { EngineId, NetworkRequest } from '../bench/peers/protocol.ts';
import { zooTitle } from '../bench/peers/zoo-network.ts';
import type { ZooFacts } from '../bench/peers/zoo-report.ts';
import type { PeersOptions } from './bench-peers-args.ts';
import { zooPicks } from './bench-peers-args.ts';
import { ensureTorch, exportModels } from './zoo/exporter.ts';
import { loadZooTable } from './zoo/models.ts';

/** The zoo harness's recipe for the benchmark: opset 13, batch 1, seed 0 (the cache's usual exports). */
const EXPORT = { opset: 13, batch: 1, seed: 0 } as const;

export async function prepareZoo(
  zoo: NonNullable<PeersOptions['zoo']>,
  engines: readonly EngineId[],
  root: string,
  log: (message: string) => void,
): Promise<{ requests: NetworkRequest[]; facts: Map<string, ZooFacts>; cache: string }> {
  const picks = zooPicks(loadZooTable(), zoo.asks, zoo.side);
  const cache = resolve(zoo.cache ?? join(root, 'zoo-cache'));
  ensureTorch(log);
  log(`zoo: ${picks.map((p) => `${p.model.name}@${p.side}`).join(', ')} (exports in ${cache}); engines ${engines.join(', ')}`);
  const reports = await exportModels(picks, EXPORT, cache, log);
  const requests: NetworkRequest[] = [];
  const facts = new Map<string, ZooFacts>();
  for (const { model, side } of picks) {
    const r = reports.get(model.name);
    if (!r?.dir || r.status === 'error') throw new Error(`zoo: ${model.name}@${side} was not exported: ${r?.error ?? 'export.py reported nothing'}`);
    const meta = JSON.parse(readFileSync(join(r.dir, 'meta.json'), 'utf8')) as { onnxNodes: number; onnxOps: Record<string, number> };
    const onnx = resolve(r.dir, 'model.onnx');
    const zooNetwork = { model: model.name, side, url: `/@fs${onnx}` };
    requests.push({ network: 'zoo', zoo: zooNetwork, warmups: zoo.warmups, rounds: zoo.rounds, inputSize: side });
    facts.set(zooTitle(zooNetwork), { model: model.name, family: model.family, task: model.task, side, onnxNodes: meta.onnxNodes, onnxOps: meta.onnxOps });
  }
  return { requests, facts, cache };
}
