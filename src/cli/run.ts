/**
 * `webcnn run MODEL --input NAME=FILE.npy ... --output-dir DIR`: runs any model on `.npy` tensors and writes
 * one `.npy` per output, with the shapes and layouts the model file declares.
 */
import { writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Graph } from '../graph/ir.ts';
import type { InputQuantization, LoadedModel } from '../formats/model.ts';
import type { NpyArray } from '../formats/npy.ts';
import { readNpy, writeNpy } from '../formats/npy.ts';
import {
  COMMON_HELP, COMMON_OPTIONS, CliError, MODEL_OPTIONS, MODEL_OPTIONS_HELP, PRECISION_HELP, PRECISION_OPTIONS, UsageError,
  acquireCliDevice, dims, ensureOutputDir, fsReason, loadCliModel, modelOptions, parseCommandArgs, precisionArg, readInputFile, writeOut,
} from './common.ts';

export const RUN_USAGE = `Usage: webcnn run MODEL --input NAME=FILE.npy ... --output-dir DIR [options]

Runs a model (TFLite, ONNX or safetensors) on the GPU with inputs read from .npy files and writes each
output to DIR/NAME.npy. Inputs are float32 (other numeric dtypes are converted) with the shapes the model
declares: NCHW for ONNX and safetensors, NHWC for TFLite. \`webcnn info MODEL\` lists the names and shapes.
For a quantized TFLite input (uint8 or int8), a .npy of that dtype holds the quantized values and is
dequantized with the input's scale and zero point; a float .npy holds the real values.

Options:
  -i, --input NAME=FILE    an input tensor; repeat for each input (NAME= may be left out for a single-input model)
  -o, --output-dir DIR     where to write the outputs (created if missing; required)
      --json               print one JSON object describing the written outputs
${PRECISION_HELP}
${MODEL_OPTIONS_HELP}
${COMMON_HELP}`;

const OPTIONS = {
  ...COMMON_OPTIONS,
  ...MODEL_OPTIONS,
  ...PRECISION_OPTIONS,
  input: { type: 'string', short: 'i', multiple: true },
  'output-dir': { type: 'string', short: 'o' },
  json: { type: 'boolean' },
} as const;

/** A tensor name made safe as a file name: `[A-Za-z0-9._-]` only, never empty, `.`/`..` or hidden. */
export function sanitizeFileName(name: string, fallback: string): string {
  const s = name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '').replace(/_+$/, '');
  return s.length > 0 ? s.slice(0, 200) : fallback;
}

/** Unique sanitized names, in order (`x`, `x_1`, `x_2`, ... on collisions). */
export function outputFileNames(names: readonly string[]): string[] {
  const used = new Set<string>();
  return names.map((n, i) => {
    const base = sanitizeFileName(n, `output_${i}`);
    let name = base;
    for (let k = 1; used.has(name.toLowerCase()); k++) name = `${base}_${k}`;
    used.add(name.toLowerCase());
    return name;
  });
}

/** The IR `[n, c, h, w]` shape in the model's declared layout (NHWC for TFLite, rank-2 `[n, c*h*w]`, ...). */
function declaredFromIr(ir: readonly number[], rank: number, nhwc: boolean): number[] {
  const [n, c, h, w] = ir;
  switch (rank) {
    case 4:
      return nhwc ? [n, h, w, c] : [n, c, h, w];
    case 3:
      return [n, c, h * w];
    case 2:
      return [n, c * h * w];
    case 1:
      return [n * c * h * w];
    default:
      return [n, c, h, w];
  }
}

/** Declared dims with unknown (non-positive) entries filled in from the graph. */
function resolvedDims(declared: readonly number[] | undefined, ir: readonly number[], nhwc: boolean): number[] {
  if (!declared) return [...ir];
  const fromIr = declaredFromIr(ir, declared.length, nhwc);
  return declared.map((d, i) => (Number.isInteger(d) && d > 0 ? d : fromIr[i]));
}

