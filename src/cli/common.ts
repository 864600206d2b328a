/**
 * Pieces every `webcnn` command shares: argument parsing, file reading with one-line errors, the GPU device,
 * and the model-loading options. Heavy modules (loaders, Dawn) are imported lazily so that `--help` and usage
 * errors answer at once.
 */
import { accessSync, constants as fsConstants, mkdirSync, readFileSync, rmdirSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { WebcnnError, WebGPUUnavailableError } from '../errors.ts';
import type { LoadedModel } from '../formats/model.ts';

/** A failure the CLI reports as one line (exit code 1). */
export class CliError extends WebcnnError {
  override readonly name: string = 'CliError';
}

/** Wrong command line: reported with a pointer to `--help`, exit code 2. */
export class UsageError extends CliError {
  override readonly name = 'UsageError';
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
  }
}

export const ARCHITECTURES = ['mobilenet_v2', 'resnet50'] as const;
export type Architecture = (typeof ARCHITECTURES)[number];

type OptionSpec = { type: 'string' | 'boolean'; short?: string; multiple?: boolean };

/** Options every command accepts. */
export const COMMON_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  verbose: { type: 'boolean', short: 'v' },
} as const satisfies Record<string, OptionSpec>;

/** Options of commands that load a model. */
export const MODEL_OPTIONS = {
  arch: { type: 'string' },
  'input-size': { type: 'string' },
  'num-classes': { type: 'string' },
  'width-multiplier': { type: 'string' },
} as const satisfies Record<string, OptionSpec>;

export const MODEL_OPTIONS_HELP = `Model options (safetensors checkpoints only; TFLite and ONNX files describe themselves):
  --arch NAME              torchvision network the checkpoint belongs to: ${ARCHITECTURES.join(' or ')} (required)
  --input-size N           square input side in pixels (default 224)
  --num-classes N          class count (default: rows of the classifier weight)
  --width-multiplier W     MobileNetV2 width (default: inferred from the checkpoint)`;

/** Options of commands that run a model on the GPU. */
export const PRECISION_OPTIONS = {
  precision: { type: 'string' },
} as const satisfies Record<string, OptionSpec>;

export const PRECISIONS = ['f32', 'f16', 'f16-packed', 'auto'] as const;
export type PrecisionArg = (typeof PRECISIONS)[number];

export const PRECISION_HELP = `      --precision P        how activations and weights are stored on the GPU: f32 (default), f16 (needs the
                           adapter feature shader-f16), f16-packed (f16 in u32 words, any adapter), or auto
                           (f16 where shader-f16 is available, else f32); arithmetic is f32 in every mode`;

export function precisionArg(value: string | undefined, command: string): PrecisionArg | undefined {
  if (value === undefined) return undefined;
  if (!(PRECISIONS as readonly string[]).includes(value)) {
    throw new UsageError(`--precision must be one of ${PRECISIONS.join(', ')}, got '${value}'`, command);
  }
  return value as PrecisionArg;
}

export const COMMON_HELP = `  -v, --verbose            show stack traces of errors
  -h, --help               show this help`;

/**
 * `util.parseArgs` in strict mode, with its errors turned into `UsageError`s for `command`. A value option given
 * twice is an error (the last one would win silently), and a negative number after a value option is taken as
 * its value (`--top -1`), so that the option's own check can say what is wrong with it.
 */
export function parseCommandArgs<O extends Record<string, OptionSpec>>(command: string, argv: string[], options: O) {
  const args = joinNegativeValues(argv, options);
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true, tokens: true });
  } catch (e) {
    const msg = (e as Error).message.replace(/\. To specify a positional argument starting with a '-'.*$/s, '');
    throw new UsageError(msg, command);
  }
  const seen = new Set<string>();
  for (const t of parsed.tokens) {
    if (t.kind !== 'option' || options[t.name]?.multiple || options[t.name]?.type !== 'string') continue;
    if (seen.has(t.name)) throw new UsageError(`--${t.name} is given more than once`, command);
    seen.add(t.name);
  }
  return { values: parsed.values, positionals: parsed.positionals };
}

