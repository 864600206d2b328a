/**
 * Integer outputs: an arg max stores each index as an exact f32 (the IR and every GPU buffer are float), and
 * `run` returns it in the Float32Array of its output like any tensor. These read it as the integers it holds
 * (docs/decisions/argmax-output.md).
 */
import { GraphError } from '../errors.ts';
import type { Graph } from '../graph/ir.ts';

/** Whether output `k` of `graph` holds indices (it is an arg max's result). */
export function isIndexOutput(graph: Graph, k: number): boolean {
  const id = graph.outputs[k];
  return graph.nodes.some((n) => n.output === id && n.op === 'argMax');
}

/** An index output's values as an `Int32Array`; a value that is not an integer means a non-index output was given. */
export function toIndices(values: Float32Array): Int32Array {
  const out = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isInteger(v) || v < 0 || v >= 2 ** 24) throw new GraphError(`toIndices: value ${v} at ${i} is not an index (an integer in [0, 2^24))`);
    out[i] = v;
  }
  return out;
}
