/**
 * Below opset 17 PyTorch exports LayerNorm over the last axis decomposed: `mu = ReduceMean(x, axes [-1])`,
 * `d = Sub(x, mu)`, `ReduceMean(Pow(d, 2), axes [-1])`, `Add eps`, `Sqrt`, `Div(d, .)`, `Mul gamma`, `Add beta`.
 * The importer replaces each such chain by one LayerNormalization node (axis -1) before converting, so it runs as
 * one `layerNorm` kernel (on ConvNeXt's channels-last views). A chain whose intermediate values are read
 * elsewhere, or with other axes or keepdims, is left alone.
 */
import type { AttributeProto, NodeProto } from './proto.ts';
import { AttributeType, int64 } from './proto.ts';
import type { ScalarOf } from './gelu-pattern.ts';

const isOp = (n: NodeProto | undefined, op: string, inputs: number): n is NodeProto =>
  n !== undefined && n.op_type === op && (n.domain ?? '') === '' && n.input.length === inputs;

/** A ReduceMean over the last axis only, keeping dims (axes as an attribute: opsets below 18). */
function meanOverLast(n: NodeProto | undefined): n is NodeProto {
  if (!isOp(n, 'ReduceMean', 1)) return false;
  const axes = n.attribute.find((a) => a.name === 'axes');
  const keep = n.attribute.find((a) => a.name === 'keepdims');
  return axes !== undefined && axes.ints.length === 1 && int64(axes.ints[0]) === -1 && (keep === undefined || int64(keep.i ?? 1) === 1);
}

const attribute = (a: Partial<AttributeProto> & { name: string; type: number }): AttributeProto => ({ floats: [], ints: [], strings: [], tensors: [], graphs: [], ...a });

/** `nodes` with every decomposed last-axis LayerNorm replaced by one LayerNormalization at the chain's end. */
export function fuseDecomposedLayerNorm(nodes: readonly NodeProto[], uses: ReadonlyMap<string, number>, scalar: ScalarOf, isConstant: (name: string) => boolean): NodeProto[] {
  const producer = new Map<string, NodeProto>();
  for (const n of nodes) for (const o of n.output) if (o) producer.set(o, n);
  const consumers = new Map<string, NodeProto[]>();
  for (const n of nodes) {
    for (const i of n.input) {
      if (!i) continue;
      const list = consumers.get(i);
      if (list) list.push(n);
      else consumers.set(i, [n]);
    }
  }
  const only = (name: string): NodeProto | undefined => (uses.get(name) === 1 ? consumers.get(name)?.[0] : undefined);
  const other = (n: NodeProto, name: string): string => (n.input[0] === name ? n.input[1] : n.input[0]);

  const removed = new Set<NodeProto>();
  const replaced = new Map<NodeProto, NodeProto>();
  for (const mean of nodes) {
    if (!meanOverLast(mean) || removed.has(mean)) continue;
    const x = mean.input[0];
    const mu = mean.output[0];
    const sub = only(mu);
    if (!isOp(sub, 'Sub', 2) || sub.input[0] !== x || sub.input[1] !== mu) continue;
    const d = sub.output[0];
    if (uses.get(d) !== 2) continue;
    const users = consumers.get(d) ?? [];
    const pow = users.find((n) => isOp(n, 'Pow', 2) && n.input[0] === d && scalar(n.input[1]) === 2);
    const div = users.find((n) => isOp(n, 'Div', 2) && n.input[0] === d);
    if (!pow || !div) continue;
    const mean2 = only(pow.output[0]);
    if (!meanOverLast(mean2)) continue;
    const addEps = only(mean2.output[0]);
    if (!isOp(addEps, 'Add', 2)) continue;
    const epsilon = scalar(other(addEps, mean2.output[0]));
    if (epsilon === undefined || !(epsilon >= 0)) continue;
    const sqrt = only(addEps.output[0]);
    if (!isOp(sqrt, 'Sqrt', 1) || div.input[1] !== sqrt.output[0] || uses.get(sqrt.output[0]) !== 1) continue;
    const mul = only(div.output[0]);
    if (!isOp(mul, 'Mul', 2) || !isConstant(other(mul, div.output[0]))) continue;
    const gamma = other(mul, div.output[0]);
    const add = only(mul.output[0]);
    const beta = isOp(add, 'Add', 2) && isConstant(other(add, mul.output[0])) ? other(add, mul.output[0]) : undefined;
    const last = beta !== undefined ? add! : mul;
    const chain = [mean, sub, pow, mean2, addEps, sqrt, div, mul, ...(beta !== undefined ? [add!] : [])];
    if (chain.some((n) => removed.has(n))) continue;
    for (const n of chain) removed.add(n);
    replaced.set(last, {
      input: beta !== undefined ? [x, gamma, beta] : [x, gamma],
      output: [last.output[0]],
      name: mean.name ? `${mean.name}/layer_norm` : undefined,
      op_type: 'LayerNormalization',
      domain: '',
      attribute: [attribute({ name: 'axis', type: AttributeType.INT, i: -1 }), attribute({ name: 'epsilon', type: AttributeType.FLOAT, f: epsilon })],
    });
  }
  return nodes.filter((n) => !removed.has(n) || replaced.has(n)).map((n) => replaced.get(n) ?? n);
}
