import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SHARED_MODEL } from '../../test/shared.ts';
import { ModelFormatError } from '../errors.ts';
import { mobilenetV2, mobilenetV2ParamShapes } from '../models/mobilenet-v2.ts';
import { randomParams } from '../models/params.ts';
import { detectModelFormat, loadModel } from './index.ts';
import { exportOnnx } from './onnx/index.ts';
import { writeSafetensors } from './safetensors/index.ts';

const specs = mobilenetV2ParamShapes({ widthMultiplier: 0.35, numClasses: 3 });
const params = randomParams(2);
const checkpoint = writeSafetensors(Object.fromEntries(specs.map((s) => [s.name, { data: params.get(s.name, s.shape), shape: s.shape }])));

describe('loadModel', () => {
  it('dispatches safetensors with an architecture, and asks for --arch without one', () => {
    expect(detectModelFormat(checkpoint)).toBe('safetensors');
    const loaded = loadModel(checkpoint, { fileName: 'w.safetensors', architecture: 'mobilenet_v2', inputSize: 32 });
    expect(loaded.format).toBe('safetensors');
    expect(loaded.outputDims).toEqual([[1, 3]]);
    expect(() => loadModel(checkpoint, { fileName: 'w.safetensors' })).toThrow(ModelFormatError);
    expect(() => loadModel(checkpoint, { fileName: 'w.safetensors' })).toThrow(/^w\.safetensors is a safetensors checkpoint.*pass --arch \(mobilenet_v2 or resnet50\)/);
    expect(() => loadModel(checkpoint, { architecture: 'vgg' as never })).toThrow(/unknown architecture "vgg"/);
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
