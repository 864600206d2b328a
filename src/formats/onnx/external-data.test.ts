/**
 * ONNX external data: tensors kept in other files load from `externalData` (bytes by location, a map, or a
 * function), from the files beside the model in Node (`loadModelFile`, the CLI), and as onnx's own Python writer
 * lays them out; a missing file, a hostile location, a range past the file or a length that does not fit the
 * tensor is a one-line `ExternalDataError` naming the tensor.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ExternalDataError, ModelFileError, WebcnnError } from '../../errors.ts';
import { Rng, convHeadModel, convHeadWeights, onnxModel, thrown } from '../../../test/onnx-helpers.ts';
import { loadModel } from '../index.ts';
import { loadModelFile } from '../model-file.ts';
import { runGraphReference } from '../../reference/index.ts';
import type { TensorInit } from './index.ts';
import { attr, encodeModel, externalizeTensors, loadOnnx, makeGraph, makeModel, makeNode, makeTensor, makeValueInfo } from './index.ts';

const weights = (): TensorInit[] => convHeadWeights(5);
const model = convHeadModel;

const INPUT = new Rng(9).fill(3 * 8 * 8, -1, 1);
const reference = (bytes: Uint8Array, options = {}) => runGraphReference(loadOnnx(bytes, options).graph, [INPUT]);
const inline = reference(model(weights()));

/** The model with its weights in one external file `location`, and that file. */
function external(location = 'weights.bin', align = 1): { bytes: Uint8Array; data: Uint8Array; tensors: TensorInit[] } {
  const { tensors, data } = externalizeTensors(weights(), location, align);
  return { bytes: model(tensors), data, tensors };
}

/** The model with the entries of initializer `w` edited by `edit`. */
function editedW(edit: (entries: { key: string; value: string }[], t: TensorInit) => void): { bytes: Uint8Array; data: Uint8Array } {
  const { tensors, data } = externalizeTensors(weights(), 'weights.bin');
  const w = tensors.find((t) => t.name === 'w')!;
  const entries = w.external_data!.map((e) => ({ ...e }));
  edit(entries, w);
  w.external_data = entries;
  return { bytes: model(tensors), data };
}

function expectExternalError(fn: () => unknown, pattern: RegExp): void {
  const e = thrown(fn);
  expect(e, e.stack).toBeInstanceOf(ExternalDataError);
  expect(e.message).not.toContain('\n');
  expect(e.message).toMatch(pattern);
}

