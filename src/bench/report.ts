/** Plain-text tables of timing results, for `npm run bench` (pure; no GPU, no DOM). */
import type { KernelRef, NetworkRoofline, TimingRow } from './figures.ts';
import type { Peaks, TimingSuiteResult } from './timing.ts';
import type { CompileTimings } from '../runtime/compile-options.ts';

export function formatNumber(v: number, digits = 3): string {
  if (!Number.isFinite(v)) return '-';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1000) return v.toFixed(0);
  if (a >= 100) return v.toFixed(Math.max(0, digits - 2));
  if (a >= 10) return v.toFixed(Math.max(0, digits - 1));
  if (a >= 0.01) return v.toFixed(digits);
  return v.toExponential(1);
}

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return '-';
  if (bytes >= 2 ** 30) return `${(bytes / 2 ** 30).toFixed(2)} GiB`;
  if (bytes >= 2 ** 20) return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  if (bytes >= 2 ** 10) return `${(bytes / 2 ** 10).toFixed(1)} KiB`;
  return `${bytes} B`;
}

/** Columns padded to their widest cell; `align[i]` 'r' right-aligns column i. */
export function textTable(header: readonly string[], body: readonly (readonly string[])[], align: readonly ('l' | 'r')[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (align[i] === 'r' ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

/** network, layer, kernel, shape, median ms, min, max, GFLOP/s, GB/s, share, roofline time and its roof. */
export function formatRowsTable(rows: readonly TimingRow[]): string {
  const header = ['network', 'layer', 'kernel', 'shape', 'median ms', 'min ms', 'max ms', 'GFLOP/s', 'GB/s', 'share', 'roof ms', 'bound'];
  const body = rows.map((r) => [
    r.network,
    r.layer,
    r.kernel,
    r.shape,
    formatNumber(r.medianMs) + (r.belowResolution ? '*' : ''),
    formatNumber(r.minMs),
    formatNumber(r.maxMs),
    r.macs > 0 ? formatNumber(r.gflops, 2) : '-',
    formatNumber(r.gbps, 2),
    r.index < 0 ? '' : `${(r.share * 100).toFixed(1)}%`,
    r.roofMs === undefined ? '-' : formatNumber(r.roofMs),
    r.bound ?? '',
  ]);
  return textTable(header, body, ['l', 'l', 'l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l']);
}

/** `ResNet-50 224 layer3.0.conv1` for a kernel that set a roof (network ids stay ids outside the suite). */
function kernelName(k: KernelRef, titles: ReadonlyMap<string, string>): string {
  return `${titles.get(k.network) ?? k.network} ${k.layer}`;
}

/** The compute roof and what set it: the GEMM probe, or a kernel that beat it (with the probe's figure). */
export function computeRoofText(p: Peaks, titles: ReadonlyMap<string, string> = new Map()): string {
  const probe = `pointwise GEMM probe ${p.gemm.shape}`;
  return p.gflopsKernel
    ? `${formatNumber(p.gflops, 2)} GFLOP/s (fastest kernel, ${kernelName(p.gflopsKernel, titles)}; the ${probe} reached ${formatNumber(p.gemm.gflops, 2)})`
    : `${formatNumber(p.gflops, 2)} GFLOP/s (${probe})`;
}

/** The bandwidth roof (copy kernel, or a kernel that beat it), and copyBufferToBuffer apart: no kernel can use it. */
export function bandwidthRoofText(p: Peaks, titles: ReadonlyMap<string, string> = new Map()): string {
  const copy = `copy kernel over ${formatBytes(p.copy.bytes)}`;
  const from = p.gbpsKernel
    ? `fastest kernel, ${kernelName(p.gbpsKernel, titles)}; the ${copy} reached ${formatNumber(p.copy.kernelGbps, 2)}`
    : copy;
  return `${formatNumber(p.gbps, 2)} GB/s (${from}); copyBufferToBuffer ${formatNumber(p.copy.copyBufferGbps, 2)} GB/s, not a roof (a DMA copy, no kernel)`;
}

/**
 * `roofline efficiency 0.53 (roof 136 of 257 ms); by kernel: pointwise 0.73 (52 compute-, 0 bandwidth-bound), ...`,
 * families by time, most first.
 */
export function formatRoofline(r: NetworkRoofline): string {
  const families = Object.entries(r.byKernel)
    .sort((x, y) => y[1].measuredMs - x[1].measuredMs)
    .map(([k, f]) => `${k} ${formatNumber(f.efficiency, 2)} (${formatNumber(f.measuredMs)} ms; ${f.computeBound} compute-, ${f.bandwidthBound} bandwidth-bound)`)
    .join(', ');
  return `roofline efficiency ${formatNumber(r.efficiency, 2)} (roofline ${formatNumber(r.roofMs)} of ${formatNumber(r.measuredMs)} ms)\n  by kernel: ${families}`;
}

/** Adapter, timer, roofs and one paragraph per network. */
export function formatSummary(result: TimingSuiteResult): string {
  const a = result.adapter;
  const out: string[] = [];
  out.push(`adapter: ${[a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' / ')}${a.runtime ? ` (${a.runtime})` : ''}`);
  out.push(
    `timer: ${result.timer}, resolution ${formatNumber(result.timerResolutionMs * 1000, 3)} µs; ` +
      `${result.settings.warmups} warm-up + ${result.settings.repeats} timed inferences, ` +
      `${result.settings.stepWarmups} + ${result.settings.repeats} per-kernel batches${result.quick ? ' (quick: figures approximate)' : ''}; ` +
      `storage precision ${result.precision ?? 'f32'}`,
  );
  if (result.peaks) out.push(`roofs: ${computeRoofText(result.peaks)}; ${bandwidthRoofText(result.peaks)}`);
  for (const n of result.networks) {
    const kinds = Object.entries(n.byKernel)
      .sort((x, y) => y[1] - x[1])
      .map(([k, ms]) => `${k} ${((ms / n.sumOfStepsMs) * 100).toFixed(1)}%`)
      .join(', ');
    out.push(
      `${n.title}: ${formatNumber(n.inferenceMs)} ms per inference (min ${formatNumber(n.minMs)}, max ${formatNumber(n.maxMs)}), ` +
        `${formatNumber(n.gflops, 2)} GFLOP/s, ${n.dispatches} dispatches, sum of steps ${formatNumber(n.sumOfStepsMs)} ms, ` +
        `submit-to-done ${formatNumber(n.latencyMs)} ms, compile ${formatNumber(n.compileMs, 0)} ms` +
        `${n.compileTimings ? ` (${formatCompileTimings(n.compileTimings)})` : ''}` +
        `${n.upgradeMs != null ? `, upgrade ${formatNumber(n.upgradeMs, 0)} ms before timing` : ''}\n  by kernel: ${kinds}` +
        `\n  ${formatNumber(n.flops / 1e9)} GFLOP, ${formatBytes(n.bytesMoved.bytes)} moved per inference ` +
        `(${formatBytes(n.bytesMoved.activationBytes)} activations, ${formatBytes(n.bytesMoved.weightBytes)} weights)` +
        (n.roofline ? `; ${formatRoofline(n.roofline)}` : ''),
    );
  }
  out.push(`suite took ${(result.durationMs / 1000).toFixed(1)} s`);
  return out.join('\n');
}

/** `optimize 70, lower 9, buffers 3, weights 120, pipelines (wait) 200, bind groups 5 ms`, phases before them first. */
export function formatCompileTimings(c: CompileTimings, before: readonly (readonly [string, number])[] = []): string {
  const phases: (readonly [string, number])[] = [
    ...before, ['optimize', c.optimizeMs], ...(c.tuneMs >= 0.5 ? [['tune', c.tuneMs] as const] : []), ['lower', c.lowerMs],
    ['buffers', c.buffersMs], ['weights', c.weightsMs], ['pipelines (wait)', c.pipelinesMs], ['bind groups', c.bindGroupsMs],
  ];
  return `${phases.map(([name, ms]) => `${name} ${ms.toFixed(0)}`).join(', ')} ms`;
}
