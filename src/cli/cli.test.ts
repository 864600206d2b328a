/**
 * The `webcnn` CLI as a user meets it: spawned through `bin/webcnn.js`, checked for exit codes and one-line
 * errors. Cases that need the model loaders of other formats skip while those are missing; cases that need a
 * GPU skip only when the CLI reports that no WebGPU adapter was found (`skipWithoutAdapter`).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { PROJECT_ROOT, SHARED_CAT, SHARED_LABELS, SHARED_MODEL } from '../../test/shared.ts';
import { writeNpy, readNpy } from '../formats/npy.ts';
import { exportOnnx } from '../formats/onnx/index.ts';
import { GraphBuilder } from '../graph/builder.ts';
import { writeSafetensors } from '../formats/safetensors/index.ts';
import { mobilenetV2, mobilenetV2ParamShapes } from '../models/mobilenet-v2.ts';
import { randomParams } from '../models/params.ts';
import { runGraphReference } from '../reference/index.ts';
import { Rng } from '../util/random.ts';
import { countGraphParams, describeModel, formatInfo } from './info.ts';
import { dequantizeInput, outputFileNames, sanitizeFileName, transposeLayout } from './run.ts';

const BIN = resolve(PROJECT_ROOT, 'bin/webcnn.js');
/**
 * Hang guards, not speed checks: a child still running after CHILD_KILL_MS is killed (and its test fails), and
 * a test (up to four CLI runs that compile a model on SwiftShader, a few seconds each when idle) may take
 * TEST_TIMEOUT_MS, so that a loaded machine does not fail them.
 */
