/**
 * The CLI finds an ONNX model's external data next to the model file (`webcnn info` / `run` / `classify`), and a
 * missing one is one `webcnn: ...` line naming the file, the tensor and where it was looked for.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../test/shared.ts';
import { readNpy, writeNpy } from '../formats/npy.ts';
import { attr, externalizeTensors, loadOnnx, makeNode, makeTensor } from '../formats/onnx/index.ts';
import { onnxModel } from '../../test/onnx-helpers.ts';
import { runGraphReference } from '../reference/index.ts';
import { Rng } from '../util/random.ts';

const BIN = resolve(PROJECT_ROOT, 'bin/webcnn.js');

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'], timeout: 240_000, killSignal: 'SIGKILL' });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

const tmp = mkdtempSync(join(tmpdir(), 'webcnn-cli-external-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A 3x3 conv + Relu whose weights sit in `weights.bin` beside `net.onnx`; returns the inline model. */
function writeModel(): Uint8Array {
  const rng = new Rng(4);
  const initializers = [makeTensor('w', [4, 3, 3, 3], rng.fill(108, -1, 1)), makeTensor('b', [4], rng.fill(4, -1, 1))];
  const spec = (inits: typeof initializers) =>
    onnxModel({
      nodes: [makeNode('Conv', ['x', 'w', 'b'], ['c'], { pads: attr.ints([1, 1, 1, 1]) }, 'conv'), makeNode('Relu', ['c'], ['y'], {}, 'relu')],
      inputs: [['x', [1, 3, 8, 8]]],
      outputs: [['y', [1, 4, 8, 8]]],
      initializers: inits,
    });
  const { tensors, data } = externalizeTensors(initializers, 'weights.bin');
  writeFileSync(join(tmp, 'net.onnx'), spec(tensors));
  writeFileSync(join(tmp, 'weights.bin'), data);
  mkdirSync(join(tmp, 'alone'));
  writeFileSync(join(tmp, 'alone', 'lonely.onnx'), spec(tensors));
  return spec(initializers);
}

describe('webcnn CLI with ONNX external data', () => {
  const inline = writeModel();

  it('info reads the weights beside the model; a model without them is one error line', async () => {
    const info = await cli(['info', join(tmp, 'net.onnx')]);
    expect(info.code, info.stderr).toBe(0);
    expect(info.stdout).toMatch(/ONNX/);
    const missing = await cli(['info', join(tmp, 'alone', 'lonely.onnx')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toMatch(
      new RegExp(`^webcnn: lonely.onnx: initializer 'w': external data file 'weights.bin' not found \\(${tmp}/alone/weights.bin\\)`),
    );
  });

  it('run computes with them (matching the CPU reference of the inline model)', async () => {
    const input = new Rng(8).fill(3 * 8 * 8, -1, 1);
    const npy = join(tmp, 'x.npy');
    writeFileSync(npy, writeNpy(input, [1, 3, 8, 8]));
    const out = join(tmp, 'out');
    const r = await cli(['run', join(tmp, 'net.onnx'), '-i', `x=${npy}`, '-o', out]);
    if (r.code === 1 && /no WebGPU adapter found/.test(r.stderr)) return;
    expect(r.code, r.stderr).toBe(0);
    const got = readNpy(readFileSync(join(out, readdirSync(out)[0])));
    const [want] = runGraphReference(loadOnnx(inline).graph, [input]);
    const scale = Math.max(...want.map(Math.abs));
    for (let i = 0; i < want.length; i++) expect(Math.abs(got.data[i] - want[i])).toBeLessThanOrEqual(1e-4 * scale + 1e-5);
  });
});
