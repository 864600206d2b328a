/**
 * Roofline and per-network breakdown charts (Chart.js, tree-shaken; no eval / new Function, so they work
 * under a strict CSP).
 */
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineElement,
  LogarithmicScale,
  PointElement,
  ScatterController,
  Tooltip,
  type ChartDataset,
  type TooltipItem,
} from 'chart.js';
import type { TimingRow } from '../../src/bench/figures.ts';
import { formatNumber } from '../../src/bench/report.ts';
import type { NetworkSummary, Peaks } from '../../src/bench/timing.ts';
import { kindColor, orderKinds } from './colors.ts';

Chart.register(ScatterController, BarController, PointElement, LineElement, BarElement, LinearScale, LogarithmicScale, CategoryScale, Legend, Tooltip);
Chart.defaults.font.family = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
Chart.defaults.color = '#344054';

interface RooflinePoint {
  x: number;
  y: number;
  row?: TimingRow;
}

const POINT_STYLES = ['circle', 'triangle', 'rect', 'rectRot', 'star', 'crossRot'] as const;

/** Log-log roofline: one point per kernel with multiply-adds (pools and layout steps have none). */
export function rooflineChart(
  canvas: HTMLCanvasElement,
  rows: readonly TimingRow[],
  peaks: Peaks | null,
  titles: ReadonlyMap<string, string>,
): Chart<'scatter', RooflinePoint[]> {
  const plotted = rows.filter((r) => r.index >= 0 && r.macs > 0 && r.gflops > 0 && r.intensity > 0);
  const networks = [...new Set(plotted.map((r) => r.network))];
  const datasets: ChartDataset<'scatter', RooflinePoint[]>[] = [];
  for (const kind of orderKinds(plotted.map((r) => r.kernel))) {
    for (const [ni, network] of networks.entries()) {
      const points = plotted.filter((r) => r.kernel === kind && r.network === network).map((r) => ({ x: r.intensity, y: r.gflops, row: r }));
      if (!points.length) continue;
      datasets.push({
        label: `${kind} · ${titles.get(network) ?? network}`,
        data: points,
        backgroundColor: `${kindColor(kind)}b0`,
        borderColor: kindColor(kind),
        pointStyle: POINT_STYLES[ni % POINT_STYLES.length],
        pointRadius: 4.5,
        pointHoverRadius: 7,
      });
    }
  }
  const xs = plotted.map((r) => r.intensity);
  const ys = plotted.map((r) => r.gflops);
  let xMin = Math.min(...xs, 1) / 2;
  let xMax = Math.max(...xs, 10) * 2;
  if (peaks && peaks.gbps > 0 && peaks.gflops > 0) {
    const ridge = peaks.gflops / peaks.gbps;
    xMin = Math.min(xMin, ridge / 4);
    xMax = Math.max(xMax, ridge * 4);
    datasets.push({
      label: `roof: ${formatNumber(peaks.gflops, 2)} GFLOP/s, ${formatNumber(peaks.gbps, 2)} GB/s`,
      data: [
        { x: xMin, y: xMin * peaks.gbps },
        { x: ridge, y: peaks.gflops },
        { x: xMax, y: peaks.gflops },
      ],
      showLine: true,
      borderColor: '#1d2330',
      backgroundColor: '#1d2330',
      borderWidth: 2,
      borderDash: [6, 4],
      pointRadius: 0,
      pointHoverRadius: 0,
    });
  }
  const yMax = Math.max(...ys, peaks?.gflops ?? 0) * 2;
  const yMin = Math.min(...ys, peaks ? xMin * peaks.gbps : Infinity) / 2;
  return new Chart<'scatter', RooflinePoint[]>(canvas, {
    type: 'scatter',
    data: { datasets },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      scales: {
        x: {
          type: 'logarithmic',
          min: xMin,
          max: xMax,
          title: { display: true, text: 'arithmetic intensity (FLOP / byte of minimum traffic)' },
          ticks: { callback: logTick, autoSkip: false, maxRotation: 0 },
        },
        y: {
          type: 'logarithmic',
          min: yMin,
          max: yMax,
          title: { display: true, text: 'GFLOP/s' },
          ticks: { callback: logTick, autoSkip: false, maxRotation: 0 },
        },
      },
      plugins: {
        legend: { position: 'bottom', labels: { usePointStyle: true, boxWidth: 8, padding: 8, font: { size: 11 } } },
        tooltip: {
          callbacks: {
            label: (item: TooltipItem<'scatter'>) => {
              const p = item.raw as RooflinePoint;
              if (!p.row) return item.dataset.label ?? '';
              const r = p.row;
              return `${r.layer} (${r.shape}): ${formatNumber(r.medianMs)} ms, ${formatNumber(r.gflops, 2)} GFLOP/s, ${formatNumber(r.intensity, 2)} FLOP/B`;
            },
          },
        },
      },
    },
  });
}

/** Only 1, 2, 5 x 10^k ticks on log axes. */
function logTick(value: string | number): string {
  const v = Number(value);
  const mantissa = v / 10 ** Math.floor(Math.log10(v) + 1e-9);
  if (![1, 2, 5].some((m) => Math.abs(mantissa - m) < 1e-6)) return '';
  return v >= 1000 ? `${v / 1000}k` : String(Number(v.toPrecision(3)));
}

/** One horizontal stacked bar per network: each kernel kind's share of the sum of step medians. */
export function breakdownChart(canvas: HTMLCanvasElement, networks: readonly NetworkSummary[]): Chart<'bar', number[], string[]> {
  const kinds = orderKinds(networks.flatMap((n) => Object.keys(n.byKernel)));
  const labels = networks.map((n) => [n.title, `${formatNumber(n.inferenceMs)} ms / inference`]);
  const datasets: ChartDataset<'bar', number[]>[] = kinds.map((kind) => ({
    label: kind,
    data: networks.map((n) => ((n.byKernel[kind] ?? 0) / n.sumOfStepsMs) * 100),
    backgroundColor: kindColor(kind),
    borderColor: '#ffffff',
    borderWidth: 1,
  }));
  return new Chart<'bar', number[], string[]>(canvas, {
    type: 'bar',
    data: { labels, datasets },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      indexAxis: 'y',
      scales: {
        x: { stacked: true, min: 0, max: 100, title: { display: true, text: '% of the sum of per-kernel medians' } },
        y: { stacked: true },
      },
      plugins: {
        legend: { position: 'bottom', labels: { boxWidth: 12 } },
        tooltip: {
          callbacks: {
            label: (item: TooltipItem<'bar'>) => {
              const n = networks[item.dataIndex];
              const kind = item.dataset.label ?? '';
              return `${kind}: ${formatNumber(n.byKernel[kind] ?? 0)} ms (${(item.raw as number).toFixed(1)}%)`;
            },
          },
        },
      },
    },
  });
}
