/**
 * A parsed TFLite model → `LoadedModel`: converts the main subgraph (`converter.ts`, with the op table of
 * `ops/index.ts`) and gathers what the file says about preprocessing, labels and itself.
 */
import { ModelFormatError } from '../../errors.ts';
import { absorbPads } from '../../graph/passes/absorb-pads.ts';
import { validateGraph } from '../../graph/validate.ts';
import { checkGraphLimits, LoadBudget } from '../limits.ts';
import type { InputQuantization, LoadedModel, Preprocessing } from '../model.ts';
import { TfliteConverter } from './converter.ts';
import { findLabels } from './labels.ts';
import { TFLITE_OPS } from './ops/index.ts';
import type { TfliteModel, TfliteTensor } from './schema.ts';
import { TensorType, tensorTypeName } from './schema.ts';

export { irShapeFromDims, samePadding } from './dims.ts';


/** A uint8 / int8 input's per-tensor scale and zero point; null for float (or per-channel) inputs. */
function inputQuantizationOf(t: TfliteTensor): InputQuantization | null {
  const type = t.type === TensorType.UINT8 ? 'uint8' : t.type === TensorType.INT8 ? 'int8' : null;
  const q = t.quantization;
  if (type === null || !q || q.scale.length !== 1) return null;
  return { type, scale: q.scale[0], zeroPoint: q.zeroPoint[0] ?? 0 };
}

function preprocessingFor(t: TfliteTensor): { pre?: Preprocessing; note?: string } {
  if (t.shape.length !== 4 || t.shape[3] !== 3) return {};
  const size: [number, number] = [t.shape[1], t.shape[2]];
  const q = t.quantization;
  const scale = q && q.scale.length === 1 ? q.scale[0] : 1;
  const zp = q && q.zeroPoint.length >= 1 ? q.zeroPoint[0] : 0;
  const triple = (v: number): [number, number, number] => [v, v, v];
  if (t.type === TensorType.UINT8 || t.type === TensorType.INT8) {
    // x = scale * (q - zp) with q = pixel (uint8) or pixel - 128 (int8), pixel = 255 p.
    const offset = t.type === TensorType.INT8 ? zp + 128 : zp;
    return {
      pre: { size, resize: 'stretch', cropFraction: 1, mean: triple(offset / 255), std: triple(1 / (255 * scale)) },
    };
  }
  if (t.type === TensorType.FLOAT32) {
    return {
      pre: { size, resize: 'stretch', cropFraction: 1, mean: triple(0.5), std: triple(0.5) },
      note: 'float input: assumed x = (p - 0.5) / 0.5 in [-1, 1] (TF MobileNet convention); the file does not say',
    };
  }
  return {};
}

function metadataText(data: Uint8Array | null): string | null {
  if (!data) return null;
  // eslint-disable-next-line no-control-regex
  const s = new TextDecoder().decode(data).replace(/\0+$/g, '').trim();
  return /^[\x20-\x7e]*$/.test(s) ? s : null;
}

/** Converts the main subgraph (subgraph 0) of a parsed model. */
export function convertModel(model: TfliteModel, bytes: Uint8Array): LoadedModel {
  if (model.subgraphs.length === 0) throw new ModelFormatError('tflite: the model has no subgraphs');
  const sg = model.subgraphs[0];
  const conv = new TfliteConverter(model, sg, 0, new LoadBudget(bytes.length));
  const graph = absorbPads(conv.convert(TFLITE_OPS).build());
  validateGraph(graph);
  checkGraphLimits(graph, bytes.length, 'tflite');

  const inputT = sg.tensors[sg.inputs[0]];
  const outputT = sg.tensors[sg.outputs[0]];
  const { pre, note } = preprocessingFor(inputT);
  const first = graph.outputs[0];
  const outputsProbabilities = graph.nodes.some((n) => n.output === first && n.op === 'softmax');

  const metaBuffers = model.metadata.map((m) => ({ name: m.name, data: model.buffers[m.buffer] ?? null }));
  const classes = graph.tensors[first].shape[1];
  const { found, archiveProblem } = findLabels(bytes, metaBuffers, classes);

  const metadata: Record<string, string | number> = {
    format: 'tflite',
    schemaVersion: model.version,
    layout: 'NHWC',
    irLayout: 'NCHW',
    subgraphs: model.subgraphs.length,
    operators: sg.operators.length,
    opCounts: [...conv.opCounts].map(([k, v]) => `${k} x${v}`).join(', '),
    inputType: tensorTypeName(inputT.type),
    outputType: tensorTypeName(outputT.type),
    weights: [...conv.weightKinds].sort().join(', ') || 'none',
    activations: 'float32 (activation quantization ignored)',
  };
  if (model.description) metadata.description = model.description;
  if (sg.name) metadata.subgraphName = sg.name;
  const iq = inputT.quantization;
  if (iq && iq.scale.length === 1) {
    metadata.inputScale = iq.scale[0];
    metadata.inputZeroPoint = iq.zeroPoint[0] ?? 0;
  }
  if (conv.foldedPads) metadata.foldedPads = conv.foldedPads;
  if (note) metadata.preprocessingNote = note;
  const runtimeVersion = metaBuffers.find((m) => m.name === 'min_runtime_version');
  const version = runtimeVersion ? metadataText(runtimeVersion.data) : null;
  if (version) metadata.minRuntimeVersion = version;
  if (model.metadata.length) {
    const names = model.metadata.slice(0, 16).map((m) => m.name).join(', ');
    metadata.metadataEntries = model.metadata.length > 16 ? `${names}, ... (${model.metadata.length} in all)` : names;
  }
  if (found) metadata.labelsSource = found.source;

  return {
    format: 'tflite',
    graph,
    inputDims: sg.inputs.map((i) => [...sg.tensors[i].shape]),
    inputQuantization: sg.inputs.map((i) => inputQuantizationOf(sg.tensors[i])),
    outputDims: sg.outputs.map((i) => [...sg.tensors[i].shape]),
    ...(pre ? { preprocessing: pre } : {}),
    ...(found ? { labels: found.labels } : {}),
    outputsProbabilities,
    metadata,
    ...(archiveProblem ? { warnings: [`${archiveProblem}; the model loads, but its labels are unavailable`] } : {}),
  };
}
