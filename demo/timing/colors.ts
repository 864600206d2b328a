/** One colour per kernel kind, shared by the charts and the table. */
const KIND_COLORS: Record<string, string> = {
  pointwise: '#2f6fde',
  depthwise: '#e8833a',
  conv2d: '#3aa35b',
  linear: '#8e5cc9',
  pool: '#c9455a',
  layout: '#8a94a6',
  elementwise: '#d4b21f',
  softmax: '#1fa3a3',
  network: '#1d2330',
};
const EXTRA = ['#7a4f2a', '#4f7a2a', '#2a4f7a', '#7a2a4f'];

export function kindColor(kind: string): string {
  return KIND_COLORS[kind] ?? EXTRA[[...kind].reduce((h, c) => h + c.charCodeAt(0), 0) % EXTRA.length];
}

/** Kinds in a stable, meaningful order (heaviest families first). */
export function orderKinds(kinds: Iterable<string>): string[] {
  const order = Object.keys(KIND_COLORS);
  return [...new Set(kinds)].sort((a, b) => {
    const ia = order.indexOf(a);
    const ib = order.indexOf(b);
    return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.localeCompare(b);
  });
}
