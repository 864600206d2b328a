/** The zoo's checks against PyTorch and its table and summary. Pure: no torch, no GPU. */
import type { ZooTask } from './models.ts';

/** The acceptance bound of issue #16 (f32): `1e-4 * max|ref| + 1e-5`. */
export function tolerance(maxAbsRef: number): number {
  return 1e-4 * maxAbsRef + 1e-5;
}

export interface Comparison {
  /** max |got - ref|; Infinity when `got` holds a NaN or infinity that `ref` does not, or the sizes differ. */
  readonly maxAbsErr: number;
  readonly maxAbsRef: number;
  readonly tolerance: number;
  readonly withinTolerance: boolean;
}

export function compareOutputs(got: Float32Array, ref: Float32Array): Comparison {
  let maxAbsRef = 0;
  for (let i = 0; i < ref.length; i++) maxAbsRef = Math.max(maxAbsRef, Math.abs(ref[i]));
  let maxAbsErr = got.length === ref.length ? 0 : Infinity;
  for (let i = 0; i < ref.length && i < got.length; i++) {
    const d = Math.abs(got[i] - ref[i]);
    // NaN compares false with everything: count it as the worst error.
    if (!(d <= maxAbsErr)) maxAbsErr = Number.isNaN(d) ? Infinity : d;
  }
  const tol = tolerance(maxAbsRef);
  return { maxAbsErr, maxAbsRef, tolerance: tol, withinTolerance: maxAbsErr <= tol };
}

function argmax(a: Float32Array, start: number, count: number, stride: number): number {
  let best = 0;
  let value = -Infinity;
  for (let k = 0; k < count; k++) {
    const v = a[start + k * stride];
    if (v > value) {
      value = v;
      best = k;
    }
  }
  return best;
}

export interface Top1 {
  /** Batch rows (classification) or pixels (segmentation) whose argmax agrees. */
  readonly agree: number;
  readonly total: number;
  /** Disagreeing rows where the reference's two best classes are within `tie` of each other: not a failure. */
  readonly ties: number;
}

/** Per batch row of `[batch, classes]` logits: the same top-1 class? */
export function top1Agreement(got: Float32Array, ref: Float32Array, batch: number, tie = 0): Top1 {
  const classes = ref.length / batch;
  let agree = 0;
  let ties = 0;
  for (let n = 0; n < batch; n++) {
    const g = argmax(got, n * classes, classes, 1);
    const r = argmax(ref, n * classes, classes, 1);
    if (g === r) agree++;
    else if (ref[n * classes + r] - ref[n * classes + g] <= tie) ties++;
  }
  return { agree, total: batch, ties };
}

/** Per pixel of NCHW `[batch, classes, h, w]` scores: the same class in the argmax mask? */
export function maskAgreement(got: Float32Array, ref: Float32Array, shape: readonly number[], tie = 0): Top1 {
  const [batch, classes, h, w] = shape;
  const plane = h * w;
  let agree = 0;
  let ties = 0;
  for (let n = 0; n < batch; n++) {
    for (let p = 0; p < plane; p++) {
      const base = n * classes * plane + p;
      const g = argmax(got, base, classes, plane);
      const r = argmax(ref, base, classes, plane);
      if (g === r) agree++;
      else if (ref[base + r * plane] - ref[base + g * plane] <= tie) ties++;
    }
  }
  return { agree, total: batch * plane, ties };
}

export type ZooStatus = 'pass' | 'fail' | 'refused' | 'error' | 'skipped';