describe('ONNX external data', () => {
  it('loads weights from externalData (record, map, function, ./ prefixes, aligned offsets) as if they were inline', () => {
    const { bytes, data } = external();
    expect(reference(bytes, { externalData: { 'weights.bin': data } })).toEqual(inline);
    expect(reference(bytes, { externalData: new Map([['./weights.bin', data]]) })).toEqual(inline);
    const asked: string[] = [];
    const fn = (location: string) => (asked.push(location), location === 'weights.bin' ? data : undefined);
    expect(reference(bytes, { externalData: fn })).toEqual(inline);
    expect(asked).toEqual(['weights.bin']); // once per file, not per tensor
    const aligned = external('./sub/dir/w.data', 4096);
    expect(aligned.data.length).toBe(4 * 4096);
    expect(reference(aligned.bytes, { externalData: { 'sub/dir/w.data': aligned.data } })).toEqual(inline);
    // Through loadModel, with and without a file name (ONNX sniffed from the bytes).
    for (const fileName of ['m.onnx', undefined]) {
      const loaded = loadModel(bytes, { ...(fileName ? { fileName } : {}), externalData: { 'weights.bin': data } });
      expect(runGraphReference(loaded.graph, [INPUT])).toEqual(inline);
    }
  });

  it('a tensor without a length entry reads to the end of its file; one file per tensor works (torch.onnx.export)', () => {
    const files: Record<string, Uint8Array> = {};
    const tensors = weights().map((t) => {
      const moved = externalizeTensors([t], `${t.name}.bin`);
      files[`${t.name}.bin`] = moved.data;
      return { ...moved.tensors[0], external_data: moved.tensors[0].external_data!.filter((e) => e.key === 'location') };
    });
    expect(reference(model(tensors), { externalData: files })).toEqual(inline);
  });

  it('externalizeTensors refuses an alignment that is not a positive integer', () => {
    for (const align of [0, -4, 2.5, Number.NaN]) expect(() => externalizeTensors(weights(), 'w.bin', align)).toThrow(RangeError);
  });

  it('Constant nodes may keep their value externally too', () => {
    const { tensors, data } = externalizeTensors([makeTensor('', [1, 2, 1, 1], [2, -3])], 'c.bin');
    const graph = makeGraph({
      nodes: [makeNode('Constant', [], ['k'], { value: attr.tensor(tensors[0]) }), makeNode('Mul', ['x', 'k'], ['y'])],
      inputs: [makeValueInfo('x', [1, 2, 2, 2])],
      outputs: [makeValueInfo('y', null)],
    });
    const bytes = encodeModel(makeModel({ graph }));
    const [y] = runGraphReference(loadOnnx(bytes, { externalData: { 'c.bin': data } }).graph, [new Float32Array(8).fill(1)]);
    expect(Array.from(y)).toEqual([2, 2, 2, 2, -3, -3, -3, -3]);
    expectExternalError(() => loadOnnx(bytes), /node 0 \(Constant\) attribute 'value' keeps its data in the external file 'c.bin', which was not given/);
  });

  it('a missing file names itself and the tensor, whichever way the files were given', () => {
    const { bytes, data } = external();
    expectExternalError(() => loadOnnx(bytes), /initializer 'w' keeps its data in the external file 'weights.bin', which was not given \(pass it as loadModel/);
    expectExternalError(() => loadOnnx(bytes, { externalData: { 'other.bin': data } }), /'weights.bin', which was not given \(externalData has no entry of that name\)/);
    expectExternalError(() => loadOnnx(bytes, { externalData: () => undefined }), /the externalData function returned nothing/);
    expectExternalError(() => loadOnnx(bytes, { externalData: () => { throw new Error('disk on fire\nsecond line'); } }), /^initializer 'w': disk on fire$/);
    // Not a format guess that moves on: the model is ONNX, its data is missing.
    expectExternalError(() => loadModel(bytes), /initializer 'w' keeps its data in the external file 'weights.bin'/);
    expectExternalError(() => loadModel(bytes, { fileName: 'net.onnx' }), /^net.onnx: initializer 'w'/);
    expectExternalError(() => loadOnnx(bytes, { externalData: { 'weights.bin': [1, 2] as unknown as Uint8Array } }), /is a Array, not a Uint8Array/);
  });

  it('refuses hostile locations before asking for any file', () => {
    for (const location of ['../weights.bin', '/etc/passwd', 'a/../../b', 'a/./b', 'C:\\w.bin', 'c:w', 'a\\b', '', 'a//b', 'a/', '..', 'x\u0000y', 'sub/..']) {
      const { bytes, data } = editedW((entries) => (entries[0].value = location));
      const asked: string[] = [];
      expectExternalError(
        () => loadOnnx(bytes, { externalData: (l) => (asked.push(l), data) }),
        /initializer 'w': external data location .* is not a relative path inside the model's folder/,
      );
      expect(asked).toEqual([]);
    }
  });

  it('refuses ranges past the file, lengths that do not fit the tensor and malformed entries', () => {
    const cases: [(entries: { key: string; value: string }[], t: TensorInit) => void, RegExp][] = [
      [(e) => (e[1].value = '1000000'), /offset 1000000, length 432 runs past the end of 'weights.bin' \(548 bytes\)/],
      [(e) => (e[2].value = '100000'), /length 100000 runs past the end/],
      [(e) => (e[1].value = '500'), /offset 500, length 432 runs past the end/],
      [(e) => (e[2].value = '428'), /external data in 'weights.bin' has 428 bytes, expected 432 for 108 FLOAT values \(dims \[4, 3, 3, 3\]\)/],
      [(e) => e.splice(2, 1), /has 548 bytes, expected 432/],
      [(e) => (e[1].value = '-4'), /offset "-4" is not a non-negative integer/],
      [(e) => (e[1].value = '1e3'), /offset "1e3" is not a non-negative integer/],
      [(e) => (e[2].value = '99999999999999999'), /length "99999999999999999" is not a non-negative integer/],
      [(e) => e.splice(0, 1), /data_location is EXTERNAL but there is no 'location' entry/],
      [(e) => e.push({ key: 'offset', value: '0' }), /entry 'offset' is given twice/],
      [(_, t) => (t.raw_data = new Uint8Array(432)), /has both raw_data and external data/],
      [(_, t) => delete t.data_location, /has external data entries but data_location is not EXTERNAL/],
    ];
    for (const [edit, pattern] of cases) {
      const { bytes, data } = editedW(edit);
      expectExternalError(() => loadOnnx(bytes, { externalData: { 'weights.bin': data } }), pattern);
    }
  });

  it('counts the external bytes in the load budget once, however many tensors share them', () => {
    // 300 initializers over the same 432 bytes: the budget (32 MiB + 8 x (model + files)) is not multiplied.
    const { tensors, data } = externalizeTensors([makeTensor('w', [4, 3, 3, 3], new Float32Array(108))], 'w.bin');
    const many = Array.from({ length: 300 }, (_, i) => ({ ...tensors[0], name: `w${i}` }));
    const nodes = many.map((t, i) => makeNode('Conv', [i === 0 ? 'x' : `c${i - 1}`, t.name!], [`c${i}`], { pads: attr.ints([1, 1, 1, 1]), group: attr.int(1) }));
    const bytes = onnxModel({ nodes: nodes.slice(0, 1), inputs: [['x', [1, 3, 4, 4]]], outputs: [['c0', null]], initializers: many });
    const loaded = loadOnnx(bytes, { externalData: { 'w.bin': data } });
    expect(loaded.graph.nodes.length).toBe(1);
  });
});

describe('ONNX external data from files (Node)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'webcnn-external-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loadModelFile reads the files beside the model, in subfolders too, and says where a missing one was looked for', () => {
    const { bytes, data } = external('data/weights.bin');
    mkdirSync(join(dir, 'data'), { recursive: true });
    writeFileSync(join(dir, 'model.onnx'), bytes);
    writeFileSync(join(dir, 'data', 'weights.bin'), data);
    expect(runGraphReference(loadModelFile(join(dir, 'model.onnx')).graph, [INPUT])).toEqual(inline);
    writeFileSync(join(dir, 'lonely.onnx'), external('gone.bin').bytes);
    expectExternalError(
      () => loadModelFile(join(dir, 'lonely.onnx')),
      new RegExp(`^lonely.onnx: initializer 'w': external data file 'gone.bin' not found \\(${dir}/gone.bin\\)$`),
    );
    mkdirSync(join(dir, 'adir.bin'));
    writeFileSync(join(dir, 'dir.onnx'), external('adir.bin').bytes);
    expectExternalError(() => loadModelFile(join(dir, 'dir.onnx')), /external data file 'adir.bin' .*is not a file/);
  });

  it('a model file that cannot be read is a ModelFileError naming it (missing, a directory)', () => {
    const missing = join(dir, 'nowhere.onnx');
    expect(() => loadModelFile(missing)).toThrow(ModelFileError);
    expect(() => loadModelFile(missing)).toThrow(`model file ${missing}: not found`);
    mkdirSync(join(dir, 'folder.onnx'));
    expect(() => loadModelFile(join(dir, 'folder.onnx'))).toThrow(ModelFileError);
    expect(() => loadModelFile(join(dir, 'folder.onnx'))).toThrow(`${join(dir, 'folder.onnx')} is not a file`);
  });

  it("reads a file whose name only starts with '..' (a name, not the parent folder)", () => {
    const { bytes, data } = external('..weights.bin');
    writeFileSync(join(dir, '..weights.bin'), data);
    writeFileSync(join(dir, 'dots.onnx'), bytes);
    expect(runGraphReference(loadModelFile(join(dir, 'dots.onnx')).graph, [INPUT])).toEqual(inline);
  });

  it("follows a sibling symlink (the user's own file system)", () => {
    const { bytes, data } = external('linked.bin');
    const elsewhere = mkdtempSync(join(tmpdir(), 'webcnn-external-target-'));
    try {
      writeFileSync(join(elsewhere, 'real.bin'), data);
      symlinkSync(join(elsewhere, 'real.bin'), join(dir, 'linked.bin'));
      writeFileSync(join(dir, 'linked.onnx'), bytes);
      expect(runGraphReference(loadModelFile(join(dir, 'linked.onnx')).graph, [INPUT])).toEqual(inline);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  // onnx's own writer (Debian's python3-onnx), as users make such files: one data file, aligned offsets.
  const python = '/usr/bin/python3';
  const hasOnnx = existsSync(python) && spawnSync(python, ['-c', 'import onnx'], { stdio: 'ignore' }).status === 0;
  it.skipIf(!hasOnnx)("loads what onnx.save(..., save_as_external_data=True) writes", () => {
    const source = join(dir, 'inline.onnx');
    writeFileSync(source, model(weights()));
    const target = join(dir, 'py', 'saved.onnx');
    const script = [
      'import sys, onnx',
      'm = onnx.load(sys.argv[1])',
      "onnx.save_model(m, sys.argv[2], save_as_external_data=True, all_tensors_to_one_file=True, location='saved.onnx.data', size_threshold=0)",
    ].join('\n');
    mkdirSync(join(dir, 'py'), { recursive: true });
    const r = spawnSync(python, ['-c', script, source, target], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(`${target}.data`)).toBe(true);
    expect(runGraphReference(loadModelFile(target).graph, [INPUT])).toEqual(inline);
    const e = thrown(() => loadModel(new Uint8Array(readFileSync(target))));
    expect(e).toBeInstanceOf(WebcnnError);
    expect(e.message).toMatch(/external file 'saved.onnx.data', which was not given/);
  });
});
