/** Shape rule of `matMul` nodes (`MatMulNode`, `ir.ts`), shared by the builder, validation and the reference. */
import { GraphError } from '../errors.ts';
import type { MatMulAttrs, Shape4 } from './ir.ts';
import { elementCount, shapeToString } from './ir.ts';
import { broadcastShapes } from './shapes.ts';

/** `[M, K, N]` of a matmul of `a` and `b` (transposes applied); throws when they do not multiply. */
export function matMulDims(a: Shape4, b: Shape4, attrs: Pick<MatMulAttrs, 'transA' | 'transB'>, where: string): [number, number, number] {
  const [M, K] = attrs.transA ? [a[3], a[2]] : [a[2], a[3]];
  const [kb, N] = attrs.transB ? [b[3], b[2]] : [b[2], b[3]];
  if (K !== kb) throw new GraphError(`${where}: matmul operands ${shapeToString(a)} and ${shapeToString(b)} do not multiply (inner sizes ${K} and ${kb})`);
  return [M, K, N];
}

/** The output shape `[n, c, M, N]`, after checking the operands, the batch broadcast and the bias. */
export function matMulOutputShape(a: Shape4, b: Shape4, bias: Shape4 | null, attrs: MatMulAttrs, where: string): Shape4 {
  const [M, , N] = matMulDims(a, b, attrs, where);
  const batch = broadcastShapes([a[0], a[1], 1, 1], [b[0], b[1], 1, 1]);
  if (!batch) throw new GraphError(`${where}: matmul batch axes of ${shapeToString(a)} and ${shapeToString(b)} do not broadcast`);
  const out: Shape4 = [batch[0], batch[1], M, N];
  const k = attrs.bias;
  if (k && (k.values.length !== elementCount(k.shape))) throw new GraphError(`${where}: matmul bias has ${k.values.length} values for shape ${shapeToString(k.shape)}`);
  if (k && bias) throw new GraphError(`${where}: matmul has both a computed and a constant bias`);
  const c = bias ?? k?.shape;
  if (c) {
    const joined = broadcastShapes(out, c);
    if (!joined || joined.some((d, i) => d !== out[i])) throw new GraphError(`${where}: matmul bias ${shapeToString(c)} does not broadcast to ${shapeToString(out)}`);
  }
  if (!Number.isFinite(attrs.alpha) || !Number.isFinite(attrs.beta)) throw new GraphError(`${where}: matmul alpha and beta must be finite`);
  return out;
}
