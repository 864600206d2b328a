/**
 * Where the demo page loads models from (demo/webcam/model-source.ts): configured URLs only, downloads capped
 * at MAX_MODEL_BYTES and checked by sha256, and the format told by the bytes, not the file name.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DownloadError, MAX_MODEL_BYTES, defaultFiles, download, parseLabelsBeforeNote } from '../demo/webcam/model-source.ts';
import { DEMO_FILES } from '../scripts/fetch-model.ts';
import { ModelFormatError } from '../src/errors.ts';
import { loadModel } from '../src/formats/index.ts';
import { onnxConvNet, tfliteClassifier } from './fuzz/corpus.ts';

afterEach(() => vi.unstubAllGlobals());

/** A fetch that answers with `chunks` (only their byteLength matters past the cap) and a Content-Length. */
function fakeFetch(chunks: Uint8Array[], contentLength?: number) {
  return vi.fn(async () => {
    let i = 0;
    const headers = new Headers(contentLength === undefined ? {} : { 'content-length': String(contentLength) });
    return {
      ok: true,
      status: 200,
      headers,
      body: { getReader: () => ({ read: async () => (i < chunks.length ? { done: false, value: chunks[i++] } : { done: true, value: undefined }) }) },
    } as unknown as Response;
  });
}

const file = { name: 'm.tflite', url: '/models/m.tflite', sha256: null };

describe('default model URLs', () => {
  it('development: the dev server; deployed: the public home or the configured base, both checksummed', () => {
    expect(defaultFiles({ DEV: true }).model).toEqual({ name: 'mobilenet_v2_1.0_224_quant.tflite', url: '/models/mobilenet_v2_1.0_224_quant.tflite', sha256: null });
    const deployed = defaultFiles({ DEV: false });
    expect(deployed.model.url).toMatch(/^https:\/\/github\.com\/google-coral\/test_data\/raw\/master\/mobilenet_v2_1\.0_224_quant\.tflite$/);
    expect(deployed.model.sha256).toMatch(/^7aad0c74/);
    const configured = defaultFiles({ DEV: false, VITE_WEBCNN_MODEL_BASE: '/models/' });
    expect(configured.model.url).toBe('/models/mobilenet_v2_1.0_224_quant.tflite');
    expect(configured.labels.url).toBe('/models/imagenet_labels.txt');
    expect(configured.model.sha256).toBe(deployed.model.sha256);
    expect(defaultFiles({ DEV: true, VITE_WEBCNN_MODEL_BASE: 'https://cdn.example/m' }).model.url).toBe('https://cdn.example/m/mobilenet_v2_1.0_224_quant.tflite');
  });
});

describe('the segmentation default', () => {
  it('is the DeepLabV3 TFLite with the PASCAL VOC labels, from the same places as the classifier', () => {
    expect(defaultFiles({ DEV: true }, 'segment')).toEqual({
      model: { name: 'deeplabv3_mnv2_pascal_quant.tflite', url: '/models/deeplabv3_mnv2_pascal_quant.tflite', sha256: null },
      labels: { name: 'pascal_voc_segmentation_labels.txt', url: '/models/pascal_voc_segmentation_labels.txt', sha256: null },
    });
    const deployed = defaultFiles({ DEV: false }, 'segment');
    expect(deployed.model.url).toBe('https://github.com/google-coral/test_data/raw/master/deeplabv3_mnv2_pascal_quant.tflite');
    expect(deployed.model.sha256).toMatch(/^350af47f/);
    expect(defaultFiles({ DEV: false, VITE_WEBCNN_MODEL_BASE: '/models' }, 'segment').labels.url).toBe('/models/pascal_voc_segmentation_labels.txt');
  });

  it('names and checksums agree with what npm run fetch-model -- --demo fetches', () => {
    const page = (['classify', 'segment'] as const).flatMap((task) => Object.values(defaultFiles({ DEV: false }, task)));
    expect(page.map((f) => [f.name, f.sha256, f.url]).sort()).toEqual(DEMO_FILES.map((f) => [f.file, f.sha256, f.url]).sort());
  });

  it('reads the PASCAL VOC labels up to the note after them', () => {
    const text = ['background', 'aeroplane', 'bird', '', 'and 255 is the ignore label', 'more note', ''].join('\n');
    expect(parseLabelsBeforeNote(text)).toEqual(['background', 'aeroplane', 'bird']);
    expect(parseLabelsBeforeNote('a\nb\n')).toEqual(['a', 'b']);
  });
});

describe('download', () => {
  it('refuses a declared size over the cap before reading the body', async () => {
    const fetch = fakeFetch([], MAX_MODEL_BYTES + 1);
    vi.stubGlobal('fetch', fetch);
    await expect(download(file, () => undefined)).rejects.toThrow(DownloadError);
    await expect(download(file, () => undefined)).rejects.toThrow(/over the 536870912-byte limit/);
  });

  it('stops reading a body that grows past the cap', async () => {
    // Only byteLength is read before the cap trips, so the chunks need not really be that large.
    const big = { byteLength: 300 * 2 ** 20 } as Uint8Array;
    vi.stubGlobal('fetch', fakeFetch([big, big, big]));
    await expect(download(file, () => undefined)).rejects.toThrow(/m\.tflite is over the 536870912-byte limit/);
  });

  it('checks the sha256 and reports progress', async () => {
    const bytes = new TextEncoder().encode('hello');
    vi.stubGlobal('fetch', fakeFetch([bytes], bytes.length));
    const progress: number[] = [];
    const ok = await download({ ...file, sha256: '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824' }, (f) => progress.push(f));
    expect(new TextDecoder().decode(ok)).toBe('hello');
    expect(progress.at(-1)).toBe(1);
    vi.stubGlobal('fetch', fakeFetch([bytes], bytes.length));
    await expect(download({ ...file, sha256: '0'.repeat(64) }, () => undefined)).rejects.toThrow(/failed its checksum/);
  });
});

describe('format sniffing', () => {
  it('reads the bytes, not the name: TFLite named .onnx, ONNX named .tflite, junk named .tflite', () => {
    expect(loadModel(tfliteClassifier('float', 1), { fileName: 'model.onnx' }).format).toBe('tflite');
    expect(loadModel(onnxConvNet(1), { fileName: 'model.tflite' }).format).toBe('onnx');
    expect(() => loadModel(new Uint8Array(64).fill(0x42), { fileName: 'model.tflite' })).toThrow(ModelFormatError);
    expect(() => loadModel(new Uint8Array(64).fill(0x42), { fileName: 'model.tflite' })).toThrow(/^model\.tflite: not a TFLite, ONNX or safetensors model/);
  });
});
