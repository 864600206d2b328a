/**
 * The CLI on broken and hostile model files (the kinds `npm run fuzz` produces): `webcnn info`, `webcnn classify`
 * and `webcnn segment` end with status 1 and exactly one `webcnn: ...` line on stderr, no stack trace (unless
 * --verbose), never a signal or a hang.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, SHARED_MODEL } from '../../test/shared.ts';
import { tfliteClassifier } from '../../test/fuzz/corpus.ts';
import { deepSubgraphs, emptyNodes } from '../../test/fuzz/onnx.ts';
import { joinHeader } from '../../test/fuzz/safetensors.ts';
import { sharedTables } from '../../test/fuzz/tflite.ts';
import { Rng } from '../util/random.ts';
import { oneLine } from './common.ts';

const BIN = resolve(PROJECT_ROOT, 'bin/webcnn.js');

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

function cli(args: string[]): Promise<Result> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: PROJECT_ROOT, stdio: ['ignore', 'ignore', 'pipe'], timeout: 50_000, killSignal: 'SIGKILL' });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', fail);
    child.on('close', (code, signal) => done({ code, signal, stderr }));
  });
}

const tmp = mkdtempSync(join(tmpdir(), 'webcnn-cli-fuzzed-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function file(name: string, bytes: Uint8Array | string): string {
  const path = join(tmp, name);
  writeFileSync(path, bytes);
  return path;
}

const truncatedTflite = () => {
  const bytes = existsSync(SHARED_MODEL) ? new Uint8Array(readFileSync(SHARED_MODEL)) : tfliteClassifier('uint8', 3);
  return bytes.subarray(0, Math.floor(bytes.length * 0.6));
};
const garbageOnnx = () => {
  const rng = new Rng(42);
  const bytes = Uint8Array.from({ length: 4096 }, () => rng.int(0, 255));
  bytes[0] = 0x08; // looks like ir_version
  return bytes;
};

/** name, bytes, extra arguments, what the one line says. */
const CASES: [string, () => Uint8Array, string[], RegExp][] = [
  ['truncated.tflite', truncatedTflite, [], /^webcnn: truncated\.tflite: tflite: .*(outside|truncated)/],
  ['garbage.onnx', garbageOnnx, [], /^webcnn: garbage\.onnx: not an ONNX model/],
  ['garbage.bin', garbageOnnx, [], /^webcnn: garbage\.bin: not a TFLite, ONNX or safetensors model/],
  ['huge-length.safetensors', () => joinHeader('{}', new Uint8Array(0), 0xffffffffffffffffn), ['--arch', 'mobilenet_v2'], /^webcnn: huge-length\.safetensors: safetensors: header length over 2\^53 exceeds the file size \(10 bytes\)$/],
  ['nested.safetensors', () => joinHeader(`{"a":${'['.repeat(200_000)}${']'.repeat(200_000)}}`, new Uint8Array(0)), ['--arch', 'mobilenet_v2'], /^webcnn: nested\.safetensors: safetensors: tensor "a": entry is not an object/],
  ['huge-shape.safetensors', () => joinHeader('{"classifier.1.weight":{"dtype":"F32","shape":[1099511627776,1099511627776],"data_offsets":[0,0]}}', new Uint8Array(0)), ['--arch', 'mobilenet_v2'], /^webcnn: huge-shape\.safetensors: safetensors: tensor "classifier\.1\.weight": F32 shape/],
  ['empty-nodes.onnx', () => emptyNodes(1_000_000), [], /^webcnn: empty-nodes\.onnx: ONNX protobuf: decoding this 2000006-byte file would take more than/],
  ['deep.onnx', () => deepSubgraphs(20_000), [], /^webcnn: deep\.onnx: ONNX protobuf: messages nest deeper than 64 levels/],
  ['shared-tables.tflite', () => sharedTables(100_000, 1, 100_000, 16), [], /^webcnn: shared-tables\.tflite: tflite: model\.subgraphs\[0\]\.tensors\[1\]: is the same table as entry 0/],
];

function expectOneLine(r: Result, pattern: RegExp): void {
  expect(r.signal, r.stderr).toBeNull();
  expect(r.code, r.stderr).toBe(1);
  const lines = r.stderr.split('\n').filter((l) => l.length > 0);
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^webcnn: /);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(lines[0].length).toBeLessThan(2100);
}

describe('webcnn CLI on broken and hostile model files', () => {
  const paths = CASES.map(([name, make]) => file(name, make()));
  // A PNG signature passes classify's early check of the image; the rest is never decoded: the model fails first.
  const image = file('image.png', new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...new TextEncoder().encode('not decoded')]));

  it('info: exit 1, one line on stderr, no stack', async () => {
    const results = await Promise.all(CASES.map(([, , extra], i) => cli(['info', paths[i], ...extra])));
    results.forEach((r, i) => expectOneLine(r, CASES[i][3]));
  }, 120_000);

  it('classify: exit 1, one line on stderr, no stack', async () => {
    const results = await Promise.all(CASES.map(([, , extra], i) => cli(['classify', image, '--model', paths[i], ...extra])));
    results.forEach((r, i) => expectOneLine(r, CASES[i][3]));
  }, 120_000);

  it('segment: exit 1, one line on stderr, no stack', async () => {
    const results = await Promise.all(CASES.map(([, , extra], i) => cli(['segment', image, '--model', paths[i], '--out', join(tmp, 'masks'), ...extra])));
    results.forEach((r, i) => expectOneLine(r, CASES[i][3]));
    expect(existsSync(join(tmp, 'masks'))).toBe(false);
  }, 120_000);

  it('--verbose adds the stack', async () => {
    const r = await cli(['info', paths[0], '--verbose']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^webcnn: truncated\.tflite: /);
    expect(r.stderr).toMatch(/\n\s+at /);
  });
});

describe('oneLine', () => {
  it('joins lines, escapes control characters and cuts very long messages', () => {
    expect(oneLine('a\nb\r\nc\u2028d')).toBe('a b c d');
    expect(oneLine('name \u001b[2J\u0007 end')).toBe('name \\x1b[2J\\x07 end');
    const long = oneLine('x'.repeat(5000));
    expect(long.length).toBeLessThan(2100);
    expect(long).toMatch(/… \(5000 characters\)$/);
    expect(oneLine('\n\n')).toBe('unknown error');
  });
});