/** NHWC -> NCHW (`toNchw`) or NCHW -> NHWC for a `[n, c, h, w]` tensor. */
export function transposeLayout(data: Float32Array, [n, c, h, w]: readonly number[], toNchw: boolean): Float32Array {
  const out = new Float32Array(data.length);
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        for (let k = 0; k < c; k++) {
          const nchw = ((b * c + k) * h + y) * w + x;
          const nhwc = ((b * h + y) * w + x) * c + k;
          if (toNchw) out[nchw] = data[nhwc];
          else out[nhwc] = data[nchw];
        }
      }
    }
  }
  return out;
}

interface InputArg {
  readonly name: string | null;
  readonly file: string;
}

function parseInputArg(arg: string): InputArg {
  const eq = arg.indexOf('=');
  if (eq > 0) return { name: arg.slice(0, eq), file: arg.slice(eq + 1) };
  return { name: null, file: arg };
}

/** Pairs `--input` arguments with the graph's inputs, by name (exact or sanitized) or, for one input, alone. */
function bindInputs(args: readonly InputArg[], graph: Graph): InputArg[] {
  const names = graph.inputs.map((id) => graph.tensors[id].name);
  const list = names.map((n) => `'${n}'`).join(', ');
  const bound: (InputArg | undefined)[] = names.map(() => undefined);
  for (const a of args) {
    let index: number;
    if (a.name === null) {
      if (names.length !== 1) throw new UsageError(`--input ${a.file}: the model has ${names.length} inputs (${list}); write NAME=FILE`, 'run');
      index = 0;
    } else {
      index = names.indexOf(a.name);
      if (index < 0) index = names.findIndex((n) => sanitizeFileName(n, '') === a.name);
      if (index < 0) throw new UsageError(`--input ${a.name}=...: the model has no input '${a.name}' (inputs: ${list})`, 'run');
    }
    if (bound[index]) throw new UsageError(`input '${names[index]}' is given twice`, 'run');
    bound[index] = a;
  }
  const missing = names.filter((_, i) => !bound[i]);
  if (missing.length > 0) throw new UsageError(`missing --input for ${missing.map((n) => `'${n}'`).join(', ')}`, 'run');
  return bound as InputArg[];
}

export async function runCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('run', argv, OPTIONS);
  if (values.help) {
    await writeOut(`${RUN_USAGE}\n`);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('no model given', 'run');
  if (positionals.length > 1) throw new UsageError(`one model at a time; unexpected '${positionals[1]}' (inputs go in --input NAME=FILE)`, 'run');
  const outDir = values['output-dir'];
  if (!outDir) throw new UsageError('--output-dir DIR is required', 'run');
  if (outDir === '-') throw new UsageError('--output-dir - : the outputs are .npy files, one per output; give a folder', 'run');
  const inputArgs = (values.input ?? []).map(parseInputArg);
  if (inputArgs.length === 0) throw new UsageError('no --input given', 'run');
  const loadOptions = modelOptions(values, 'run');
  const precision = precisionArg(values.precision, 'run');

  // Read every input and check the output folder before loading the model, so a bad path or a bad .npy fails first.
  const arrays = new Map(inputArgs.map((a) => [a, readNpy(readInputFile(a.file, 'input'), a.file)]));
  const output = ensureOutputDir(outDir);
  let inference: Inference;
  try {
    inference = await infer(positionals[0], loadOptions, inputArgs, arrays, precision);
  } catch (e) {
    // Nothing to write: the folders made for the outputs go again.
    output.undo();
    throw e;
  }
  const { loaded, graph, nhwc, results } = inference;

  const names = graph.outputs.map((id) => graph.tensors[id].name);
  const files = outputFileNames(names);
  const written: { name: string; file: string; shape: number[] }[] = [];
  results.forEach((data, i) => {
    const ir = graph.tensors[graph.outputs[i]].shape;
    const shape = resolvedDims(loaded.outputDims[i], ir, nhwc);
    const count = shape.reduce((a, b) => a * b, 1);
    if (count !== data.length) {
      throw new CliError(`output '${names[i]}': the model declares ${dims(loaded.outputDims[i])} but the graph computes ${dims(ir)}`);
    }
    const values = nhwc && shape.length === 4 ? transposeLayout(data, ir, false) : data;
    const file = join(outDir, `${files[i]}.npy`);
    try {
      writeFileSync(file, writeNpy(values, shape));
    } catch (e) {
      throw new CliError(`cannot write ${file}: ${fsReason(e)}`);
    }
    written.push({ name: names[i], file, shape });
  });
  if (values.json) {
    await writeOut(`${JSON.stringify({ model: basename(positionals[0]), outputs: written })}\n`);
  } else {
    await writeOut(written.map((w) => `${w.name} ${dims(w.shape)} -> ${w.file}\n`).join(''));
  }
  return 0;
}

