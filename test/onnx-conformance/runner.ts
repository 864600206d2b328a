/**
 * ONNX's own backend node tests (Debian's `libonnx-testdata`: `data/node/test_<name>/model.onnx` with
 * `test_data_set_<k>/input_<i>.pb` and `output_<i>.pb`, TensorProtos) run through webcnn: load the model with
 * `loadOnnx`, run it on the GPU, compare every output with the expected one within the house tolerance.
 *
 * Node tests hand every operand, weights and shapes included, in as graph inputs. webcnn takes float32 runtime
 * inputs and wants weights, shapes, pads and axes as constants, so a model that does not load as it is gets a
 * second try with every input after the first baked in as an initializer (its test data as the value).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadOnnx } from '../../src/formats/onnx/loader.ts';
import type { ModelProto, TensorProto } from '../../src/formats/onnx/proto.ts';
import { decodeModelProto, encodeModelProto } from '../../src/formats/onnx/proto.ts';
import { decodeTensor } from '../../src/formats/onnx/tensor.ts';
import { compileModel } from '../../src/runtime/compile.ts';
import { compareOutputs } from '../gpu-cases.ts';
import { NODE_TEST_ROOT, readTensorProto } from '../helpers/onnx-node-tests.ts';

export { NODE_TEST_ROOT };

export interface NodeTest {
  readonly name: string;
  readonly dir: string;
  /** Op types of the model's nodes, in order, without repeats. */
  readonly ops: readonly string[];
}

/** Every node test under `root`, with the op types its model uses. */
export function listNodeTests(root = NODE_TEST_ROOT): NodeTest[] {
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((name) => name.startsWith('test_') && existsSync(join(root, name, 'model.onnx')))
    .sort()
    .map((name) => {
      const dir = join(root, name);
      const model = decodeModelProto(readFileSync(join(dir, 'model.onnx')));
      const ops = [...new Set((model.graph?.node ?? []).map((n) => n.op_type ?? ''))];
      return { name, dir, ops };
    });
}

export type Outcome = { readonly ok: true; readonly baked: boolean } | { readonly ok: false; readonly reason: string };

function dataSets(dir: string): string[] {
  return readdirSync(dir)
    .filter((d) => d.startsWith('test_data_set_'))
    .sort()
    .map((d) => join(dir, d));
}

function tensorsIn(set: string, prefix: 'input' | 'output'): TensorProto[] {
  const out: TensorProto[] = [];
  for (let i = 0; existsSync(join(set, `${prefix}_${i}.pb`)); i++) out.push(readTensorProto(join(set, `${prefix}_${i}.pb`)));
  return out;
}

/** The model with graph inputs after the first turned into initializers holding `values`. */
function baked(model: ModelProto, values: readonly TensorProto[]): Uint8Array {
  const graph = model.graph!;
  const runtimeInputs = graph.input.filter((i) => !graph.initializer.some((t) => t.name === i.name));
  const extra = runtimeInputs.slice(1).map((input, k) => ({ ...values[k + 1], name: input.name }));
  return encodeModelProto({ ...model, graph: { ...graph, initializer: [...graph.initializer, ...extra] } });
}

const firstLine = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0];

/** Runs one node test on `device`: ok, or why not (the load error, or the largest output error). */
export async function runNodeTest(device: GPUDevice, test: NodeTest): Promise<Outcome> {
  const bytes = readFileSync(join(test.dir, 'model.onnx'));
  const sets = dataSets(test.dir);
  if (sets.length === 0) return { ok: false, reason: 'no test data set' };
  const inputs0 = tensorsIn(sets[0], 'input');
  let model;
  let isBaked = false;
  try {
    model = loadOnnx(bytes);
  } catch (first) {
    try {
      model = loadOnnx(baked(decodeModelProto(bytes), inputs0));
      isBaked = true;
    } catch (second) {
      // A graph-input complaint (an int64 shape, a scalar) is what baking addresses: the second error says more.
      const shown = /graph input|must be a constant/.test(firstLine(first)) ? second : first;
      return { ok: false, reason: `load: ${firstLine(shown)}` };
    }
  }
  let compiled;
  try {
    compiled = await compileModel(device, model.graph);
  } catch (e) {
    return { ok: false, reason: `compile: ${firstLine(e)}` };
  }
  try {
    for (const set of sets) {
      const given = tensorsIn(set, 'input');
      const runtime = (isBaked ? given.slice(0, 1) : given).map((t) => floatsOf(t, set));
      const expected = tensorsIn(set, 'output').map((t) => floatsOf(t, set));
      const got = await compiled.run(runtime);
      const cmp = compareOutputs(got, expected);
      if (!cmp.ok) {
        return { ok: false, reason: `wrong result: max error ${cmp.maxAbsError} (tolerance ${cmp.tolerance}, ${cmp.nonFinite} non-finite)` };
      }
    }
  } catch (e) {
    return { ok: false, reason: `run: ${firstLine(e)}` };
  } finally {
    compiled.dispose();
  }
  return { ok: true, baked: isBaked };
}

function floatsOf(t: TensorProto, where: string): Float32Array {
  const c = decodeTensor(t, where);
  if (c.floats) return c.floats;
  return Float32Array.from(c.ints ?? []);
}
