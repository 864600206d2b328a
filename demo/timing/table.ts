/** The sortable, filterable kernel table (DOM only; the figures come from `src/bench`). */
import type { TimingRow } from '../../src/bench/figures.ts';
import { formatNumber } from '../../src/bench/report.ts';
import { kindColor, orderKinds } from './colors.ts';

interface Column {
  readonly key: keyof TimingRow;
  readonly title: string;
  readonly numeric: boolean;
  readonly tip?: string;
  readonly render?: (row: TimingRow, cell: HTMLTableCellElement, titles: ReadonlyMap<string, string>) => void;
}

const text = (value: string) => (_row: TimingRow, cell: HTMLTableCellElement) => {
  cell.textContent = value;
};

const COLUMNS: readonly Column[] = [
  { key: 'network', title: 'network', numeric: false, render: (r, c, titles) => text(titles.get(r.network) ?? r.network)(r, c) },
  { key: 'index', title: '#', numeric: true, render: (r, c) => text(r.index < 0 ? '' : String(r.index))(r, c) },
  { key: 'layer', title: 'layer', numeric: false },
  {
    key: 'kernel',
    title: 'kernel',
    numeric: false,
    render: (r, c) => {
      c.classList.add('kernel');
      const swatch = document.createElement('span');
      swatch.className = 'swatch';
      swatch.style.background = kindColor(r.kernel);
      c.append(swatch, r.kernel);
    },
  },
  { key: 'shape', title: 'shape (C×H×W)', numeric: false },
  { key: 'medianMs', title: 'median ms', numeric: true, tip: 'median over the timed runs' },
  { key: 'minMs', title: 'min ms', numeric: true },
  { key: 'maxMs', title: 'max ms', numeric: true },
  { key: 'gflops', title: 'GFLOP/s', numeric: true, tip: '2 × MACs / median time', render: (r, c) => text(r.macs > 0 ? formatNumber(r.gflops, 2) : '–')(r, c) },
  { key: 'gbps', title: 'GB/s', numeric: true, tip: 'minimum traffic (input + weights + output, fp32) / median time' },
  { key: 'intensity', title: 'FLOP/B', numeric: true, tip: 'arithmetic intensity: FLOPs per byte of minimum traffic', render: (r, c) => text(r.macs > 0 ? formatNumber(r.intensity, 2) : '–')(r, c) },
  {
    key: 'share',
    title: 'share',
    numeric: true,
    tip: "share of the sum of the network's per-kernel medians",
    render: (r, c) => {
      c.classList.add('share');
      if (r.index < 0) return;
      const bar = document.createElement('span');
      bar.className = 'bar';
      bar.style.width = `${Math.max(1, Math.min(60, Math.round(r.share * 300)))}px`;
      c.append(bar, `${(r.share * 100).toFixed(1)}%`);
    },
  },
  { key: 'roofMs', title: 'roof ms', numeric: true, tip: 'roofline time: max(FLOP / compute roof, bytes / bandwidth roof)', render: (r, c) => text(r.roofMs === undefined ? '–' : formatNumber(r.roofMs))(r, c) },
  { key: 'bound', title: 'bound', numeric: false, tip: 'the roof that bounds the kernel', render: (r, c) => text(r.bound ?? '')(r, c) },
  { key: 'timer', title: 'timer', numeric: false, render: (r, c) => text(r.timer + (r.belowResolution ? ' (mean: under resolution)' : ''))(r, c) },
];

export class RowsTable {
  private rows: readonly TimingRow[] = [];
  private titles: ReadonlyMap<string, string> = new Map();
  private sortKey: keyof TimingRow | null = null;
  private descending = false;

  constructor(
    private readonly table: HTMLTableElement,
    private readonly networkFilter: HTMLSelectElement,
    private readonly kernelFilter: HTMLSelectElement,
  ) {
    networkFilter.addEventListener('change', () => this.renderBody());
    kernelFilter.addEventListener('change', () => this.renderBody());
  }

  set(rows: readonly TimingRow[], titles: ReadonlyMap<string, string>): void {
    this.rows = rows;
    this.titles = titles;
    fillSelect(this.networkFilter, [...new Set(rows.map((r) => r.network))], (id) => titles.get(id) ?? id);
    fillSelect(this.kernelFilter, orderKinds(rows.map((r) => r.kernel)), (k) => k);
    this.renderHead();
    this.renderBody();
  }

  private renderHead(): void {
    const head = this.table.createTHead();
    head.replaceChildren();
    const tr = head.insertRow();
    for (const col of COLUMNS) {
      const th = document.createElement('th');
      th.scope = 'col';
      if (col.numeric) th.className = 'num';
      if (this.sortKey === col.key) th.setAttribute('aria-sort', this.descending ? 'descending' : 'ascending');
      // A button, so that sorting works from the keyboard (Tab, then Enter or Space) and screen readers offer it.
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = col.title;
      button.dataset.key = col.key;
      if (col.tip) button.title = col.tip;
      button.addEventListener('click', () => {
        if (this.sortKey === col.key) this.descending = !this.descending;
        else {
          this.sortKey = col.key;
          this.descending = col.numeric && col.key !== 'index';
        }
        this.renderHead();
        this.renderBody();
        // The heading was rebuilt: keep the focus on this column's button for the next key press.
        head.querySelector<HTMLButtonElement>(`button[data-key="${col.key}"]`)?.focus();
      });
      th.append(button);
      tr.append(th);
    }
  }

  private renderBody(): void {
    const network = this.networkFilter.value;
    const kernel = this.kernelFilter.value;
    let shown = this.rows.filter((r) => (!network || r.network === network) && (!kernel || r.kernel === kernel));
    if (this.sortKey) {
      const key = this.sortKey;
      const sign = this.descending ? -1 : 1;
      shown = [...shown].sort((a, b) => sign * compare(a[key], b[key]));
    }
    const body = this.table.tBodies[0] ?? this.table.createTBody();
    body.replaceChildren();
    for (const row of shown) {
      const tr = body.insertRow();
      if (row.index < 0) tr.className = 'network-row';
      for (const col of COLUMNS) {
        const cell = tr.insertCell();
        if (col.numeric) cell.classList.add('num');
        if (col.render) col.render(row, cell, this.titles);
        else {
          const v = row[col.key];
          cell.textContent = typeof v === 'number' ? formatNumber(v) : String(v);
        }
      }
    }
  }
}

function compare(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') {
    const x = Number.isFinite(a) ? a : -Infinity;
    const y = Number.isFinite(b) ? b : -Infinity;
    return x - y;
  }
  return String(a).localeCompare(String(b), undefined, { numeric: true });
}

function fillSelect(select: HTMLSelectElement, values: readonly string[], label: (v: string) => string): void {
  const keep = select.value;
  select.replaceChildren(new Option('all', ''), ...values.map((v) => new Option(label(v), v)));
  select.value = values.includes(keep) ? keep : '';
}
