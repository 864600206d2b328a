/**
 * Hostile ONNX external data (fuzz cases of `npm run fuzz` and test/fuzz.test.ts): a conv model whose weights
 * sit in an external file, with hostile locations (`..`, absolute paths, drive letters, backslashes, control
 * characters), offsets and lengths (negative, huge, past the file, not numbers), entries missing or repeated,
 * raw data beside them, and files that are absent, truncated, shared by many tensors or not bytes at all, or a
 * resolver that throws. Every case must load or end in a `WebcnnError`, within the fuzzer's memory bound.
 */
import type { LoadModelOptions } from '../../src/formats/index.ts';
import type { TensorInit } from '../../src/formats/onnx/writer.ts';
import { attr, encodeModel, externalizeTensors, makeGraph, makeModel, makeNode, makeTensor, makeValueInfo } from '../../src/formats/onnx/writer.ts';
import type { Rng } from '../../src/util/random.ts';
import { HOSTILE_INTS } from './onnx.ts';

const HOSTILE_LOCATIONS = [
  '../w.bin', '../../etc/passwd', '/etc/passwd', '/w.bin', 'C:\\w.bin', 'c:w.bin', 'a\\..\\w.bin', 'a/../../w.bin', 'a/./w.bin',
  '', '.', '..', './', 'a//w.bin', 'w.bin/', 'w\u0000.bin', 'w\n.bin', '~/w.bin', '%2e%2e/w.bin', '__proto__', 'constructor', 'w.bin'.repeat(300),
];

function model(initializers: TensorInit[]): Uint8Array {
  const graph = makeGraph({
    nodes: [makeNode('Conv', ['x', 'w', 'b'], ['c'], { pads: attr.ints([1, 1, 1, 1]) }, 'conv'), makeNode('Relu', ['c'], ['y'], {}, 'relu')],
    inputs: [makeValueInfo('x', [1, 2, 4, 4])],
    outputs: [makeValueInfo('y', null)],
    initializers,
  });
  return encodeModel(makeModel({ graph }));
}

export function hostileExternal(rng: Rng): { bytes: Uint8Array; what: string; options: LoadModelOptions } {
  const weights = [makeTensor('w', [3, 2, 3, 3], rng.fill(54, -1, 1)), makeTensor('b', [3], rng.fill(3, -1, 1))];
  const { tensors, data } = externalizeTensors(weights, 'w.bin', rng.pick([1, 4, 4096]));
  const t = rng.pick(tensors);
  const entries = t.external_data!;
  let file: unknown = data;
  let what: string;
  switch (rng.int(0, 7)) {
    case 0:
      entries[0].value = rng.pick(HOSTILE_LOCATIONS);
      what = `location ${JSON.stringify(entries[0].value.slice(0, 40))}`;
      break;
    case 1: {
      const k = rng.pick([1, 2]);
      entries[k].value = rng.pick([String(rng.pick(HOSTILE_INTS)), '', ' 4', '0x10', '1e3', '4.0', 'NaN', '9'.repeat(30)]);
      what = `${entries[k].key} ${JSON.stringify(entries[k].value)}`;
      break;
    }
    case 2:
      entries.splice(rng.int(0, 2), 1);
      what = 'an entry dropped';
      break;
    case 3:
      entries.push({ ...rng.pick(entries) });
      if (rng.next() < 0.5) delete t.data_location;
      else t.raw_data = new Uint8Array(rng.pick([0, 4, 216]));
      what = 'an entry repeated, data_location dropped or raw data beside';
      break;
    case 4:
      file = data.subarray(0, rng.int(0, data.length - 1));
      what = `file truncated to ${(file as Uint8Array).length} bytes`;
      break;
    case 5:
      file = rng.pick([undefined, null, [1, 2, 3], 'w.bin', new Float32Array(4), new ArrayBuffer(8)]);
      what = `file given as ${Object.prototype.toString.call(file)}`;
      break;
    case 6: {
      // Many tensors over the same bytes: the budget counts the file once.
      const n = rng.pick([100, 1000]);
      const shared = Array.from({ length: n }, (_, i) => ({ ...tensors[0], name: `w${i}` }));
      return { bytes: model([...tensors, ...shared]), what: `${n} initializers over one file`, options: { externalData: { 'w.bin': data } } };
    }
    default: {
      const message = rng.pick(['EACCES', 'disk on fire\nsecond line', '']);
      return {
        bytes: model(tensors),
        what: 'a resolver that throws',
        options: {
          externalData: () => {
            throw new Error(message);
          },
        },
      };
    }
  }
  const source = rng.next() < 0.5 ? { 'w.bin': file } : new Map([['w.bin', file]]);
  return { bytes: model(tensors), what: `external data: ${what}`, options: { externalData: source as LoadModelOptions['externalData'] } };
}