/** `--top -1` as `--top=-1`: util.parseArgs would take `-1` for an unknown option and say it is ambiguous. */
function joinNegativeValues(argv: readonly string[], options: Record<string, OptionSpec>): string[] {
  const takesValue = (arg: string): string | undefined => {
    if (arg.includes('=')) return undefined;
    const name = arg.startsWith('--') ? arg.slice(2) : /^-\w$/.test(arg) ? Object.keys(options).find((k) => options[k].short === arg[1]) : undefined;
    return name !== undefined && options[name]?.type === 'string' ? name : undefined;
  };
  const args: string[] = [];
  let optionsEnded = false;
  for (let i = 0; i < argv.length; i++) {
    const name = optionsEnded ? undefined : takesValue(argv[i]);
    if (name !== undefined && /^-\d/.test(argv[i + 1] ?? '')) {
      args.push(`--${name}=${argv[++i]}`);
    } else {
      optionsEnded ||= argv[i] === '--';
      args.push(argv[i]);
    }
  }
  return args;
}

export function positiveInt(value: string | undefined, option: string, command: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
    throw new UsageError(`${option} must be a positive integer, got '${value}'`, command);
  }
  return n;
}

export function positiveNumber(value: string | undefined, option: string, command: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new UsageError(`${option} must be a positive number, got '${value}'`, command);
  return n;
}

export function architecture(value: string | undefined, command: string): Architecture | undefined {
  if (value === undefined) return undefined;
  if (!(ARCHITECTURES as readonly string[]).includes(value)) {
    throw new UsageError(`--arch must be one of ${ARCHITECTURES.join(', ')}, got '${value}'`, command);
  }
  return value as Architecture;
}

/** `-` and `/dev/stdin` read standard input (by descriptor: a socket cannot be opened by path). */
export function isStdin(path: string): boolean {
  return path === '-' || path === '/dev/stdin';
}

/** Reads a whole file; a missing, unreadable or directory path is a one-line `CliError` naming `what`. */
export function readInputFile(path: string, what: string): Uint8Array {
  try {
    if (isStdin(path)) return readFileSync(0);
    if (statSync(path).isDirectory()) throw new CliError(`${what} ${path} is a directory, not a file`);
    return readFileSync(path);
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`cannot read ${what} ${path}: ${fsReason(e)}`);
  }
}

/** Checks that a file exists and is readable, without reading it (to fail before slow work); pipes count. */
export function checkReadable(path: string, what: string): void {
  if (isStdin(path)) return;
  try {
    // Pipes, yes; other devices (/dev/zero never ends) no.
    const st = statSync(path);
    if (!st.isFile() && !st.isFIFO() && !st.isSocket()) throw new CliError(`${what} ${path} is not a file`);
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`cannot read ${what} ${path}: ${fsReason(e)}`);
  }
}

export function fsReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    case 'ENOTDIR':
      return 'a parent is not a directory';
    case 'EEXIST':
      return 'a file of that name exists';
    case 'EROFS':
      return 'read-only file system';
    case 'ENOSPC':
      return 'no space left on the device';
    default:
      return (e as Error)?.message ?? String(e);
  }
}

/** Labels file: one label per line, line N = class N; trailing empty lines are dropped. */
export function readLabels(path: string): string[] {
  const text = new TextDecoder().decode(readInputFile(path, 'labels file'));
  const labels = text.split(/\r?\n/);
  while (labels.length > 0 && labels[labels.length - 1].trim() === '') labels.pop();
  if (labels.length === 0) throw new CliError(`labels file ${path} has no labels`);
  return labels.map((l) => l.trim());
}

export interface ModelArgs {
  arch?: string;
  'input-size'?: string;
  'num-classes'?: string;
  'width-multiplier'?: string;
}

/** Validated loader options from the model options (before any file is read). */
export function modelOptions(values: ModelArgs, command: string) {
  return {
    architecture: architecture(values.arch, command),
    inputSize: positiveInt(values['input-size'], '--input-size', command),
    numClasses: positiveInt(values['num-classes'], '--num-classes', command),
    widthMultiplier: positiveNumber(values['width-multiplier'], '--width-multiplier', command),
  };
}

/** The CLI's model loading: the file (or standard input), warnings printed, option mismatches said (loaders are imported on first use). */
export async function loadCliModel(path: string, options: ReturnType<typeof modelOptions>): Promise<{ loaded: LoadedModel; bytes: number }> {
  const bytes = readInputFile(path, 'model');
  const { loadModel } = await import('../formats/index.ts');
  // An ONNX model's external data: the files beside it (a model read from standard input has no folder).
  const { externalDataFrom } = await import('../formats/model-file.ts');
  const externalData = isStdin(path) ? undefined : externalDataFrom(dirname(path));
  const loaded = loadModel(bytes, { fileName: basename(path), ...options, ...(externalData ? { externalData } : {}) });
  for (const w of loaded.warnings ?? []) warn(w);
  if (loaded.format !== 'safetensors') {
    const given = Object.entries(MODEL_OPTION_NAMES).filter(([key]) => options[key as keyof typeof options] !== undefined).map(([, flag]) => flag);
    if (given.length > 0) warn(`${given.join(', ')} ${given.length > 1 ? 'apply' : 'applies'} to safetensors checkpoints only; ignored for ${path} (${loaded.format})`);
  }
  return { loaded, bytes: bytes.length };
}

