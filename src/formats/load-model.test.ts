import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SHARED_CAT, SHARED_MODEL } from '../../test/shared.ts';
import { ModelFormatError } from '../errors.ts';
import { mobilenetV2, mobilenetV2ParamShapes } from '../models/mobilenet-v2.ts';
import { randomParams } from '../models/params.ts';
import { detectModelFormat, loadModel } from './index.ts';
import { exportOnnx, loadOnnx } from './onnx/index.ts';
import { loadSafetensors, writeSafetensors } from './safetensors/index.ts';
import { loadTflite } from './tflite/index.ts';

const specs = mobilenetV2ParamShapes({ widthMultiplier: 0.35, numClasses: 3 });
const params = randomParams(2);
const checkpoint = writeSafetensors(Object.fromEntries(specs.map((s) => [s.name, { data: params.get(s.name, s.shape), shape: s.shape }])));

describe('loadModel', () => {
  it('dispatches safetensors with an architecture, and asks for the architecture option without one', () => {
    expect(detectModelFormat(checkpoint)).toBe('safetensors');
    const loaded = loadModel(checkpoint, { fileName: 'w.safetensors', architecture: 'mobilenet_v2', inputSize: 32 });
    expect(loaded.format).toBe('safetensors');
    expect(loaded.outputDims).toEqual([[1, 3]]);
    expect(() => loadModel(checkpoint, { fileName: 'w.safetensors' })).toThrow(ModelFormatError);
    expect(() => loadModel(checkpoint, { fileName: 'w.safetensors' })).toThrow(/^w\.safetensors is a safetensors checkpoint.*pass the architecture option \(mobilenet_v2 or resnet50; CLI: --arch\)/);
    expect(() => loadModel(checkpoint, { architecture: 'vgg' as never })).toThrow(/unknown architecture "vgg"/);
  });

  it('takes the file as an ArrayBuffer or any typed array, not only a Uint8Array; anything else is a ModelFormatError', () => {
    const onnx = exportOnnx(mobilenetV2({ params: randomParams(2), widthMultiplier: 0.35, numClasses: 3, inputSize: 32 }));
    // Offset into a larger buffer, so that views must keep their byteOffset.
    const padded = new Uint8Array(onnx.length + 8);
    padded.set(onnx, 8);
    const asBuffer = onnx.slice().buffer;
    for (const bytes of [asBuffer, new DataView(padded.buffer, 8), new Uint8ClampedArray(padded.buffer, 8)]) {
      expect(detectModelFormat(bytes)).toBe('onnx');
      expect(loadModel(bytes).outputDims).toEqual([[1, 3]]);
      expect(loadOnnx(bytes).outputDims).toEqual([[1, 3]]);
    }
    expect(loadSafetensors(checkpoint.slice().buffer, { architecture: 'mobilenet_v2', inputSize: 32 }).outputDims).toEqual([[1, 3]]);
    expect(loadModel(checkpoint.slice().buffer, { architecture: 'mobilenet_v2', inputSize: 32 }).format).toBe('safetensors');
    for (const load of [(x: never) => loadModel(x, { fileName: 'm.bin' }), loadOnnx, loadTflite, (x: never) => detectModelFormat(x)]) {
      expect(() => load('model.onnx' as never)).toThrow(ModelFormatError);
      expect(() => load('model.onnx' as never)).toThrow(/expected the file contents as a Uint8Array, ArrayBuffer or other typed array, got a string$/);
      expect(() => load([1, 2, 3] as never)).toThrow(/got an Array$/);
    }
  });

  it('names the file in errors from a loader', () => {
    expect(() => loadModel(checkpoint, { fileName: 'w.safetensors', architecture: 'resnet50' })).toThrow(/^w\.safetensors: safetensors: missing parameter "fc.weight"/);
  });

  it('dispatches ONNX by content, and by the .onnx extension', () => {
    const onnx = exportOnnx(mobilenetV2({ params: randomParams(2), widthMultiplier: 0.35, numClasses: 3, inputSize: 32 }));
    expect(detectModelFormat(onnx)).toBe('onnx');
    expect(loadModel(onnx, { fileName: 'net.bin' }).format).toBe('onnx');
    expect(detectModelFormat(new Uint8Array([0xee, 0xee, 0xee, 0xee]), 'x.onnx')).toBe('onnx');
  });

  it.skipIf(!existsSync(SHARED_MODEL))('dispatches TFLite by its file identifier', () => {
    const bytes = readFileSync(SHARED_MODEL);
    expect(detectModelFormat(bytes, 'anything.bin')).toBe('tflite');
    expect(loadModel(bytes, { fileName: 'm.tflite' }).format).toBe('tflite');
  });

  it.skipIf(!existsSync(SHARED_MODEL))('a TFLite file cut inside its appended label archive loads, and warns that its labels are lost', () => {
    const bytes = readFileSync(SHARED_MODEL);
    expect(bytes.length).toBe(3610798);
    expect(loadModel(bytes, { fileName: 'm.tflite' }).warnings).toBeUndefined();
    // The archive starts at byte 3588976; its central directory at 3610711, its end record at 3610776.
    for (const cut of [3589000, 3600000, 3610700, 3610750, 3610790]) {
      const loaded = loadModel(bytes.subarray(0, cut), { fileName: 'cut.tflite' });
      expect(loaded.labels, `cut at ${cut}`).toBeUndefined();
      expect(loaded.warnings).toEqual([
        'cut.tflite: the zip archive of associated files (labels) appended at byte 3588976 is truncated or corrupt ' +
          '(no end-of-central-directory record); the model loads, but its labels are unavailable',
      ]);
    }
    // A short name that happens to occur in the warning ("zip archive", "labels") still gets its prefix.
    for (const fileName of ['zip', 'labels', 'a']) {
      const [warning] = loadModel(bytes.subarray(0, 3600000), { fileName }).warnings ?? [];
      expect(warning).toMatch(new RegExp(`^${fileName}: the zip archive of associated files \\(labels\\)`));
    }
  });

  it('reports a truncated safetensors checkpoint as one, by its content or by its name', () => {
    expect(checkpoint.length).toBeGreaterThan(1000);
    const headerLength = new DataView(checkpoint.buffer, checkpoint.byteOffset).getUint32(0, true);
    for (const keep of [100, 500, 1000]) {
      const cut = checkpoint.subarray(0, keep);
      const message = `safetensors: header length ${headerLength} exceeds the file size (${keep} bytes)`;
      expect(detectModelFormat(cut)).toBe('safetensors');
      for (const [fileName, architecture] of [['w.safetensors', 'mobilenet_v2'], ['w.safetensors', undefined], ['w.bin', undefined]] as const) {
        expect(() => loadModel(cut, { fileName, architecture })).toThrow(ModelFormatError);
        expect(() => loadModel(cut, { fileName, architecture })).toThrow(`${fileName}: ${message}`);
      }
    }
    // Too short for even the header length: the name says what it was meant to be.
    expect(detectModelFormat(checkpoint.subarray(0, 4), 'w.safetensors')).toBe('safetensors');
    expect(() => loadModel(checkpoint.subarray(0, 4), { fileName: 'w.safetensors' })).toThrow(
      /^w\.safetensors: safetensors: file is 4 bytes, too short for the 8-byte header length$/,
    );
  });

  it('a .tflite file without the TFLite identifier says so, not why it did not decode as ONNX', () => {
    const bmp = existsSync(SHARED_CAT) ? readFileSync(SHARED_CAT) : new Uint8Array([0x42, 0x4d, ...new Array(60).fill(0)]);
    expect(() => loadModel(bmp, { fileName: 'cat.tflite' })).toThrow(ModelFormatError);
    expect(() => loadModel(bmp, { fileName: 'cat.tflite' })).toThrow(
      /^cat\.tflite: not a TFLite, ONNX or safetensors model \(no TFLite identifier "TFL3" at bytes 4-8; it looks like a BMP image\)$/,
    );
    expect(() => loadModel(new Uint8Array(100).fill(0xee), { fileName: 'junk.tflite' })).toThrow(
      /^junk\.tflite: not a TFLite, ONNX or safetensors model \(no TFLite identifier "TFL3" at bytes 4-8\)$/,
    );
    // ONNX content loads whatever its name.
    const onnx = exportOnnx(mobilenetV2({ params: randomParams(2), widthMultiplier: 0.35, numClasses: 3, inputSize: 32 }));
    expect(loadModel(onnx, { fileName: 'net.tflite' }).format).toBe('onnx');
  });

  it('content decides before a .safetensors name: an ONNX file so named loads as ONNX', () => {
    const onnx = exportOnnx(mobilenetV2({ params: randomParams(2), widthMultiplier: 0.35, numClasses: 3, inputSize: 32 }));
    expect(detectModelFormat(onnx, 'x.safetensors')).toBe('onnx');
    expect(loadModel(onnx, { fileName: 'x.safetensors' }).format).toBe('onnx');
    // Content that matches nothing: the name picks the safetensors reader's error.
    expect(detectModelFormat(new Uint8Array(100).fill(0xee), 'x.safetensors')).toBe('safetensors');
    expect(() => loadModel(new Uint8Array(100).fill(0xee), { fileName: 'x.safetensors' })).toThrow(/^x\.safetensors: safetensors: /);
    // Starts like a protobuf but does not decode as ONNX: also the safetensors reader's error.
    expect(() => loadModel(new Uint8Array([0x08, 0x07, 0x12, 0xff, 0xff, 0xff, 0, 0, 0]), { fileName: 'p.safetensors' })).toThrow(
      /^p\.safetensors: safetensors: /,
    );
  });

  it('rejects a file that is none of the three, naming it', () => {
    const junk = new Uint8Array(100).fill(0xee);
    expect(detectModelFormat(junk)).toBeNull();
    expect(() => loadModel(junk, { fileName: 'junk.bin' })).toThrow(/^junk\.bin: not a TFLite, ONNX or safetensors model$/);
    expect(() => loadModel(new Uint8Array(0), { fileName: 'empty' })).toThrow(/^empty: not a TFLite, ONNX or safetensors model$/);
    // Starts like a protobuf but does not decode as ONNX: still "none of them", with the ONNX reason.
    expect(() => loadModel(new Uint8Array([0x08, 0x07, 0x12, 0xff, 0xff, 0xff]), { fileName: 'p.bin' })).toThrow(
      /^p\.bin: not a TFLite, ONNX or safetensors model \(as ONNX: /,
    );
  });
});
