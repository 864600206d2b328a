/**
 * `webcnn info MODEL`: what a model file holds and what it would take on the GPU, without a GPU: format,
 * inputs and outputs, op counts before and kernel kinds after optimization, parameter count, the activation
 * memory plan and weight bytes, preprocessing and metadata.
 */
import { basename } from 'node:path';
import type { Graph } from '../graph/ir.ts';
import type { LoadedModel } from '../formats/model.ts';
import {
  COMMON_HELP, COMMON_OPTIONS, MODEL_OPTIONS, MODEL_OPTIONS_HELP, UsageError, dims, loadCliModel, modelOptions,
  oneLine, parseCommandArgs, printable, writeOut,
} from './common.ts';

export const INFO_USAGE = `Usage: webcnn info MODEL [options]

Describes a model file (TFLite, ONNX or safetensors): format, inputs and outputs with their shapes, op
counts (as loaded, and GPU kernels after batch-norm folding and fusion), parameter count, planned GPU memory,
preprocessing and metadata. Needs no GPU.

Options:
      --json               print one JSON object instead of text
${MODEL_OPTIONS_HELP}
${COMMON_HELP}`;

const OPTIONS = {
  ...COMMON_OPTIONS,
  ...MODEL_OPTIONS,
  json: { type: 'boolean' },
} as const;

export interface ModelInfo {
  file: string;
  fileBytes: number;
  format: string;
  inputs: { name: string; shape: number[]; graphShape: number[] }[];
  outputs: { name: string; shape: number[]; graphShape: number[] }[];
  ops: Record<string, number>;
  /**
   * Launches per kind and in all with the software default tiles (`DEFAULT_KERNEL_CHOICE`, what a software
   * adapter compiles); null with `planError` set when the graph does not lower to kernels.
   */
  kernels: Record<string, number> | null;
  dispatches: number | null;
  /** Launches with the hardware-GPU default (`GPU_KERNEL_CHOICE`: pool + FC fused, split-K head). */
  dispatchesGpuDefault: number | null;
  parameters: number;
  /** Batch-norm running statistics (buffers in PyTorch's terms). */
  buffers: number;
  memory: { activationPeakBytes: number; activationUnplannedBytes: number; weightBytes: number; ioBytes: number } | null;
  planError?: string;
  preprocessing: LoadedModel['preprocessing'] | null;
  labels: number;
  outputsProbabilities: boolean;
  metadata: Readonly<Record<string, string | number>>;
}

function countBy<T>(items: Iterable<T>, key: (t: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of items) out[key(t)] = (out[key(t)] ?? 0) + 1;
  return out;
}

/** Float constants in the graph's nodes: parameters, and batch-norm statistics counted apart. */
export function countGraphParams(graph: Graph): { parameters: number; buffers: number } {
  let parameters = 0;
  let buffers = 0;
  const seen = new Set<Float32Array>();
  const walk = (value: unknown, key: string, inBatchNorm: boolean): void => {
    if (value instanceof Float32Array) {
      if (seen.has(value)) return;
      seen.add(value);
      if (inBatchNorm && (key === 'mean' || key === 'variance')) buffers += value.length;
      else parameters += value.length;
    } else if (value && typeof value === 'object' && !ArrayBuffer.isView(value)) {
      for (const [k, v] of Object.entries(value)) walk(v, k, inBatchNorm);
    }
  };
  for (const node of graph.nodes) walk(node.attrs, '', node.op === 'batchNorm');
  return { parameters, buffers };
}

/** Builds the description; lowering failures (an op without a kernel) land in `planError`. */
export async function describeModel(loaded: LoadedModel, file: string, fileBytes: number): Promise<ModelInfo> {
  const graph = loaded.graph;
  const io = (ids: readonly number[], declared: readonly (readonly number[])[]) =>
    ids.map((id, i) => ({ name: graph.tensors[id].name, shape: [...(declared[i] ?? graph.tensors[id].shape)], graphShape: [...graph.tensors[id].shape] }));
  const { parameters, buffers } = countGraphParams(graph);
  const info: ModelInfo = {
    file,
    fileBytes,
    format: loaded.format,
    inputs: io(graph.inputs, loaded.inputDims),
    outputs: io(graph.outputs, loaded.outputDims),
    ops: countBy(graph.nodes, (n) => n.op),
    kernels: null,
    dispatches: null,
    dispatchesGpuDefault: null,
    parameters,
    buffers,
    memory: null,
    preprocessing: loaded.preprocessing ?? null,
    labels: loaded.labels?.length ?? 0,
    outputsProbabilities: loaded.outputsProbabilities,
    metadata: loaded.metadata,
  };
  try {
    const [{ validateGraph }, { planMemory }, lowering, kernels] = await Promise.all([
      import('../graph/validate.ts'),
      import('../graph/memory-plan.ts'),
      import('../runtime/lowering.ts'),
      import('../runtime/kernel-choice.ts'),
    ]);
    validateGraph(graph);
    // The plan `compile` makes with the deterministic software default (no device here to pick by adapter); the
    // GPU default's launch count beside it.
    const choice = kernels.DEFAULT_KERNEL_CHOICE;
    const optimized = kernels.optimizeForKernels(graph, choice);
    validateGraph(optimized);
    const steps = lowering.lowerGraph(optimized, choice);
    const plan = planMemory(optimized, {
      bytesOf: (id) => lowering.storageBytes(optimized.tensors[id].shape),
      isAlias: (node) => lowering.isAliasNode(optimized, node),
    });
    // Sizes only: `byteLength` does not pack the weights.
    let weightBytes = 0;
    for (const s of steps) for (const ref of Object.values(s.buffers)) if (ref.kind === 'constant') weightBytes += ref.byteLength;
    const elements = (id: number) => optimized.tensors[id].shape.reduce((a, b) => a * b, 1);
    const ioBytes = [...optimized.inputs, ...optimized.outputs].reduce((a, id) => a + elements(id) * 4, 0);
    info.kernels = countBy(steps, (s) => s.kind);
    info.dispatches = steps.length;
    info.dispatchesGpuDefault = lowering.lowerGraph(kernels.optimizeForKernels(graph, kernels.GPU_KERNEL_CHOICE), kernels.GPU_KERNEL_CHOICE).length;
    info.memory = { activationPeakBytes: plan.peakBytes, activationUnplannedBytes: plan.unplannedBytes, weightBytes, ioBytes };
  } catch (e) {
    info.planError = (e as Error).message;
  }
  return info;
}

