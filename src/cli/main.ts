/**
 * The `webcnn` command line: `classify`, `run`, `info` and `segment`. Errors are one line on stderr (`webcnn: ...`),
 * exit status 2 for usage errors and 1 for everything else; `--verbose` adds the stack trace. The process
 * always ends explicitly (Dawn's device would otherwise keep it alive).
 */
import { pathToFileURL } from 'node:url';
import { WebcnnError } from '../errors.ts';
import { isBrokenPipe, oneLine, UsageError, writeOut } from './common.ts';

export const MAIN_USAGE = `Usage: webcnn COMMAND [options]

WebGPU inference for convolutional networks (TFLite, ONNX and safetensors models).

Commands:
  classify IMAGE... --model FILE   top classes of PNG/JPEG/BMP images
  run MODEL --input NAME=FILE.npy  run a model on .npy tensors, write its outputs as .npy
  info MODEL                       describe a model: inputs, outputs, ops, parameters, GPU memory
  segment IMAGE... --model FILE    the class of every pixel: mask and overlay PNGs, class shares

Run 'webcnn COMMAND --help' (or 'webcnn help COMMAND') for a command's options, 'webcnn --version' for the version.`;

type Command = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, () => Promise<Command>> = {
  classify: async () => (await import('./classify.ts')).classifyCommand,
  run: async () => (await import('./run.ts')).runCommand,
  info: async () => (await import('./info.ts')).infoCommand,
  segment: async () => (await import('./segment.ts')).segmentCommand,
};

/** Runs the CLI and returns the exit status; never throws. Messages go to stdout / stderr. */
export async function main(argv: readonly string[]): Promise<number> {
  const verbose = argv.includes('--verbose') || argv.includes('-v');
  const [name, ...rest] = argv;
  try {
    if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
      // `help COMMAND`; `help --help` (or any option) is plain help.
      if (name === 'help' && rest[0] !== undefined && !rest[0].startsWith('-')) {
        if (!Object.hasOwn(COMMANDS, rest[0])) throw new UsageError(`unknown command '${rest[0]}' (commands: ${Object.keys(COMMANDS).join(', ')})`);
        return await (await COMMANDS[rest[0]]())(['--help']);
      }
      if (name === undefined) {
        process.stderr.write(`${MAIN_USAGE}\n`);
        return 2;
      }
      await writeOut(`${MAIN_USAGE}\n`);
      return 0;
    }
    if (name === '--version') {
      await writeOut('webcnn 0.1.0\n');
      return 0;
    }
    const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
    if (!load) throw new UsageError(`unknown command '${name}' (commands: ${Object.keys(COMMANDS).join(', ')})`);
    return await (await load())(rest);
  } catch (e) {
    // The reader of our output went away (`webcnn classify ... | head -1`): stop quietly, as Unix tools do.
    if (isBrokenPipe(e)) return 0;
    return reportError(e, verbose);
  }
}

function reportError(e: unknown, verbose: boolean): number {
  const err = e instanceof Error ? e : new Error(String(e));
  let message = oneLine(err.message);
  if (err instanceof UsageError) {
    message += ` (see 'webcnn ${err.command ? `${err.command} ` : ''}--help')`;
  } else if (!(err instanceof WebcnnError)) {
    // Not one of webcnn's own errors: say what kind it is, since the message alone may be cryptic.
    message = `${err.name}: ${message}`;
  }
  process.stderr.write(`webcnn: ${message}\n`);
  if (verbose && err.stack) process.stderr.write(`${err.stack}\n`);
  // A wrapped error (the CLI adding the file name) keeps its own stack, for --verbose.
  if (verbose && err.cause instanceof Error && err.cause.stack) process.stderr.write(`caused by: ${err.cause.stack}\n`);
  return err instanceof UsageError ? 2 : 1;
}

/** Runs `main` and ends the process with its status once stdout and stderr are flushed. */
export async function runCli(argv: readonly string[]): Promise<never> {
  // A closed pipe also surfaces as an 'error' event on stdout; without a listener Node prints a stack and exits 1.
  process.stdout.on('error', (e) => {
    if (isBrokenPipe(e)) process.exit(0);
  });
  const code = await main(argv);
  await new Promise<void>((resolve) => process.stderr.write('', () => resolve()));
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  process.exit(code);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void runCli(process.argv.slice(2));
}