interface Inference {
  readonly loaded: LoadedModel;
  readonly graph: Graph;
  readonly nhwc: boolean;
  readonly results: Float32Array[];
}

/** Loads the model, binds and checks the inputs, and runs it once on a fresh device. */
async function infer(
  modelPath: string,
  loadOptions: ReturnType<typeof modelOptions>,
  inputArgs: readonly InputArg[],
  arrays: ReadonlyMap<InputArg, NpyArray>,
  precision: ReturnType<typeof precisionArg>,
): Promise<Inference> {
  const { loaded } = await loadCliModel(modelPath, loadOptions);
  const graph = loaded.graph;
  const nhwc = loaded.format === 'tflite';
  const bound = bindInputs(inputArgs, graph);
  const feeds = bound.map((a, i) => prepareInput(loaded, i, arrays.get(a)!, a.file, nhwc));

  const { compileModel } = await import('../runtime/compile.ts');
  const device = await acquireCliDevice();
  try {
    const model = await compileModel(device, graph, { precision });
    try {
      return { loaded, graph, nhwc, results: await model.run(feeds) };
    } finally {
      model.dispose();
    }
  } finally {
    device.destroy();
  }
}

/** Checks an input array against the declared dims and returns it as the graph's NCHW float32. */
function prepareInput(loaded: LoadedModel, i: number, array: NpyArray, file: string, nhwc: boolean): Float32Array {
  const graph = loaded.graph;
  const t = graph.tensors[graph.inputs[i]];
  const declared = loaded.inputDims[i];
  const expected = resolvedDims(declared, t.shape, nhwc);
  const fits = array.shape.length === expected.length && array.shape.every((d, k) => d === expected[k]);
  if (!fits) {
    throw new CliError(`${file}: input '${t.name}' needs shape ${dims(expected)}${nhwc && expected.length === 4 ? ' (NHWC)' : ''}, the file has ${dims(array.shape)}`);
  }
  const count = t.shape[0] * t.shape[1] * t.shape[2] * t.shape[3];
  if (array.data.length !== count) {
    throw new CliError(`input '${t.name}': the model declares ${dims(expected)} but the graph takes ${dims(t.shape)}`);
  }
  const real = dequantizeInput(loaded.inputQuantization?.[i] ?? null, array, file, t.name);
  return nhwc && expected.length === 4 ? transposeLayout(real, t.shape, true) : real;
}

/**
 * The real values of an input: a quantized input's own integer dtype (`|u1` for uint8, `|i1` for int8) is
 * dequantized, `scale * (q - zeroPoint)`; floats are real values already. Another integer dtype for a quantized
 * input is ambiguous (quantized or real?) and refused.
 */
export function dequantizeInput(q: InputQuantization | null, array: NpyArray, file: string, name: string): Float32Array {
  const kind = /^[<>|=]?([a-z])(\d+)$/.exec(array.dtype);
  const integer = kind !== null && (kind[1] === 'u' || kind[1] === 'i');
  if (q === null || !integer) return array.data;
  const own = q.type === 'uint8' ? 'u1' : 'i1';
  if (`${kind[1]}${kind[2]}` !== own) {
    throw new CliError(
      `${file}: input '${name}' is ${q.type}-quantized; give its ${q.type} values (dtype ${own}) or the real values as floats, not ${array.dtype}`,
    );
  }
  const out = new Float32Array(array.data.length);
  for (let k = 0; k < out.length; k++) out[k] = q.scale * (array.data[k] - q.zeroPoint);
  return out;
}