export interface ZooResult {
  readonly name: string;
  readonly family: string;
  readonly task: ZooTask;
  readonly side: number;
  readonly batch: number;
  readonly opset: number;
  status: ZooStatus;
  /** Why it failed, was refused (webcnn's typed error, one line), erred or was skipped. */
  message?: string;
  /** The error's class for refused and erring models (`UnsupportedOpError`, ...). */
  errorName?: string;
  /** `export`, `load`, `compile`, `run` or `compare`: where a refusal or error happened. */
  stage?: string;
  onnxNodes?: number;
  onnxOps?: Record<string, number>;
  dispatches?: number;
  maxAbsErr?: number;
  maxAbsRef?: number;
  /** PyTorch's own float32 error against its float64 forward (export.py): the network's rounding noise floor. */
  torchF32Error?: number;
  /** export.py's remark on the reference (its scale outside [1e-2, 1e4]). */
  exportWarning?: string;
  tolerance?: number;
  top1?: Top1;
  exportSeconds?: number;
  exportCached?: boolean;
  loadMs?: number;
  compileMs?: number;
  /** Median of the timed runs. */
  runMs?: number;
  runsMs?: number[];
}

/** Pass when within tolerance and every top-1 (classification) agrees or is a tie. */
/** Share of pixels whose argmax class must agree with PyTorch's for a segmentation model to pass. */
export const MASK_AGREEMENT = 0.999;

