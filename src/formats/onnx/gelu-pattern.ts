/**
 * PyTorch (opset < 20) exports exact GELU as `Mul(Mul(x, Add(Erf(Div(x, sqrt 2)), 1)), 0.5)` (five nodes; also
 * with `Mul(x, 0.5)` first, `Mul(x, 1 / sqrt 2)` for the Div, and operands in either order). The importer
 * replaces each such chain by one `Gelu` node before converting, so it becomes the table's exact `gelu`, which
 * fuses into the producing convolution (ConvNeXt's first Linear). A chain whose intermediate values are read
 * elsewhere is left alone.
 */
import type { AttributeProto, NodeProto } from './proto.ts';
import { AttributeType } from './proto.ts';
import { decodeTensor } from './tensor.ts';

/** The single float value of a constant ONNX value, or undefined (not a constant, or not one value). */
export type ScalarOf = (name: string) => number | undefined;

const near = (v: number | undefined, want: number): boolean => v !== undefined && Math.abs(v - want) <= 1e-6 * Math.abs(want);

/** A scalar resolver over initializers (`initial`) and Constant nodes of `nodes`. */
export function constantScalars(nodes: readonly NodeProto[], initial: ScalarOf): ScalarOf {
  const constants = new Map<string, AttributeProto>();
  for (const n of nodes) if (n.op_type === 'Constant' && (n.domain ?? '') === '' && n.output[0]) {
    const a = n.attribute.find((x) => x.name === 'value' || x.name === 'value_float');
    if (a) constants.set(n.output[0], a);
  }
  return (name) => {
    const a = constants.get(name);
    if (!a) return initial(name);
    if (a.name === 'value_float') return a.type === AttributeType.FLOAT ? a.f ?? 0 : undefined;
    if (!a.t) return undefined;
    try {
      const t = decodeTensor(a.t, `Constant '${name}'`);
      const v = t.floats ?? t.ints;
      return v && v.length === 1 ? Number(v[0]) : undefined;
    } catch {
      return undefined; // not a scalar we can read: the chain is simply not recognised
    }
  };
}

/** `nodes` with every erf-form GELU chain replaced by one `Gelu` node at the chain's last node. */
export function fuseErfGelu(nodes: readonly NodeProto[], uses: ReadonlyMap<string, number>, scalar: ScalarOf): NodeProto[] {
  const producer = new Map<string, NodeProto>();
  for (const n of nodes) for (const o of n.output) if (o) producer.set(o, n);
  const single = (name: string): boolean => uses.get(name) === 1;
  const isOp = (n: NodeProto | undefined, op: string): n is NodeProto => n !== undefined && n.op_type === op && (n.domain ?? '') === '' && n.input.length === 2;
  /** The other operand of binary `n` when one operand is the scalar `want`. */
  const withScalar = (n: NodeProto, want: number): string | undefined => {
    if (near(scalar(n.input[1]), want)) return n.input[0];
    if (near(scalar(n.input[0]), want)) return n.input[1];
    return undefined;
  };
  /** For `p = Add(Erf(x / sqrt 2), 1)`: x, and the three nodes. */
  const erfPlusOne = (p: string): { x: string; chain: NodeProto[] } | undefined => {
    const add = producer.get(p);
    if (!isOp(add, 'Add') || !single(p)) return undefined;
    const e = withScalar(add, 1);
    const erf = e === undefined ? undefined : producer.get(e);
    if (!erf || erf.op_type !== 'Erf' || !single(e!)) return undefined;
    const d = erf.input[0];
    const div = producer.get(d);
    if (!div || !single(d)) return undefined;
    const x = isOp(div, 'Div') && near(scalar(div.input[1]), Math.SQRT2) ? div.input[0] : isOp(div, 'Mul') ? withScalar(div, Math.SQRT1_2) : undefined;
    return x === undefined ? undefined : { x, chain: [div, erf, add] };
  };

  const removed = new Set<NodeProto>();
  const replaced = new Map<NodeProto, NodeProto>();
  for (const last of nodes) {
    if (!isOp(last, 'Mul') || removed.has(last)) continue;
    // Form 1: Mul(Mul(x, p), 0.5). Form 2: Mul(Mul(x, 0.5), p).
    let found: { x: string; chain: NodeProto[] } | undefined;
    const m1 = withScalar(last, 0.5);
    const inner1 = m1 === undefined ? undefined : producer.get(m1);
    if (isOp(inner1, 'Mul') && single(m1!)) {
      for (const [x, p] of [[inner1.input[0], inner1.input[1]], [inner1.input[1], inner1.input[0]]]) {
        const e = erfPlusOne(p);
        if (e && e.x === x) found = { x, chain: [...e.chain, inner1] };
      }
    }
    if (!found) {
      for (const [h, p] of [[last.input[0], last.input[1]], [last.input[1], last.input[0]]]) {
        const half = producer.get(h);
        const e = erfPlusOne(p);
        if (e && isOp(half, 'Mul') && single(h) && withScalar(half, 0.5) === e.x) found = { x: e.x, chain: [...e.chain, half] };
      }
    }
    if (!found || found.chain.some((n) => removed.has(n))) continue;
    for (const n of found.chain) removed.add(n);
    replaced.set(last, { input: [found.x], output: [last.output[0]], name: last.name ? `${last.name}/gelu` : undefined, op_type: 'Gelu', domain: '', attribute: [] });
  }
  return nodes.filter((n) => !removed.has(n)).map((n) => replaced.get(n) ?? n);
}
