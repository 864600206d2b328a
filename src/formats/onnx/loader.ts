/**
 * ONNX ModelProto -> graph IR: the entry point. `checkModel` checks the decoded ModelProto; `importer.ts` walks
 * the graph; the op converters live in `ops/` (one module per op or small family, listed in `ops/index.ts`);
 * `values.ts` has the ONNX-dims-to-IR rule.
 */
import { ModelFormatError, UnsupportedOpError, WebcnnError } from '../../errors.ts';
import { LoadBudget } from '../limits.ts';
import type { LoadedModel, ModelBytes } from '../model.ts';
import { asModelBytes } from '../model.ts';
import { ExternalFiles } from './external-data.ts';
import type { CheckedModel, LoadOnnxOptions } from './importer.ts';
import { Importer } from './importer.ts';
import type { ModelProto } from './proto.ts';
import { decodeModelProto, has, int64 } from './proto.ts';

export type { LoadOnnxOptions } from './importer.ts';
export type { ExternalDataSource } from './external-data.ts';
export { SUPPORTED_ONNX_OPS } from './ops/index.ts';
export { broadcastDims, irShapeOf } from './values.ts';

/** Opsets of the default (`ai.onnx`) domain this loader follows. */
export const MIN_OPSET = 1;
export const MAX_OPSET = 21;

/**
 * Reads an ONNX model (opsets 1 to 21; converters refuse the early versions whose semantics differ) into the graph IR. Throws `ModelFormatError` for a file that is not a
 * plausible ONNX model or is inconsistent, and `UnsupportedOpError` naming the node (index, name, op type)
 * for an op, attribute value or data type webcnn does not implement.
 */
export function loadOnnx(bytes: ModelBytes, options: LoadOnnxOptions = {}): LoadedModel {
  const data = asModelBytes(bytes, 'onnx');
  try {
    const checked = checkModel(decodeModelProto(data));
    // External files count as part of the model: the budget scales with the bytes the caller handed over.
    const external = ExternalFiles.resolve(checked.graph, options.externalData);
    const budget = new LoadBudget(data.length + external.bytes);
    return new Importer(checked, options, budget, external).run();
  } catch (e) {
    if (e instanceof WebcnnError) throw e;
    const message = (e instanceof Error ? e.message : String(e)).split('\n')[0];
    throw new ModelFormatError(`invalid ONNX model: ${message}`, { cause: e });
  }
}

/** Plausibility checks on the decoded ModelProto. */
function checkModel(model: ModelProto): CheckedModel {
  if (!has(model, 'ir_version')) {
    throw new ModelFormatError('not an ONNX model: ModelProto.ir_version is missing');
  }
  const irVersion = int64(model.ir_version);
  if (!Number.isSafeInteger(irVersion) || irVersion < 1 || irVersion > 64) {
    throw new ModelFormatError(`not an ONNX model: implausible ir_version ${irVersion}`);
  }
  if (!model.graph) throw new ModelFormatError('not an ONNX model: ModelProto.graph is missing');
  if (irVersion < 3) {
    throw new UnsupportedOpError(`ONNX IR version ${irVersion} predates operator sets; webcnn reads IR version 3 and later`);
  }
  const defaults = model.opset_import.filter((o) => !o.domain || o.domain === 'ai.onnx');
  if (defaults.length === 0) {
    throw new ModelFormatError('ONNX model imports no operator set of the default domain (ai.onnx)');
  }
  const opset = Math.max(...defaults.map((o) => int64(o.version)));
  if (!Number.isSafeInteger(opset) || opset < 1 || opset > 10000) {
    throw new ModelFormatError(`not an ONNX model: implausible opset version ${opset}`);
  }
  if (opset < MIN_OPSET || opset > MAX_OPSET) {
    throw new UnsupportedOpError(`ONNX opset ${opset} is not supported; webcnn reads opsets ${MIN_OPSET} to ${MAX_OPSET}`);
  }
  const graph = model.graph;
  if (graph.output.length === 0) throw new ModelFormatError('ONNX graph has no outputs');
  return { model, graph, irVersion, opset };
}