/** Bytes in the unit that shows them (a small model's figures would all read 0.00 MiB). */
const mib = (bytes: number) => (bytes >= 2 ** 20 ? `${(bytes / 2 ** 20).toFixed(2)} MiB` : bytes >= 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${bytes} B`);
const num = (n: number) => n.toLocaleString('en-US');
const counts = (c: Record<string, number>) =>
  Object.entries(c)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');

export function formatInfo(info: ModelInfo): string {
  const lines: string[] = [];
  lines.push(`model:       ${info.file} (${info.format}, ${mib(info.fileBytes)})`);
  const tensorLine = (t: ModelInfo['inputs'][number]) => {
    const same = t.shape.length === 4 && t.graphShape.every((d, i) => d === t.shape[i]);
    return `  ${t.name}  ${dims(t.shape)}${same ? '' : `  (graph NCHW ${dims(t.graphShape)})`}`;
  };
  lines.push('inputs:', ...info.inputs.map(tensorLine));
  lines.push('outputs:', ...info.outputs.map(tensorLine));
  const nodes = Object.values(info.ops).reduce((a, b) => a + b, 0);
  lines.push(`ops:         ${nodes} (${counts(info.ops)})`);
  if (info.kernels) {
    lines.push(
      `kernels:     ${info.dispatches} dispatches after folding and fusion with the software default tiles (${counts(info.kernels)}); ` +
        `${info.dispatchesGpuDefault} with the GPU default`,
    );
  }
  else lines.push(`kernels:     not available: ${info.planError}`);
  lines.push(`parameters:  ${num(info.parameters)}${info.buffers ? ` (+ ${num(info.buffers)} batch-norm statistics)` : ''}`);
  if (info.memory) {
    const m = info.memory;
    lines.push(
      `GPU memory:  ${mib(m.activationPeakBytes + m.weightBytes + m.ioBytes)} planned: activations ${mib(m.activationPeakBytes)} ` +
        `(${mib(m.activationUnplannedBytes)} without reuse), weights ${mib(m.weightBytes)}, inputs/outputs ${mib(m.ioBytes)}`,
    );
  }
  const p = info.preprocessing;
  if (p) {
    const r = (v: readonly number[]) => `[${v.map((x) => Number(x.toFixed(4))).join(', ')}]`;
    lines.push(
      `preprocess:  ${p.size[0]}x${p.size[1]} ${p.resize}${p.resize === 'center-crop' ? ` (crop ${p.cropFraction})` : ''}, mean ${r(p.mean)}, std ${r(p.std)}`,
    );
  }
  lines.push(`output:      ${info.outputsProbabilities ? 'probabilities (softmax in the model)' : 'logits'}`);
  lines.push(`labels:      ${info.labels ? `${info.labels} in the model` : 'none in the model'}`);
  const meta = Object.entries(info.metadata);
  if (meta.length) {
    lines.push('metadata:');
    for (const [k, v] of meta) lines.push(`  ${k}: ${String(v).replace(/\s+/g, ' ').slice(0, 200)}`);
  }
  return `${lines.map(printable).join('\n')}\n`;
}

export async function infoCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('info', argv, OPTIONS);
  if (values.help) {
    await writeOut(`${INFO_USAGE}\n`);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('no model given', 'info');
  if (positionals.length > 1) throw new UsageError(`one model at a time; unexpected '${positionals[1]}'`, 'info');
  const options = modelOptions(values, 'info');
  const { loaded, bytes } = await loadCliModel(positionals[0], options);
  const info = await describeModel(loaded, basename(positionals[0]), bytes);
  await writeOut(values.json ? `${JSON.stringify(info)}\n` : formatInfo(info));
  if (info.planError) {
    process.stderr.write(`webcnn: ${oneLine(`${positionals[0]}: the model does not run on the GPU: ${info.planError}`)}\n`);
    return 1;
  }
  return 0;
}