const MODEL_OPTION_NAMES: Record<keyof ReturnType<typeof modelOptions>, string> = {
  architecture: '--arch',
  inputSize: '--input-size',
  numClasses: '--num-classes',
  widthMultiplier: '--width-multiplier',
};

/** A non-fatal finding, as one printable line on stderr. */
export function warn(message: string): void {
  process.stderr.write(`webcnn: warning: ${oneLine(message)}\n`);
}

/**
 * Makes sure `path` is a writable directory, creating missing folders one level at a time. (Node 20's recursive
 * `mkdirSync` never returns for some paths, e.g. under `/proc`.) Called before any GPU work.
 */
export function ensureOutputDir(path: string): { undo(): void } {
  const fail = (reason: string): never => {
    throw new CliError(`cannot create output directory ${path}: ${reason}`);
  };
  const missing: string[] = [];
  let dir = resolve(path);
  for (;;) {
    let st;
    try {
      st = statSync(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') fail(fsReason(e));
      const parent = dirname(dir);
      if (parent === dir) fail('no such file system root');
      missing.unshift(dir);
      dir = parent;
      continue;
    }
    if (!st.isDirectory()) fail(dir === resolve(path) ? 'a file of that name exists' : `${dir} is not a directory`);
    try {
      accessSync(dir, fsConstants.W_OK);
    } catch (e) {
      fail(fsReason(e));
    }
    break;
  }
  const created: string[] = [];
  // A command that fails later takes back the folders it made (only those, and only while empty).
  const undo = (): void => {
    for (const d of created.reverse()) {
      try {
        rmdirSync(d);
      } catch {
        return;
      }
    }
  };
  for (const d of missing) {
    try {
      mkdirSync(d);
    } catch (e) {
      undo();
      fail(fsReason(e));
    }
    created.push(d);
  }
  return { undo };
}

/** A write to stdout that failed because its reader went away (`webcnn ... | head`): not an error of ours. */
export function isBrokenPipe(e: unknown): boolean {
  return (e as NodeJS.ErrnoException)?.code === 'EPIPE';
}

const GPU_HINT =
  'check that a GPU driver with Vulkan (Linux), Metal (macOS) or D3D12 (Windows) support is installed; on a machine ' +
  'without a GPU, point VK_ICD_FILENAMES at a software Vulkan driver, e.g. ' +
  'VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json (SwiftShader, shipped with Debian\'s chromium)';

/** A WebGPU device from Dawn; a missing adapter becomes a `CliError` with a driver hint. */
export async function acquireCliDevice(): Promise<GPUDevice> {
  const { acquireNodeDevice, loadDawn } = await import('../gpu/node-device.ts');
  // A missing 'webgpu' package is its own one-line error ('npm install webgpu'); the driver hint is for adapters.
  await loadDawn();
  try {
    const { device } = await acquireNodeDevice();
    return device;
  } catch (e) {
    if (e instanceof WebGPUUnavailableError) {
      throw new CliError(`${e.message.replace(/;.*$/s, '')}; ${GPU_HINT}`);
    }
    throw e;
  }
}

/** `[1, 3, 224, 224]`. */
export function dims(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Longest error message printed (a hostile model file can put megabytes of name into one). */
const MAX_MESSAGE_CHARS = 2000;

/** Control characters (a hostile file's names could carry terminal escapes) as `\xNN`. */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** A message on one printable line: line breaks become spaces, cut at `MAX_MESSAGE_CHARS`. */
export function oneLine(message: string): string {
  const line = printable(message.split(/\r\n|[\n\r\u2028\u2029]/).map((s) => s.trim()).filter(Boolean).join(' ')) || 'unknown error';
  return line.length > MAX_MESSAGE_CHARS ? `${line.slice(0, MAX_MESSAGE_CHARS)}… (${line.length} characters)` : line;
}

/** Writes to stdout and resolves once the data is handed to the OS (so that `process.exit` loses nothing). */
export function writeOut(text: string): Promise<void> {
  return new Promise((resolve, reject) => process.stdout.write(text, (err) => (err ? reject(err) : resolve())));
}