export function verdict(task: ZooTask, cmp: Comparison, top1: Top1): { status: 'pass' | 'fail'; message?: string } {
  const problems: string[] = [];
  if (!cmp.withinTolerance) problems.push(`max error ${sci(cmp.maxAbsErr)} > tolerance ${sci(cmp.tolerance)}`);
  if (task === 'classification' && top1.agree + top1.ties < top1.total) problems.push(`top-1 differs in ${top1.total - top1.agree - top1.ties} of ${top1.total} rows`);
  // Issue #17: the argmax masks agree on at least 99.9% of pixels (near-ties excepted).
  if (task === 'segmentation' && top1.agree + top1.ties < MASK_AGREEMENT * top1.total) {
    problems.push(`argmax mask agrees on ${((100 * (top1.agree + top1.ties)) / top1.total).toFixed(2)}% of pixels, under ${100 * MASK_AGREEMENT}%`);
  }
  return problems.length ? { status: 'fail', message: problems.join('; ') } : { status: 'pass' };
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** `3.1e-6`; `0` for zero; `inf` for infinity. */
export function sci(x: number | undefined): string {
  if (x === undefined || Number.isNaN(x)) return '';
  if (x === 0) return '0';
  if (!Number.isFinite(x)) return 'inf';
  const [m, e] = x.toExponential(1).split('e');
  return `${m.replace(/\.0$/, '')}e${Number(e)}`;
}

const ms = (x: number | undefined): string => (x === undefined ? '' : x >= 100 ? x.toFixed(0) : x.toFixed(1));

export function top1Text(task: ZooTask, t: Top1 | undefined): string {
  if (!t) return '';
  if (task === 'segmentation') return `${((100 * t.agree) / t.total).toFixed(t.agree === t.total ? 0 : 1)}%`;
  return `${t.agree}/${t.total}${t.ties ? ` (${t.ties} tie${t.ties > 1 ? 's' : ''})` : ''}`;
}

/** The status column: `pass`, or the status and its one-line reason. */
function statusText(r: ZooResult, width: number): string {
  let text = r.status === 'pass' ? 'pass' : `${r.status}${r.stage && r.status !== 'fail' ? ` (${r.stage})` : ''}: ${r.message ?? ''}`;
  // Too long: first drop what follows the first clause (e.g. the list of ops webcnn reads), then cut.
  if (text.length > width && text.includes('; ')) text = text.slice(0, text.indexOf('; '));
  return text.length > width ? `${text.slice(0, width - 3)}...` : text;
}

export const TABLE_COLUMNS = ['model', 'side', 'batch', 'opset', 'nodes', 'dispatches', 'max err', 'torch err', 'tolerance', 'top-1', 'compile ms', 'run ms', 'status'] as const;

/**
 * Right-aligned numbers, left-aligned text; the status column is cut at `statusWidth`. `torch err` is PyTorch's
 * own float32 error against float64, beside webcnn's error against PyTorch's float32 output.
 */
export function formatTable(results: readonly ZooResult[], statusWidth = 100): string {
  const rows = results.map((r) => [
    r.name,
    String(r.side),
    String(r.batch),
    String(r.opset),
    r.onnxNodes === undefined ? '' : String(r.onnxNodes),
    r.dispatches === undefined ? '' : String(r.dispatches),
    sci(r.maxAbsErr),
    sci(r.torchF32Error),
    sci(r.tolerance),
    top1Text(r.task, r.top1),
    ms(r.compileMs),
    ms(r.runMs),
    statusText(r, statusWidth),
  ]);
  const header = [...TABLE_COLUMNS];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const left = new Set([0, header.length - 1]);
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (left.has(i) ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export interface FamilySummary {
  readonly family: string;
  readonly counts: Record<ZooStatus, number>;
  /** The largest `maxAbsErr / tolerance` among the models that ran, with that model's figures. */
  readonly worst?: { name: string; maxAbsErr: number; tolerance: number };
  /** What the family's rows covered, ascending. */
  readonly sides: readonly number[];
  readonly opsets: readonly number[];
  readonly batches: readonly number[];
}

const ascending = (values: Iterable<number>): number[] => [...new Set(values)].sort((a, b) => a - b);

export function summarize(results: readonly ZooResult[]): FamilySummary[] {
  const byFamily = new Map<string, ZooResult[]>();
  for (const r of results) byFamily.set(r.family, [...(byFamily.get(r.family) ?? []), r]);
  return [...byFamily].map(([family, rs]) => {
    const counts: Record<ZooStatus, number> = { pass: 0, fail: 0, refused: 0, error: 0, skipped: 0 };
    let worst: FamilySummary['worst'];
    for (const r of rs) {
      counts[r.status]++;
      if (r.maxAbsErr === undefined || r.tolerance === undefined) continue;
      if (!worst || r.maxAbsErr / r.tolerance > worst.maxAbsErr / worst.tolerance) worst = { name: r.name, maxAbsErr: r.maxAbsErr, tolerance: r.tolerance };
    }
    return { family, counts, worst, sides: ascending(rs.map((r) => r.side)), opsets: ascending(rs.map((r) => r.opset)), batches: ascending(rs.map((r) => r.batch)) };
  });
}

/** Per family: counts and the worst error; with `coverage`, also the sides, opsets and batches its rows covered. */
export function formatSummary(results: readonly ZooResult[], coverage = false): string {
  const families = summarize(results);
  const first = coverage ? 'runs' : 'models';
  const header = ['family', first, 'passed', 'failed', 'refused', 'errors', 'skipped', 'worst error (x tolerance, model)'];
  if (coverage) header.push('sides', 'opsets', 'batches');
  const rows = families.map((f) => [
    f.family,
    String(Object.values(f.counts).reduce((a, b) => a + b, 0)),
    String(f.counts.pass),
    String(f.counts.fail),
    String(f.counts.refused),
    String(f.counts.error),
    String(f.counts.skipped),
    f.worst ? `${sci(f.worst.maxAbsErr)} (${(f.worst.maxAbsErr / f.worst.tolerance).toFixed(3)}, ${f.worst.name})` : '',
    ...(coverage ? [f.sides.join(','), f.opsets.join(','), f.batches.join(',')] : []),
  ]);
  const total = (s: ZooStatus) => String(families.reduce((a, f) => a + f.counts[s], 0));
  rows.push(['all', String(results.length), total('pass'), total('fail'), total('refused'), total('error'), total('skipped'), '', ...(coverage ? ['', '', ''] : [])]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 || i >= 7 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.slice(0, -1).map(line), line(widths.map((w) => '-'.repeat(w))), line(rows[rows.length - 1])].join('\n');
}

/** True when the run should exit non-zero: any model failed, was refused or erred (skipped ones do not count). */
export function anyProblem(results: readonly ZooResult[]): boolean {
  return results.some((r) => r.status === 'fail' || r.status === 'refused' || r.status === 'error');
}

/** A message on one line, at most `max` characters. */
export function oneLine(message: string, max = 300): string {
  const s = message.replace(/\s+/g, ' ').trim();
  return s.length > max ? `${s.slice(0, max - 3)}...` : s;
}
