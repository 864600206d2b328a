/** Plain-text report of a peer benchmark (pure: shared by `npm run bench:peers` and the page). */
import { formatNumber, textTable } from '../../src/bench/report.ts';
import type { EngineResult, NetworkId, NetworkRequest, NetworkResult, PeersResult } from './protocol.ts';

/**
 * Repeats per network: the full run and `--quick` (MobileNetV2 only). ResNet-50 gets fewer (15-30 s per peer
 * inference on SwiftShader): no extra warm-up (the cold start's inference warms each engine up) and 3 rounds.
 */
export function defaultRequests(quick: boolean, networks?: readonly NetworkId[]): NetworkRequest[] {
  const chosen = networks ?? (quick ? ['mobilenetv2'] : ['mobilenetv2', 'resnet50']);
  return chosen.map((network) =>
    network === 'mobilenetv2'
      ? { network, warmups: quick ? 1 : 2, rounds: quick ? 3 : 7 }
      : { network, warmups: 0, rounds: quick ? 1 : 3 },
  );
}

export interface PeerRatios {
  readonly network: NetworkId;
  readonly title: string;
  /** Fastest WebGPU peer (not webcnn) by median, and by cold start. */
  readonly fastestPeer: string | null;
  readonly fastestPeerMedianMs: number;
  readonly webcnnMedianMs: number;
  /** webcnn median / fastest WebGPU peer median (< 1: webcnn is faster). */
  readonly medianRatio: number;
  readonly fastestColdPeer: string | null;
  readonly fastestPeerColdMs: number;
  readonly webcnnColdMs: number;
  /** webcnn cold start / fastest WebGPU peer cold start. */
  readonly coldRatio: number;
}

const coldOf = (e: EngineResult): number => e.cold?.totalMs ?? NaN;

export function peerRatios(n: NetworkResult): PeerRatios {
  const webcnn = n.engines.find((e) => e.engine === 'webcnn');
  const peers = n.engines.filter((e) => e.engine !== 'webcnn' && e.webgpu && !e.error);
  const byMedian = peers.filter((e) => Number.isFinite(e.medianMs)).sort((a, b) => a.medianMs - b.medianMs)[0];
  const byCold = peers.filter((e) => Number.isFinite(coldOf(e))).sort((a, b) => coldOf(a) - coldOf(b))[0];
  const webcnnMedianMs = webcnn?.medianMs ?? NaN;
  const webcnnColdMs = webcnn ? coldOf(webcnn) : NaN;
  return {
    network: n.network,
    title: n.title,
    fastestPeer: byMedian?.label ?? null,
    fastestPeerMedianMs: byMedian?.medianMs ?? NaN,
    webcnnMedianMs,
    medianRatio: byMedian ? webcnnMedianMs / byMedian.medianMs : NaN,
    fastestColdPeer: byCold?.label ?? null,
    fastestPeerColdMs: byCold ? coldOf(byCold) : NaN,
    webcnnColdMs,
    coldRatio: byCold ? webcnnColdMs / coldOf(byCold) : NaN,
  };
}

function ms(v: number | undefined): string {
  return v === undefined || !Number.isFinite(v) ? '-' : v >= 100 ? v.toFixed(0) : formatNumber(v, 2);
}

