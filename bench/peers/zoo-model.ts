/**
 * A zoo network as a `PeerModel` in the page: the exported ONNX file fetched from the script's server (before
 * any cold start: the bytes in memory are where a cold start begins), read once with webcnn's loader for the
 * shapes and MAC count. TF.js, which builds networks from webcnn's builder graphs, is not offered these.
 */
import type { Graph } from '../../src/graph/ir.ts';
import { loadModel } from '../../src/formats/index.ts';
import { optimizeGraph } from '../../src/graph/passes/index.ts';
import type { NetworkRequest, PeerModel } from './protocol.ts';
import { peerModelOf } from './protocol.ts';

/** The request's ONNX file, its figures and a seeded input (`seed + 1`, as for the builder networks). */
export async function zooPeerModel(request: NetworkRequest, seed: number): Promise<PeerModel> {
  const zoo = request.zoo;
  if (!zoo) throw new Error('zooPeerModel: the request names no zoo network');
  const response = await fetch(zoo.url);
  if (!response.ok) throw new Error(`fetching ${zoo.url}: HTTP ${response.status}`);
  const onnx = new Uint8Array(await response.arrayBuffer());
  let graph: Graph;
  try {
    graph = loadModel(onnx, { fileName: `${zoo.model}.onnx` }).graph;
  } catch {
    // webcnn refuses it: its cold start reports why; the peers still get the file and an input of the side.
    const input = { id: 0, name: 'input', shape: [1, 3, zoo.side, zoo.side] as const };
    graph = { tensors: [input], nodes: [], inputs: [0], outputs: [0] };
    return { ...peerModelOf(request, seed, graph, graph, onnx), outputSize: 0 };
  }
  return peerModelOf(request, seed, graph, optimizeGraph(graph), onnx);
}
