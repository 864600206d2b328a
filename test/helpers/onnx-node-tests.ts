/**
 * ONNX's own backend node tests (Debian's libonnx-testdata: `data/node/test_<op>*` with `model.onnx` and
 * `test_data_set_0/{input,output}_k.pb`). webcnn takes only its first input at run time, so inputs after the
 * first (Resize's scales and sizes, for instance) are moved into the model as initializers before loading.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type protobuf from 'protobufjs';
import { decodeMessage, modelProtoType, type TensorProto } from '../../src/formats/onnx/proto.ts';
import { decodeTensor } from '../../src/formats/onnx/tensor.ts';
import type { Graph } from '../../src/graph/ir.ts';

export const NODE_TEST_ROOT = '/usr/share/libonnx-testdata/data/node';

export interface NodeTest {
  readonly name: string;
  /** The model with inputs 1.. as initializers. */
  readonly model: Uint8Array;
  readonly input: Float32Array;
  readonly inputDims: readonly number[];
  /** Output 0 as numbers (integer outputs converted). */
  readonly expected: Float32Array;
  readonly expectedDims: readonly number[];
}

/** The node test folders whose name starts with one of `prefixes` (empty where the package is absent). */
export function nodeTestNames(prefixes: readonly string[]): string[] {
  if (!existsSync(NODE_TEST_ROOT)) return [];
  return readdirSync(NODE_TEST_ROOT).filter((d) => prefixes.some((p) => d.startsWith(p))).sort();
}

function tensorType(): protobuf.Type {
  const root = modelProtoType().root;
  return root.lookupType('onnx.TensorProto');
}

/** One `.pb` file of a node test's data set, as a `TensorProto`. */
export function readTensorProto(path: string): TensorProto {
  return decodeMessage(new Uint8Array(readFileSync(path)), tensorType()) as unknown as TensorProto;
}

/** One `.pb` file's values as numbers (integer tensors converted). */
export function readTensorValues(path: string): Float32Array {
  const t = decodeTensor(readTensorProto(path), path);
  return t.floats ?? Float32Array.from(t.ints ?? []);
}

/** Every `<prefix>_k.pb` of one data set folder, in order. */
export function readDataSet(dir: string, prefix: 'input' | 'output'): Float32Array[] {
  return readdirSync(dir)
    .filter((f) => f.startsWith(`${prefix}_`))
    .sort()
    .map((f) => readTensorValues(join(dir, f)));
}

function numbers(t: TensorProto, what: string): { values: Float32Array; dims: number[] } {
  const c = decodeTensor(t, what);
  const values = c.floats ?? Float32Array.from(c.ints ?? []);
  return { values, dims: [...c.dims] };
}

export function readNodeTest(name: string): NodeTest {
  const dir = join(NODE_TEST_ROOT, name);
  const type = modelProtoType();
  const model = type.decode(readFileSync(join(dir, 'model.onnx'))) as unknown as { graph: { input: { name: string }[]; initializer: unknown[] } };
  const tt = tensorType();
  const pbBytes = (file: string): Uint8Array => readFileSync(join(dir, 'test_data_set_0', file));
  const readPb = (file: string): TensorProto => decodeMessage(pbBytes(file), tt) as unknown as TensorProto;
  const graph = model.graph;
  graph.input.slice(1).forEach((input, k) => {
    const file = `input_${k + 1}.pb`;
    if (!existsSync(join(dir, 'test_data_set_0', file))) return;
    const t = tt.decode(pbBytes(file)) as unknown as { name: string };
    t.name = input.name;
    graph.initializer.push(t);
  });
  graph.input = graph.input.slice(0, 1);
  const bytes = type.encode(model as unknown as protobuf.Message).finish();
  const input = numbers(readPb('input_0.pb'), `${name} input 0`);
  const output = numbers(readPb('output_0.pb'), `${name} output 0`);
  return { name, model: bytes, input: input.values, inputDims: input.dims, expected: output.values, expectedDims: output.dims };
}

/** The node tests under the root whose folder name matches `pattern` (empty where the package is absent). */
export function nodeTestsMatching(pattern: RegExp): string[] {
  if (!existsSync(NODE_TEST_ROOT)) return [];
  return readdirSync(NODE_TEST_ROOT).filter((d) => pattern.test(d)).sort();
}

export type ReferenceOutcome =
  | { readonly kind: 'refused'; readonly error: unknown }
  | { readonly kind: 'ran'; readonly outputs: Float32Array[]; readonly expected: Float32Array[] };

/**
 * One node test loaded as it is (every input a runtime input) and run on the CPU reference with data set 0; or
 * the error loading threw. Callers decide which tests must run and which must be refused.
 */
export function runNodeTestOnReference(
  name: string,
  load: (bytes: Uint8Array) => { graph: Graph },
  run: (graph: Graph, inputs: Float32Array[]) => Float32Array[],
): ReferenceOutcome {
  const dir = join(NODE_TEST_ROOT, name);
  let graph: Graph;
  try {
    graph = load(new Uint8Array(readFileSync(join(dir, 'model.onnx')))).graph;
  } catch (error) {
    return { kind: 'refused', error };
  }
  const data = join(dir, 'test_data_set_0');
  return { kind: 'ran', outputs: run(graph, readDataSet(data, 'input')), expected: readDataSet(data, 'output') };
}
