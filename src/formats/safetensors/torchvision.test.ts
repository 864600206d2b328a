/**
 * torchvision checkpoints in safetensors: files written from seeded random parameters under torchvision's
 * names must load into the same network as the builder makes from those parameters.
 */
import { describe, expect, it } from 'vitest';
import { ModelFormatError } from '../../errors.ts';
import type { ParamSpec } from '../../models/params.ts';
import { randomParams } from '../../models/params.ts';
import { mobilenetV2, mobilenetV2ParamShapes } from '../../models/mobilenet-v2.ts';
import { resnet50, resnet50ParamShapes } from '../../models/resnet.ts';
import { runGraphReference } from '../../reference/index.ts';
import { Rng } from '../../util/random.ts';
import { TORCHVISION_PREPROCESSING } from '../model.ts';
import type { SafetensorsWriteTensor } from './index.ts';
import { loadSafetensors, writeSafetensors } from './index.ts';

/** A state_dict file: every spec filled from `randomParams(seed)`, plus torch's `num_batches_tracked` I64s. */
function checkpoint(specs: readonly ParamSpec[], seed: number, rename: (name: string) => string = (n) => n): Uint8Array {
  const params = randomParams(seed);
  const tensors = new Map<string, SafetensorsWriteTensor>();
  for (const s of specs) tensors.set(rename(s.name), { data: params.get(s.name, s.shape), shape: s.shape });
  const file = writeSafetensors(tensors, { format: 'pt' });
  return withBatchCounters(file, specs.filter((s) => s.name.endsWith('.running_var')).map((s) => rename(s.name.replace(/running_var$/, 'num_batches_tracked'))));
}

/** Appends I64 scalar tensors to a safetensors file (writeSafetensors only writes floats). */
function withBatchCounters(file: Uint8Array, names: readonly string[]): Uint8Array {
  const n = Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + n)));
  const data = file.subarray(8 + n);
  let end = data.length;
  for (const name of names) {
    header[name] = { dtype: 'I64', shape: [], data_offsets: [end, end + 8] };
    end += 8;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + end);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  names.forEach((_, i) => view.setBigInt64(8 + json.length + data.length + i * 8, 100n, true));
  return out;
}

function randomInput(size: number, seed: number): Float32Array {
  return new Rng(seed).fill(3 * size * size, -2, 2);
}

describe('loadSafetensors: torchvision mobilenet_v2', () => {
  const size = 64;
  const specs = mobilenetV2ParamShapes({ numClasses: 10 });
  const bytes = checkpoint(specs, 7);

  it('builds the network the builder makes from the same parameters (same outputs on the CPU reference)', () => {
    const loaded = loadSafetensors(bytes, { architecture: 'mobilenet_v2', inputSize: size });
    expect(loaded.format).toBe('safetensors');
    expect(loaded.inputDims).toEqual([[1, 3, size, size]]);
    expect(loaded.outputDims).toEqual([[1, 10]]); // class count inferred from classifier.1.weight
    expect(loaded.outputsProbabilities).toBe(false);
    expect(loaded.preprocessing).toEqual({ ...TORCHVISION_PREPROCESSING, size: [size, size] });
    expect(loaded.metadata).toMatchObject({ architecture: 'mobilenet_v2', 'metadata.format': 'pt', 'skipped integer tensors': 52, 'width multiplier': 1 });
    expect(loaded.metadata['unused tensors']).toBeUndefined();

    const expected = mobilenetV2({ params: randomParams(7), numClasses: 10, inputSize: size });
    expect(loaded.graph.nodes.map((n) => `${n.op} ${n.name}`)).toEqual(expected.nodes.map((n) => `${n.op} ${n.name}`));
    const input = randomInput(size, 1);
    const [want] = runGraphReference(expected, [input]);
    const [got] = runGraphReference(loaded.graph, [input]);
    expect(got.length).toBe(10);
    expect(got).toEqual(want);
    expect(Math.max(...want.map(Math.abs))).toBeGreaterThan(0);
  });

  it('honours an explicit class count and reports a mismatch with the file', () => {
    expect(() => loadSafetensors(bytes, { architecture: 'mobilenet_v2', inputSize: size, numClasses: 1000 })).toThrow(
      /parameter "classifier.1.weight" has shape \[10, 1280\] in the file, the network needs \[1000, 1280\]/,
    );
  });

  it('infers the width multiplier and drops a DataParallel "module." prefix', () => {
    const half = checkpoint(mobilenetV2ParamShapes({ widthMultiplier: 0.5, numClasses: 4 }), 3, (n) => `module.${n}`);
    const loaded = loadSafetensors(half, { architecture: 'mobilenet_v2', inputSize: 32 });
    expect(loaded.metadata['width multiplier']).toBe(0.5);
    const expected = mobilenetV2({ params: randomParams(3), widthMultiplier: 0.5, numClasses: 4, inputSize: 32 });
    const input = randomInput(32, 2);
    expect(runGraphReference(loaded.graph, [input])[0]).toEqual(runGraphReference(expected, [input])[0]);
  });

  it('names a missing or misshapen parameter, and the wrong architecture', () => {
    const without = checkpoint(specs.filter((s) => s.name !== 'features.3.conv.1.1.running_mean'), 7);
    expect(() => loadSafetensors(without, { architecture: 'mobilenet_v2' })).toThrow(/missing parameter "features.3.conv.1.1.running_mean"/);
    const reshaped = checkpoint(specs.map((s) => (s.name === 'features.0.0.weight' ? { ...s, shape: [32, 27, 1, 1] } : s)), 7);
    expect(() => loadSafetensors(reshaped, { architecture: 'mobilenet_v2' })).toThrow(
      /parameter "features.0.0.weight" has shape \[32, 27, 1, 1\] in the file, the network needs \[32, 3, 3, 3\]/,
    );
    expect(() => loadSafetensors(bytes, { architecture: 'resnet50' })).toThrow(/missing parameter "fc.weight" \(is this a torchvision resnet50 state_dict\?\)/);
    expect(() => loadSafetensors(bytes, { architecture: 'vgg16' as never })).toThrow(ModelFormatError);
  });

  it('reports tensors the network does not use', () => {
    const extra = writeSafetensors({ ...Object.fromEntries(specs.map((s) => [s.name, { data: randomParams(1).get(s.name, s.shape), shape: s.shape }])), 'aux.weight': { data: new Float32Array(2), shape: [2] } });
    const loaded = loadSafetensors(extra, { architecture: 'mobilenet_v2', inputSize: 32 });
    expect(loaded.metadata['unused tensors']).toBe('1 (aux.weight)');
  });
});

describe('loadSafetensors: torchvision resnet50', () => {
  it('builds the network the builder makes from the same parameters (same outputs on the CPU reference)', () => {
    const size = 64;
    const specs = resnet50ParamShapes({ numClasses: 8 });
    const bytes = checkpoint(specs, 11);
    const loaded = loadSafetensors(bytes, { architecture: 'resnet50', inputSize: size });
    expect(loaded.outputDims).toEqual([[1, 8]]); // from fc.weight
    expect(loaded.metadata).toMatchObject({ architecture: 'resnet50', 'skipped integer tensors': 53 });
    const expected = resnet50({ params: randomParams(11), numClasses: 8, inputSize: size });
    const input = randomInput(size, 5);
    const [want] = runGraphReference(expected, [input]);
    const [got] = runGraphReference(loaded.graph, [input]);
    expect(got).toEqual(want);
    expect(got.length).toBe(8);
  });
});
