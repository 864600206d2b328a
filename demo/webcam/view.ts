import type { Classification } from '../../src/runtime/classifier.ts';
import type { UpgradeStatus } from '../../src/runtime/upgrade.ts';

/** DOM updates, kept apart from the control flow in main.ts. */
const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`page is missing #${id}`);
  return el as T;
};

export const elements = {
  video: $<HTMLVideoElement>('video'),
  still: $<HTMLImageElement>('still'),
  dropHint: $('drop-hint'),
  predictions: $<HTMLOListElement>('predictions'),
  fps: $('fps'),
  latency: $('latency'),
  latencyLabel: $('latency-label'),
  kernels: $('kernels'),
  modelName: $('model-name'),
  adapter: $('adapter'),
  message: $('message'),
  sourceMessage: $('source-message'),
  progress: $<HTMLProgressElement>('progress'),
  pause: $<HTMLButtonElement>('pause'),
  imageFile: $<HTMLInputElement>('image-file'),
  modelFile: $<HTMLInputElement>('model-file'),
  labelsFile: $<HTMLInputElement>('labels-file'),
  arch: $<HTMLSelectElement>('arch'),
  defaultModel: $<HTMLButtonElement>('default-model'),
  overlay: $<HTMLCanvasElement>('overlay'),
  segmentPanel: $('segment-panel'),
  legend: $<HTMLUListElement>('legend'),
  opacity: $<HTMLInputElement>('opacity'),
};

/** One legend row: a class present in the mask, its colour (null: not drawn) and its share of the pixels. */
export interface LegendEntry {
  readonly index: number;
  readonly label: string;
  readonly share: number;
  readonly colour: readonly [number, number, number] | null;
}

const ROWS = 5;

function span(className: string, ...children: Node[]): HTMLSpanElement {
  const el = document.createElement('span');
  if (className) el.className = className;
  el.append(...children);
  return el;
}

/**
 * Five fixed rows, created once, so updates never change the layout. Built with DOM calls, not markup: an
 * inline `style` attribute would be refused under the page's Content-Security-Policy (`style-src 'self'`);
 * setting `element.style` from script is allowed.
 */
export function setupPredictions(): void {
  elements.predictions.replaceChildren(
    ...Array.from({ length: ROWS }, () => {
      const li = document.createElement('li');
      const bar = span('');
      bar.style.width = '0%';
      li.append(span('label', document.createTextNode('\u00a0')), span('score'), span('bar', bar));
      return li;
    }),
  );
}

export function showPredictions(top: readonly Classification[]): void {
  const rows = elements.predictions.children;
  for (let i = 0; i < ROWS; i++) {
    const li = rows[i] as HTMLLIElement;
    const p = top[i];
    (li.querySelector('.label') as HTMLElement).textContent = p ? p.label : '\u00a0';
    (li.querySelector('.score') as HTMLElement).textContent = p ? `${(p.score * 100).toFixed(1)}%` : '';
    (li.querySelector('.bar span') as HTMLElement).style.width = p ? `${Math.max(0, Math.min(1, p.score)) * 100}%` : '0%';
  }
}

/** Classify mode shows the top-5 rows; segment mode the overlay, its legend and the opacity slider. */
export function showTask(task: 'classify' | 'segment'): void {
  elements.predictions.hidden = task !== 'classify';
  elements.segmentPanel.hidden = task !== 'segment';
  elements.overlay.hidden = task !== 'segment';
}

/** The classes present, largest share first; rows are rebuilt (a handful), swatches coloured from script. */
export function showLegend(entries: readonly LegendEntry[]): void {
  elements.legend.replaceChildren(
    ...entries.map((e) => {
      const li = document.createElement('li');
      li.dataset.class = String(e.index);
      const swatch = span('swatch');
      swatch.style.background = e.colour ? `rgb(${e.colour.join(' ')})` : 'transparent';
      li.append(swatch, span('label', document.createTextNode(e.label)), span('share', document.createTextNode(`${(e.share * 100).toFixed(1)}%`)));
      return li;
    }),
  );
}

export function showMessage(text: string, kind: 'info' | 'error' = 'info'): void {
  elements.message.textContent = text;
  elements.message.classList.toggle('error', kind === 'error');
}

export function showProgress(fraction: number | null): void {
  elements.progress.hidden = fraction === null;
  if (fraction !== null) elements.progress.value = fraction;
}

export function showStats(fps: number | null, latencyMs: number | null, timer: 'gpu' | 'wall'): void {
  elements.fps.textContent = fps === null ? '–' : fps.toFixed(1);
  elements.latencyLabel.textContent = timer === 'gpu' ? 'GPU latency (timestamp queries)' : 'Latency (wall time)';
  elements.latency.textContent = latencyMs === null ? '–' : `${latencyMs.toFixed(1)} ms`;
}

/** What the tiered compile has done, in words (docs/api.md "Tiered compilation"). */
const KERNEL_STATES: Record<UpgradeStatus['state'], string> = {
  none: 'the adapter\'s default',
  waiting: 'quick to compile',
  compiling: 'quick to compile; faster ones compiling',
  done: 'faster (same results)',
  failed: 'quick to compile (the faster ones failed to compile)',
  abandoned: '–',
};

export function showKernels(status: UpgradeStatus | null): void {
  elements.kernels.textContent = status ? KERNEL_STATES[status.state] : '–';
  elements.kernels.title = status?.error?.message ?? '';
}

/** Camera and still-image state, shown over the picture and kept apart from model messages. */
export function showSourceMessage(text: string | null): void {
  elements.sourceMessage.hidden = text === null;
  elements.sourceMessage.textContent = text ?? '';
}