/** engine, network, median / min / max ms, cold start ms, ratio to webcnn (engine median / webcnn median), logit diff. */
export function formatPeersTable(result: PeersResult): string {
  const header = ['engine', 'network', 'median ms', 'min ms', 'max ms', 'cold start ms', 'x webcnn', 'max |logit diff|', 'rel diff', 'top-1'];
  const body: string[][] = [];
  for (const n of result.networks) {
    const ref = n.engines.find((e) => e.engine === 'webcnn');
    for (const e of n.engines) {
      const ratio = ref && Number.isFinite(ref.medianMs) && Number.isFinite(e.medianMs) ? e.medianMs / ref.medianMs : NaN;
      const l = e.logits;
      body.push([
        e.label + (e.webgpu ? '' : ' (CPU ref)'),
        n.title,
        ms(e.medianMs),
        ms(e.minMs),
        ms(e.maxMs),
        ms(e.cold?.totalMs),
        Number.isFinite(ratio) ? `${ratio.toFixed(2)}x` : '-',
        e.error ? 'error' : l ? (l.finite ? l.maxAbsDiff.toExponential(2) : 'non-finite') : '-',
        l && l.finite ? l.relDiff.toExponential(2) : '-',
        l ? (l.top1Agrees ? 'same' : 'DIFFERS') : '-',
      ]);
    }
  }
  return textTable(header, body, ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l']);
}

function describeAdapterLine(result: PeersResult): string {
  const a = result.adapter;
  if (!a) return 'adapter: (none reported)';
  return `adapter: ${[a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' / ')}`;
}

/** Adapter, browser, versions, repeats, ratios, errors. */
export function formatPeersSummary(result: PeersResult, extra: { browser?: string } = {}): string {
  const out: string[] = [];
  out.push(describeAdapterLine(result));
  out.push(`runtime: ${extra.browser ? `${extra.browser}; ` : ''}${result.runtime}`);
  const versions = Object.entries(result.versions).map(([k, v]) => `${k} ${v}`).join(', ');
  if (versions) out.push(`versions: ${versions}`);
  const engines = new Set(result.networks.flatMap((n) => n.engines.map((e) => e.engine)));
  const node = result.runtime.startsWith('node');
  out.push(`protocol: batch 1, fp32, identical random weights (seed ${result.seed}); one inference = NCHW f32 input in JS to output read back in JS;`);
  out.push(
    `  ${engines.size > 1 ? 'rounds interleave the engines (A, B, C, A, B, C, ...); ' : ''}cold start = model in memory to first output ` +
      `(device/backend init, load, compile, first run), ${node ? 'on a fresh Dawn device' : 'each engine in a fresh page'}`,
  );
  if (result.phase !== 'warm') {
    out.push("  before the first cold start a throwaway device compiled and ran one trivial kernel (the GPU stack's first use is no engine's)");
  }
  if (engines.has('tfjs-webgpu') || engines.has('tfjs-wasm')) {
    out.push('  TF.js builds the network from the folded graph (BN folded, as webcnn compiles it); the others load the same ONNX bytes.');
  }
  for (const n of result.networks) {
    out.push(
      `${n.title}: ${n.warmups} warm-up(s) + ${n.rounds} timed round(s) per engine` +
        (n.network === 'resnet50' && n.rounds < 5
          ? ` (fewer ResNet-50 repeats: 15-30 s per peer inference on a software adapter${n.warmups === 0 ? '; the cold start\'s inference is the warm-up' : ''})`
          : '') +
        `, ${(n.macs / 1e9).toFixed(2)} GMAC, ONNX ${(n.onnxBytes / 2 ** 20).toFixed(1)} MiB`,
    );
  }
  for (const n of result.networks) {
    const r = peerRatios(n);
    if (engines.size > 1) out.push(
      `${n.title}: webcnn median / fastest WebGPU peer median = ${ms(r.webcnnMedianMs)} / ${ms(r.fastestPeerMedianMs)} ms = ` +
        `${Number.isFinite(r.medianRatio) ? r.medianRatio.toFixed(2) : '-'} (${r.fastestPeer ?? 'no peer'}); ` +
        `webcnn cold / fastest peer cold = ${ms(r.webcnnColdMs)} / ${ms(r.fastestPeerColdMs)} ms = ` +
        `${Number.isFinite(r.coldRatio) ? r.coldRatio.toFixed(2) : '-'} (${r.fastestColdPeer ?? 'no peer'})`,
    );
    const webcnn = n.engines.find((e) => e.engine === 'webcnn');
    if (webcnn?.gpuMedianMs !== undefined) out.push(`  webcnn GPU time (timestamp-query, model pass only): median ${ms(webcnn.gpuMedianMs)} ms`);
    const cold = webcnn?.cold ?? webcnn?.setup;
    if (cold && webcnn?.details?.prepare) {
      out.push(`  webcnn cold start ${ms(cold.totalMs)} ms = prepare (${webcnn.details.prepare}) + first run ${ms(cold.firstRunMs)} ms`);
    }
  }
  for (const n of result.networks) {
    for (const e of n.engines) {
      if (e.error) out.push(`${n.title}: ${e.label} could not run: ${e.error}`);
      if (e.coldError) out.push(`${n.title}: ${e.label} cold start failed: ${e.coldError}`);
      if (e.coldLogits && !(e.coldLogits.finite && e.coldLogits.maxAbsDiff <= 1e-3 * e.coldLogits.refMaxAbs + 1e-4)) {
        out.push(`${n.title}: ${e.label} cold-start logits differ from webcnn's (${e.coldLogits.maxAbsDiff.toExponential(2)})`);
      }
      else if (e.logits && e.logits.finite && e.logits.maxAbsDiff > 1e-3 * e.logits.refMaxAbs + 1e-4) {
        out.push(`${n.title}: ${e.label} logits differ from webcnn's beyond 1e-3 relative (${e.logits.maxAbsDiff.toExponential(2)})`);
      }
    }
  }
  out.push(`took ${(result.durationMs / 1000).toFixed(1)} s`);
  return out.join('\n');
}