const CHILD_KILL_MS = 240_000;
const TEST_TIMEOUT_MS = 600_000;
vi.setConfig({ testTimeout: TEST_TIMEOUT_MS });
const hasLoaders = ['tflite', 'onnx'].every((f) => existsSync(resolve(PROJECT_ROOT, `src/formats/${f}/index.ts`)));
const hasClassifier = existsSync(resolve(PROJECT_ROOT, 'src/runtime/classifier.ts'));
const hasTflite = existsSync(resolve(PROJECT_ROOT, 'src/formats/tflite/index.ts'));

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string> = {}, stdin?: Uint8Array): Promise<Result> {
  return new Promise((done, fail) => {
    // The CLI must never hang (CHILD_KILL_MS).
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: PROJECT_ROOT, env: { ...process.env, ...env }, stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'], timeout: CHILD_KILL_MS, killSignal: 'SIGKILL',
    });
    if (stdin) child.stdin!.end(stdin);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

const lines = (s: string) => s.split('\n').filter((l) => l.length > 0);

/**
 * The CLI's report of the one environment a GPU case may skip in: Dawn found no WebGPU adapter (the typed
 * `WebGPUUnavailableError` of `acquireDevice`, as `acquireCliDevice` words it), exit status 1. Dawn's own
 * warnings may come before it. Any other failure that mentions WebGPU (a missing `shader-f16`, a tuning or
 * validation error) fails the test.
 */
const NO_ADAPTER = /^webcnn: no WebGPU adapter found \(GPU drivers missing or blocklisted\?\); check that a GPU driver /;
function skipWithoutAdapter(r: Result, ctx: { skip: () => void }): void {
  if (r.code === 1 && NO_ADAPTER.test(lines(r.stderr).at(-1) ?? '')) ctx.skip();
}
/** Exactly one `webcnn: ...` line on stderr, and no stack trace. */
function expectOneLineError(r: Result, code: number, pattern: RegExp): void {
  expect(r.code, r.stderr).toBe(code);
  expect(lines(r.stderr)).toHaveLength(1);
  expect(r.stderr).toMatch(/^webcnn: /);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

const tmp = mkdtempSync(join(tmpdir(), 'webcnn-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A MobileNetV2 (width 0.35, 10 classes) torchvision checkpoint from seeded random parameters. */
function tinyCheckpoint(): { file: string; params: ReturnType<typeof randomParams> } {
  const specs = mobilenetV2ParamShapes({ widthMultiplier: 0.35, numClasses: 10 });
  const params = randomParams(5);
  const file = join(tmp, 'tiny.safetensors');
  writeFileSync(file, writeSafetensors(Object.fromEntries(specs.map((s) => [s.name, { data: params.get(s.name, s.shape), shape: s.shape }]))));
  return { file, params: randomParams(5) };
}

describe('webcnn CLI: usage and errors', () => {
  it('prints help for the program and each command', async () => {
    const main = await cli(['--help']);
    expect(main.code).toBe(0);
    expect(main.stdout).toMatch(/Usage: webcnn COMMAND/);
    for (const command of ['classify', 'run', 'info']) {
      const r = await cli([command, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage: webcnn ${command}`);
      expect(r.stderr).toBe('');
    }
  });

  it('exits 2 with one line for bad usage', async () => {
    const cases: [string[], RegExp][] = [
      [['frobnicate'], /unknown command 'frobnicate'/],
      [['classify', 'cat.bmp'], /--model FILE is required \(see 'webcnn classify --help'\)/],
      [['classify', '--model', 'm.tflite'], /no image given/],
      [['classify', 'x.png', '-m', 'm', '--top', 'zero'], /--top must be a positive integer/],
      [['info', '--bogus', 'm'], /Unknown option '--bogus'/],
      [['info', 'm', '--arch', 'vgg'], /--arch must be one of mobilenet_v2, resnet50/],
      [['run', 'm.onnx', '--input', 'x.npy'], /--output-dir DIR is required/],
      [['run', 'm.onnx', '-o', 'out'], /no --input given/],
      [['help', 'bogus'], /unknown command 'bogus'/],
      [['classify', '-', '/dev/stdin', '-m', 'm.tflite'], /standard input can be read once/],
      [['classify', 'x.png', '-m', 'a.tflite', '-m', 'b.tflite'], /--model is given more than once/],
      [['classify', 'x.png', '-m', 'm', '--top', '-1'], /--top must be a positive integer, got '-1'/],
    ];
    const results = await Promise.all(cases.map(([args]) => cli(args)));
    results.forEach((r, i) => expectOneLineError(r, 2, cases[i][1]));
    const bare = await cli([]);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/Usage: webcnn COMMAND/);
  });

  it('exits 1 with one line naming a missing file; --verbose adds the stack', async () => {
    const missing = join(tmp, 'nope.tflite');
    expectOneLineError(await cli(['info', missing]), 1, new RegExp(`cannot read model ${missing}: no such file`));
    expectOneLineError(await cli(['classify', join(tmp, 'no.png'), '--model', missing]), 1, /cannot read image .*no\.png: no such file/);
    expectOneLineError(await cli(['info', tmp]), 1, /is a directory/);
    const verbose = await cli(['info', missing, '--verbose']);
    expect(verbose.code).toBe(1);
    expect(verbose.stderr).toMatch(/^webcnn: cannot read model/);
    expect(verbose.stderr).toMatch(/\n\s+at /);
  });

  it('exits 1 with one line for a bad .npy input, before loading the model', async () => {
    const bad = join(tmp, 'bad.npy');
    writeFileSync(bad, 'not numpy');
    expectOneLineError(await cli(['run', join(tmp, 'm.onnx'), '--input', `x=${bad}`, '-o', tmp]), 1, /bad\.npy: not a \.npy file/);
  });

  it('checks the output folder before any model or GPU work, and never hangs on it', async () => {
    const input = join(tmp, 'ok.npy');
    writeFileSync(input, writeNpy(new Float32Array(4), [1, 4]));
    const existing = join(tmp, 'a-file');
    writeFileSync(existing, 'x');
    // Node 20's recursive mkdir never returns under /proc; the model file does not even exist.
    const cases: [string, RegExp][] = [
      ['/proc/webcnn-nope/out', /cannot create output directory \/proc\/webcnn-nope\/out: /],
      [existing, /cannot create output directory .*a-file: a file of that name exists/],
      [join(existing, 'sub'), /cannot create output directory .*a-file\/sub: a parent is not a directory/],
    ];
    for (const [dir, pattern] of cases) expectOneLineError(await cli(['run', join(tmp, 'missing.onnx'), '-i', input, '-o', dir]), 1, pattern);
    // A run that fails after making the output folders takes them back.
    const fresh = join(tmp, 'fresh-out');
    expectOneLineError(await cli(['run', join(tmp, 'missing.onnx'), '-i', input, '-o', join(fresh, 'sub')]), 1, /cannot read model/);
    expect(existsSync(fresh)).toBe(false);
  });

  it('reads pipes but refuses other devices (/dev/zero would never end), and help --help is help', async () => {
    expectOneLineError(await cli(['classify', '/dev/zero', '-m', 'm.tflite']), 1, /image \/dev\/zero is not a file/);
    const help = await cli(['help', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: webcnn COMMAND/);
  });

  it('fails cleanly when a labels file is missing', async () => {
    const img = join(tmp, 'img.bmp');
    writeFileSync(img, 'BM');
    expectOneLineError(await cli(['classify', img, '-m', 'x', '--labels', join(tmp, 'labels.txt')]), 1, /cannot read labels file/);
  });
});

describe.skipIf(!hasLoaders)('webcnn CLI: model files', () => {
  it('names a file that is no model it knows', async () => {
    const junk = join(tmp, 'junk.bin');
    writeFileSync(junk, new Uint8Array(64).fill(0xee));
    expectOneLineError(await cli(['info', junk]), 1, /junk\.bin: not a TFLite, ONNX or safetensors model/);
  });

  it('asks for --arch for a safetensors checkpoint, and describes it with one', async () => {
    const { file } = tinyCheckpoint();
    expectOneLineError(await cli(['info', file]), 1, /safetensors checkpoint.*pass the architecture option.*CLI: --arch/);
    const r = await cli(['info', file, '--arch', 'mobilenet_v2', '--input-size', '64', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info).toMatchObject({ format: 'safetensors', inputs: [{ name: 'input', shape: [1, 3, 64, 64] }], outputs: [{ shape: [1, 10] }] });
    expect(info.ops.conv2d).toBe(52);
    expect(info.kernels.depthwise).toBe(17);
    expect(info.metadata['width multiplier']).toBe(0.35);
    expect(info.memory.weightBytes).toBeGreaterThan(info.parameters * 4 * 0.9);
  });
});

// formats/index.ts imports every loader, so this needs all of them (not only the TFLite one).
describe.skipIf(!hasLoaders || !hasTflite || !existsSync(SHARED_MODEL))('webcnn info on the shared TFLite MobileNetV2', () => {
  it('describes inputs, outputs, ops, parameters and memory', async () => {
    const r = await cli(['info', SHARED_MODEL]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/model: +mobilenet_v2_1\.0_224_quant\.tflite \(tflite/);
    expect(r.stdout).toMatch(/\[1, 224, 224, 3\] +\(graph NCHW \[1, 3, 224, 224\]\)/);
    expect(r.stdout).toMatch(/\[1, 1001\]/);
    expect(r.stdout).toMatch(/parameters: +3,\d{3},\d{3}/);
    expect(r.stdout).toMatch(/GPU memory: .* MiB planned/);
    const json = JSON.parse((await cli(['info', SHARED_MODEL, '--json'])).stdout);
    expect(json.format).toBe('tflite');
    expect(json.inputs[0].shape).toEqual([1, 224, 224, 3]);
    expect(json.outputs[0].shape).toEqual([1, 1001]);
  });
});

describe.skipIf(!hasLoaders)('webcnn on the GPU', () => {
  it('run: writes the outputs of a safetensors MobileNetV2 matching the CPU reference', async (ctx) => {
    const { file } = tinyCheckpoint();
    const size = 32;
    const input = new Rng(9).fill(3 * size * size, -1, 1);
    const npy = join(tmp, 'input.npy');
    writeFileSync(npy, writeNpy(input, [1, 3, size, size]));
    const out = join(tmp, 'out');
    const r = await cli(['run', file, '--arch', 'mobilenet_v2', '--input-size', String(size), '--input', `input=${npy}`, '--output-dir', out]);
    skipWithoutAdapter(r, ctx);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(out)).toHaveLength(1);
    const written = readNpy(readFileSync(join(out, readdirSync(out)[0])));
    expect(written.shape).toEqual([1, 10]);
    const graph = mobilenetV2({ params: randomParams(5), widthMultiplier: 0.35, numClasses: 10, inputSize: size });
    const [want] = runGraphReference(graph, [input]);
    const scale = Math.max(...want.map(Math.abs));
    for (let i = 0; i < want.length; i++) expect(Math.abs(written.data[i] - want[i])).toBeLessThanOrEqual(1e-4 * scale + 1e-5);
    // --precision f16-packed: same files, within the f16 network bar (test/gpu-cases.ts f16Tolerance).
    const out16 = join(tmp, 'out16');
    const r16 = await cli(['run', file, '--arch', 'mobilenet_v2', '--input-size', String(size), '-i', npy, '-o', out16, '--precision', 'f16-packed']);
    expect(r16.code, r16.stderr).toBe(0);
    const half = readNpy(readFileSync(join(out16, readdirSync(out16)[0])));
    expect(half.shape).toEqual([1, 10]);
    for (let i = 0; i < want.length; i++) expect(Math.abs(half.data[i] - want[i])).toBeLessThanOrEqual(1e-2 * scale + 1e-4);
    // A wrong input shape is one line naming the expected one.
    writeFileSync(npy, writeNpy(input, [1, size, size, 3]));
    expectOneLineError(
      await cli(['run', file, '--arch', 'mobilenet_v2', '--input-size', String(size), '-i', npy, '-o', out]),
      1,
      /input 'input' needs shape \[1, 3, 32, 32\], the file has \[1, 32, 32, 3\]/,
    );
  });

  it.skipIf(!hasClassifier || !existsSync(SHARED_CAT))('classify: the shared cat is an Egyptian cat', async (ctx) => {
    const r = await cli(['classify', SHARED_CAT, '--model', SHARED_MODEL, '--labels', SHARED_LABELS, '--top', '3', '--json']);
    skipWithoutAdapter(r, ctx);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(lines(r.stdout)[0]);
    expect(result.image).toBe(SHARED_CAT);
    expect(result.top).toHaveLength(3);
    expect(result.top.map((t: { index: number }) => t.index)).toContain(286);
    expect(result.top.find((t: { index: number }) => t.index === 286)).toMatchObject({ label: 'Egyptian cat' });
    expect(typeof result.ms).toBe('number');
    // The table format (a file's name, size and time, then the header) is checked on the next test's images.
  });

  it.skipIf(!hasClassifier || !existsSync(SHARED_CAT))('classify: skips a non-image, shrinks an image wider than the largest texture, reads a pipe, escapes labels', async (ctx) => {
    const notImage = join(tmp, 'notimage.png');
    writeFileSync(notImage, 'plain text');
    // A 20000 x 1 24-bit BMP: wider than any WebGPU device's default largest texture (8192).
    const width = 20000;
    const row = Math.ceil((width * 3) / 4) * 4;
    const wide = new Uint8Array(54 + row);
    const v = new DataView(wide.buffer);
    wide.set([0x42, 0x4d]);
    v.setUint32(2, wide.length, true);
    v.setUint32(10, 54, true);
    v.setUint32(14, 40, true);
    v.setInt32(18, width, true);
    v.setInt32(22, 1, true);
    v.setUint16(26, 1, true);
    v.setUint16(28, 24, true);
    wide.fill(128, 54);
    const wideFile = join(tmp, 'wide.bmp');
    writeFileSync(wideFile, wide);
    // Labels with a terminal escape and a bell in the cat's line.
    const labels = readFileSync(SHARED_LABELS, 'utf8').split('\n');
    labels[286] = '\u001b[31mEgyptian cat\u0007';
    const evil = join(tmp, 'evil-labels.txt');
    writeFileSync(evil, labels.join('\n'));
    const r = await cli(['classify', notImage, wideFile, '/dev/stdin', '--model', SHARED_MODEL, '--labels', evil, '-k', '1'], {}, readFileSync(SHARED_CAT));
    skipWithoutAdapter(r, ctx);
    expect(r.code, r.stderr).toBe(1);
    expect(lines(r.stderr), r.stderr).toEqual([`webcnn: ${notImage}: not a PNG, JPEG or BMP image`]);
    const shrunk = /wide\.bmp \((\d+)x1, /.exec(r.stdout);
    expect(shrunk, r.stdout).not.toBeNull();
    expect(Number(shrunk![1])).toBeLessThan(width);
    expect(r.stdout).toMatch(/\/dev\/stdin \(512x341, [\d.]+ ms\)\n +rank +class +score +label\n +1 +286 +[\d.]+  \\x1b\[31mEgyptian cat\\x07\n/);
    expect(r.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
  });

  it.skipIf(!hasClassifier || !existsSync(SHARED_CAT))('classify into a pipe that closes early ends quietly', async (ctx) => {
    const r = await new Promise<Result>((done, fail) => {
      const args = [BIN, 'classify', SHARED_CAT, SHARED_CAT, SHARED_CAT, '--model', SHARED_MODEL, '--json'].map((a) => `'${a}'`).join(' ');
      const child = spawn('bash', ['-c', `'${process.execPath}' ${args} | head -c 1 >/dev/null; exit \${PIPESTATUS[0]}`], {
        cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'], timeout: CHILD_KILL_MS, killSignal: 'SIGKILL',
      });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', fail);
      child.on('close', (code) => done({ code, stdout: '', stderr }));
    });
    skipWithoutAdapter(r, ctx);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it.skipIf(!existsSync(SHARED_MODEL))('run: a quantized TFLite input takes its own uint8 values, dequantized, as it takes the real values', async (ctx) => {
    const rng = new Rng(9);
    const pixels = Uint8Array.from({ length: 224 * 224 * 3 }, () => Math.floor(rng.next() * 256));
    // A .npy of dtype |u1 (version 1.0, header padded to 64 bytes).
    const dict = "{'descr': '|u1', 'fortran_order': False, 'shape': (1, 224, 224, 3), }";
    const header = `${dict}${' '.repeat(64 - ((10 + dict.length + 1) % 64))}\n`;
    const u8 = new Uint8Array(10 + header.length + pixels.length);
    u8.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 0xff, header.length >> 8]);
    u8.set(new TextEncoder().encode(header), 10);
    u8.set(pixels, 10 + header.length);
    const quantized = join(tmp, 'pixels-u8.npy');
    writeFileSync(quantized, u8);
    const real = join(tmp, 'pixels-f32.npy');
    writeFileSync(real, writeNpy(Float32Array.from(pixels, (p) => (p - 128) / 128), [1, 224, 224, 3]));
    const a = await cli(['run', SHARED_MODEL, '-i', quantized, '-o', join(tmp, 'q-out')]);
    skipWithoutAdapter(a, ctx);
    expect(a.code, a.stderr).toBe(0);
    const b = await cli(['run', SHARED_MODEL, '-i', real, '-o', join(tmp, 'f-out')]);
    expect(b.code, b.stderr).toBe(0);
    const [outQ] = readdirSync(join(tmp, 'q-out'));
    const q = readNpy(readFileSync(join(tmp, 'q-out', outQ))).data;
    const f = readNpy(readFileSync(join(tmp, 'f-out', outQ))).data;
    expect(q.length).toBe(1001);
    expect([...q]).toEqual([...f]);
  });

  it.skipIf(!existsSync(SHARED_MODEL))('info on a TFLite file cut inside its label archive: exit 0, one warning line', async () => {
    const path = join(tmp, 'cut.tflite');
    writeFileSync(path, readFileSync(SHARED_MODEL).subarray(0, 3600000));
    const r = await cli(['info', path]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe(
      'webcnn: warning: cut.tflite: the zip archive of associated files (labels) appended at byte 3588976 is truncated ' +
        'or corrupt (no end-of-central-directory record); the model loads, but its labels are unavailable\n',
    );
    expect(r.stdout).toMatch(/^labels: +none in the model$/m);
  });

  it.skipIf(!hasClassifier || !existsSync(SHARED_CAT))('classify with a model that is no image classifier names the model; --verbose shows the original error too', async (ctx) => {
    const b = new GraphBuilder();
    b.output(b.linear(b.input('features', [1, 4, 1, 1]), { outFeatures: 2, weight: new Float32Array(8) }));
    const model = join(tmp, 'linear.onnx');
    writeFileSync(model, exportOnnx(b.build()));
    const r = await cli(['classify', SHARED_CAT, '-m', model]);
    skipWithoutAdapter(r, ctx);
    expectOneLineError(r, 1, new RegExp(`^webcnn: model ${model}: the model has no image preprocessing`));
    const verbose = await cli(['classify', SHARED_CAT, '-m', model, '--verbose']);
    expect(verbose.code, verbose.stderr).toBe(1);
    expect(verbose.stderr).toMatch(/\ncaused by: UnsupportedFeatureError: the model has no image preprocessing/);
  });

  it.skipIf(!existsSync(SHARED_MODEL))('warns that checkpoint options do not apply to a TFLite model', async () => {
    const r = await cli(['info', SHARED_MODEL, '--arch', 'resnet50', '--num-classes', '5']);
    expect(r.code, r.stderr).toBe(0);
    expect(lines(r.stderr)).toEqual([
      `webcnn: warning: --arch, --num-classes apply to safetensors checkpoints only; ignored for ${SHARED_MODEL} (tflite)`,
    ]);
  });

  it.skipIf(!hasClassifier || !existsSync(SHARED_CAT))('classify --precision: f16-packed still says Egyptian cat >= 0.7; f16 needs shader-f16; bad values are usage errors', async (ctx) => {
    const args = ['classify', SHARED_CAT, '--model', SHARED_MODEL, '--labels', SHARED_LABELS, '--top', '1', '--json'];
    const packed = await cli([...args, '--precision', 'f16-packed']);
    skipWithoutAdapter(packed, ctx);
    expect(packed.code, packed.stderr).toBe(0);
    const [top] = JSON.parse(lines(packed.stdout)[0]).top;
    expect(top).toMatchObject({ index: 286, label: 'Egyptian cat' });
    expect(top.score).toBeGreaterThanOrEqual(0.7);
    const native = await cli([...args, '--precision', 'f16']);
    if (native.code === 0) expect(JSON.parse(lines(native.stdout)[0]).top[0].index).toBe(286);
    else expectOneLineError(native, 1, /precision 'f16' needs the WebGPU feature 'shader-f16'/);
    expectOneLineError(await cli([...args, '--precision', 'half']), 2, /--precision must be one of f32, f16, f16-packed, auto, got 'half'/);
  });
});

describe('run and info helpers', () => {
  it('dequantizes an input given in its own quantized dtype, and refuses another integer dtype', () => {
    const q = { type: 'uint8', scale: 0.5, zeroPoint: 10 } as const;
    const array = (dtype: string) => ({ data: new Float32Array([0, 10, 255]), shape: [3], dtype });
    expect([...dequantizeInput(q, array('|u1'), 'x.npy', 'input')]).toEqual([-5, 0, 122.5]);
    expect([...dequantizeInput(q, array('<f4'), 'x.npy', 'input')]).toEqual([0, 10, 255]);
    expect([...dequantizeInput(null, array('|u1'), 'x.npy', 'input')]).toEqual([0, 10, 255]);
    expect([...dequantizeInput({ type: 'int8', scale: 2, zeroPoint: -1 }, array('|i1'), 'x.npy', 'input')]).toEqual([2, 22, 512]);
    expect(() => dequantizeInput(q, array('<i4'), 'x.npy', 'input')).toThrow(
      "x.npy: input 'input' is uint8-quantized; give its uint8 values (dtype u1) or the real values as floats, not <i4",
    );
  });


  it('sanitizes output names into unique file names', () => {
    expect(sanitizeFileName('MobilenetV2/Predictions/Reshape_1', 'o')).toBe('MobilenetV2_Predictions_Reshape_1');
    expect(sanitizeFileName('../../etc/passwd', 'o')).toBe('etc_passwd');
    expect(sanitizeFileName('???', 'output_0')).toBe('output_0');
    expect(sanitizeFileName('.hidden', 'o')).toBe('hidden');
    expect(outputFileNames(['a/b', 'a:b', 'A_B', ''])).toEqual(['a_b', 'a_b_1', 'A_B_2', 'output_3']);
  });

  it('transposes NHWC <-> NCHW', () => {
    const nhwc = Float32Array.from({ length: 2 * 3 * 2 * 4 }, (_, i) => i); // n=2, h=3, w=2, c=4
    const nchw = transposeLayout(nhwc, [2, 4, 3, 2], true);
    expect(nchw[((1 * 4 + 2) * 3 + 1) * 2 + 0]).toBe(nhwc[((1 * 3 + 1) * 2 + 0) * 4 + 2]);
    expect(transposeLayout(nchw, [2, 4, 3, 2], false)).toEqual(nhwc);
  });

  it('counts parameters as PyTorch does and describes a graph without a GPU', async () => {
    const graph = mobilenetV2({ params: randomParams(1), inputSize: 64 });
    expect(countGraphParams(graph)).toEqual({ parameters: 3_504_872, buffers: 34_112 });
    const info = await describeModel(
      { format: 'safetensors', graph, inputDims: [[1, 3, 64, 64]], outputDims: [[1, 1000]], outputsProbabilities: false, metadata: { architecture: 'mobilenet_v2' } },
      'm.safetensors',
      1234,
    );
    expect(info.planError).toBeUndefined();
    expect(info.ops).toMatchObject({ conv2d: 52, batchNorm: 52, add: 10, linear: 1 });
    expect(info.kernels).toMatchObject({ depthwise: 17, layout: 2 });
    expect(info.memory!.activationPeakBytes).toBeLessThan(info.memory!.activationUnplannedBytes);
    const text = formatInfo(info);
    expect(text).toContain('parameters:  3,504,872 (+ 34,112 batch-norm statistics)');
    // Software default: pool and FC apart; the GPU default fuses them into one launch.
    expect([info.dispatches, info.dispatchesGpuDefault]).toEqual([56, 55]);
    expect(text).toMatch(/kernels: +56 dispatches after folding and fusion with the software default tiles \(.*\); 55 with the GPU default/);
    expect(text).toContain('  architecture: mobilenet_v2');
  });
});

describe('npm run fetch-model', () => {
  const script = resolve(PROJECT_ROOT, 'scripts/fetch-model.ts');
  const tsx = resolve(PROJECT_ROOT, 'node_modules/tsx/dist/cli.mjs');
  const fetchModel = (env: Record<string, string>) =>
    new Promise<Result>((done, fail) => {
      const child = spawn(process.execPath, [tsx, script], { cwd: PROJECT_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', fail);
      child.on('close', (code) => done({ code, stdout, stderr }));
    });

  it.skipIf(!existsSync(SHARED_MODEL))('verifies and reports the shared model', async () => {
    const r = await fetchModel({});
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(SHARED_MODEL);
  });

  it('rejects a file whose sha256 does not match', async () => {
    const shared = mkdtempSync(join(tmp, 'shared-'));
    const dir = join(shared, 'models');
    mkdirSync(dir);
    writeFileSync(join(dir, 'mobilenet_v2_1.0_224_quant.tflite'), 'not the model');
    const r = await fetchModel({ WEBCNN_SHARED: shared });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/sha256 mismatch \(expected 7aad0c74/);
  });

  it('fails fast with a clear message when the download fails', async () => {
    const empty = mkdtempSync(join(tmp, 'empty-'));
    const start = Date.now();
    const r = await fetchModel({ WEBCNN_SHARED: empty, WEBCNN_MODELS_DIR: join(empty, 'models'), WEBCNN_MODEL_URL: 'http://127.0.0.1:59999/model.tflite', WEBCNN_FETCH_TIMEOUT_MS: '5000' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/fetch-model: cannot download http:\/\/127\.0\.0\.1:59999\/model\.tflite: /);
    expect(Date.now() - start).toBeLessThan(15_000);
    expect(existsSync(join(empty, 'models', 'mobilenet_v2_1.0_224_quant.tflite'))).toBe(false);
  });
});
