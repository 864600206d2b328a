/**
 * Bad inputs at run time, on a real WebGPU device (Dawn in Node; SwiftShader without a GPU): inputs of the
 * wrong type or size are `ShapeError`s; NaN and infinities go through the kernels as IEEE arithmetic does (NaN
 * stays in the outputs it reaches, ReLU6 clamps +Inf to 6); images of zero size are `ShapeError`s and odd
 * sizes classify.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { GraphError, ResourceLimitError, ShapeError } from '../src/errors.ts';
import type { LoadedModel } from '../src/formats/model.ts';
import { acquireNodeDevice } from '../src/gpu/node-device.ts';
import { GraphBuilder } from '../src/graph/builder.ts';
import type { Activation, Graph } from '../src/graph/ir.ts';
import { NO_ACTIVATION, RELU, RELU6 } from '../src/graph/ir.ts';
import { compileModel } from '../src/index.ts';
import { mobilenetV2 } from '../src/models/mobilenet-v2.ts';
import { randomParams } from '../src/models/params.ts';
import { runGraphReference } from '../src/reference/index.ts';
import type { ImageSource } from '../src/runtime/classifier.ts';
import { ImageClassifier } from '../src/runtime/classifier.ts';
import { Rng } from '../src/util/random.ts';

let device: GPUDevice;
beforeAll(async () => {
  device = (await acquireNodeDevice()).device;
});
afterAll(() => device?.destroy());

/** A 1x1 convolution `[1, inC, h, w] -> [1, outC, h, w]` with the given weights and activation. */
function pointwise(inC: number, outC: number, h: number, w: number, weight: Float32Array, activation: Activation) {
  const b = new GraphBuilder();
  const x = b.input('x', [1, inC, h, w]);
  b.output(b.conv2d(x, { outChannels: outC, kernel: 1, weight, bias: new Float32Array(outC), activation }, 'pw'));
  return b.build();
}

describe('run inputs of the wrong type or size', () => {
  it('rejects a Float64Array, a plain array, a wrong length and a missing input with ShapeError', async () => {
    const graph = pointwise(3, 4, 2, 2, new Rng(1).fill(12, -1, 1), NO_ACTIVATION);
    const model = await compileModel(device, graph);
    const n = 3 * 2 * 2;
    const bad: [unknown[], RegExp][] = [
      [[new Float64Array(n)], /needs 12 float32 values for shape \[1, 3, 2, 2\], got a Float64Array of 12 values; convert it with Float32Array\.from$/],
      [[Array.from({ length: n }, () => 0.5)], /got an Array of 12 values; convert it with Float32Array\.from$/],
      [[new Float32Array(n + 1)], /got 13 values$/],
      [[new Float32Array(0)], /got 0 values$/],
      [[new Uint8Array(n * 4)], /got a Uint8Array of 48 values; convert/],
      [[new ArrayBuffer(n * 4)], /got an ArrayBuffer of 48 bytes; wrap it with new Float32Array\(buffer\)$/],
      [[null], /got null$/],
      [[42], /got a number \(not a Float32Array\)$/],
      [[], /takes 1 input\(s\), got 0/],
      [[new Float32Array(n), new Float32Array(n)], /takes 1 input\(s\), got 2/],
    ];
    for (const [inputs, pattern] of bad) {
      const run = model.run(inputs as Float32Array[]);
      await expect(run).rejects.toThrow(ShapeError);
      await expect(run).rejects.toThrow(pattern);
    }
    // The model still works after the rejected runs.
    const x = new Rng(2).fill(n, -1, 1);
    const [y] = await model.run([x]);
    const [want] = runGraphReference(graph, [x]);
    for (let i = 0; i < want.length; i++) expect(y[i]).toBeCloseTo(want[i], 5);
    model.dispose();
  });
});

describe('a value that is not a graph', () => {
  it('compileModel rejects it with a GraphError, not a TypeError', async () => {
    const compile = compileModel(device, { bogus: true } as unknown as Graph);
    await expect(compile).rejects.toThrow(GraphError);
    await expect(compile).rejects.toThrow(/^not a graph: tensors, nodes, inputs, outputs are not arrays/);
  });
});

describe('device limits at compile time', () => {
  it('a tensor larger than the device allows is a ResourceLimitError naming the buffer, before anything runs', async () => {
    const b = new GraphBuilder();
    // 4 x 32768 x 32768 float32 = 16 GiB: over maxBufferSize on every adapter.
    b.output(b.relu(b.input('x', [1, 4, 32768, 32768])));
    const compile = compileModel(device, b.build());
    await expect(compile).rejects.toThrow(ResourceLimitError);
    await expect(compile).rejects.toThrow(/buffer of \d+ bytes exceeds the device's (maxBufferSize|maxStorageBufferBindingSize) \d+/);
    // It names an activation buffer (not an internal "slot") and says what makes activations smaller.
    await expect(compile).rejects.toThrow(/^activation buffer 0: .*; use a smaller batch or input size, or precision 'f16-packed' \(half the bytes\)$/);
    // The failed compile closed the error scopes it opened: none is left to pop ...
    await expect(device.popErrorScope()).rejects.toThrow();
    // ... so a later GPU error is not swallowed by a stale one but reaches 'uncapturederror'. The test waits for
    // that event itself (no sleep); were the error swallowed, it would never come and the test would time out.
    const messages: string[] = [];
    const reported = new Promise<void>((done) => {
      device.addEventListener('uncapturederror', (e) => {
        messages.push((e as GPUUncapturedErrorEvent).error.message);
        done();
      });
    });
    device.createBuffer({ size: 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.MAP_WRITE }); // invalid usage
    await reported;
    await device.queue.onSubmittedWorkDone();
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/usage/i);
    // And the device keeps working.
    const small = await compileModel(device, pointwise(1, 2, 1, 1, new Float32Array([1, 2]), NO_ACTIVATION));
    expect(Array.from((await small.run([new Float32Array([3])]))[0])).toEqual([3, 6]);
    small.dispose();
  });
});

describe('NaN and infinities (IEEE 754 through the kernels)', () => {
  it('a NaN in one pixel makes only that pixel of a 1x1 convolution NaN', async () => {
    const inC = 3;
    const outC = 4;
    const [h, w] = [3, 3];
    const weight = new Rng(3).fill(outC * inC, 0.1, 1);
    const graph = pointwise(inC, outC, h, w, weight, NO_ACTIVATION);
    const model = await compileModel(device, graph);
    const x = new Rng(4).fill(inC * h * w, -1, 1);
    const [want] = runGraphReference(graph, [x]);
    const pixel = 4; // (1, 1)
    x[1 * h * w + pixel] = NaN; // channel 1
    const [y] = await model.run([x]);
    for (let c = 0; c < outC; c++) {
      for (let p = 0; p < h * w; p++) {
        const v = y[c * h * w + p];
        if (p === pixel) expect(v, `channel ${c} pixel ${p}`).toBeNaN();
        else expect(v).toBeCloseTo(want[c * h * w + p], 5);
      }
    }
    model.dispose();
  });

  it('ReLU6 clamps +Inf to 6 and -Inf to 0; ReLU keeps +Inf at or above the largest float', async () => {
    // One input channel, so no 0 * Inf products: out = [x, 2x] per pixel.
    const weight = new Float32Array([1, 2]);
    const x = new Float32Array([Infinity, -Infinity, NaN, 3]);
    const relu6 = await compileModel(device, pointwise(1, 2, 2, 2, weight, RELU6));
    const [y6] = await relu6.run([x]);
    expect([y6[0], y6[1], y6[3]]).toEqual([6, 0, 3]);
    expect([y6[4], y6[5], y6[7]]).toEqual([6, 0, 6]);
    // WGSL leaves clamp(NaN, lo, hi) to the implementation: NaN or a value in [lo, hi]. README says what was seen.
    const nanOut = [y6[2], y6[6]];
    for (const v of nanOut) expect(Number.isNaN(v) || (v >= 0 && v <= 6)).toBe(true);
    console.log(`ReLU6 of NaN on this adapter: ${nanOut.join(', ')}`);
    relu6.dispose();

    const relu = await compileModel(device, pointwise(1, 2, 2, 2, weight, RELU));
    const [y] = await relu.run([x]);
    // The upper bound of ReLU is the largest finite float (WGSL has no infinite constants).
    expect(y[0]).toBeGreaterThanOrEqual(3.4028234663852886e38);
    expect(y[1]).toBe(0);
    console.log(`ReLU of +Inf: ${y[0]}, of NaN: ${y[2]}`);
    relu.dispose();

    const none = await compileModel(device, pointwise(1, 2, 2, 2, weight, NO_ACTIVATION));
    const [yn] = await none.run([x]);
    expect([yn[0], yn[1], yn[3], yn[4]]).toEqual([Infinity, -Infinity, 3, Infinity]);
    expect(yn[2]).toBeNaN();
    none.dispose();
  });
});

describe('image sizes', () => {
  const preprocessing = { size: [32, 32] as const, resize: 'stretch' as const, cropFraction: 1, mean: [0.5, 0.5, 0.5] as const, std: [0.25, 0.25, 0.25] as const };
  const loaded: LoadedModel = {
    format: 'safetensors',
    graph: mobilenetV2({ inputSize: 32, widthMultiplier: 0.35, numClasses: 10, params: randomParams(1) }),
    inputDims: [[1, 3, 32, 32]],
    outputDims: [[1, 10]],
    preprocessing,
    outputsProbabilities: false,
    metadata: {},
  };
  const image = (width: number, height: number) => {
    const data = new Uint8Array(width * height * 4);
    for (let i = 0; i < data.length; i++) data[i] = (i * 37) & 255;
    return { data, width, height };
  };

  it('rejects empty images and short pixel data with ShapeError', async () => {
    const classifier = await ImageClassifier.create(device, loaded);
    await expect(classifier.scores({ data: new Uint8Array(0), width: 0, height: 10 })).rejects.toThrow(ShapeError);
    await expect(classifier.scores({ data: new Uint8Array(0), width: 10, height: 0 })).rejects.toThrow(/image is empty \(10x0\)/);
    await expect(classifier.scores({ data: new Uint8Array(0), width: NaN, height: 5 })).rejects.toThrow(ShapeError);
    await expect(classifier.scores({ data: new Uint8Array(10), width: 4, height: 4 })).rejects.toThrow(/RGBA image data has 10 bytes, 4x4 needs 64/);
    classifier.dispose();
  });

  it('says why a browser image is 0x0: not loaded, failed to decode, no frame yet, or closed', async () => {
    // Node has no DOM: stand-ins with the sizes browsers report (a closed frame or bitmap measures 0x0).
    class HTMLImageElement {
      constructor(readonly complete: boolean) {}
      readonly naturalWidth = 0;
      readonly naturalHeight = 0;
    }
    class HTMLVideoElement {
      readonly videoWidth = 0;
      readonly videoHeight = 0;
    }
    class VideoFrame {
      readonly displayWidth = 0;
      readonly displayHeight = 0;
    }
    class ImageBitmap {
      readonly width = 0;
      readonly height = 0;
    }
    vi.stubGlobal('HTMLImageElement', HTMLImageElement);
    vi.stubGlobal('HTMLVideoElement', HTMLVideoElement);
    vi.stubGlobal('VideoFrame', VideoFrame);
    vi.stubGlobal('ImageBitmap', ImageBitmap);
    const classifier = await ImageClassifier.create(device, loaded);
    try {
      const cases: [object, RegExp][] = [
        [new HTMLImageElement(true), /^image is empty \(0x0\); the <img> failed to load or decode/],
        [new HTMLImageElement(false), /^image is empty \(0x0\); the <img> has not loaded yet: await img\.decode\(\) first$/],
        [new HTMLVideoElement(), /; the video has no frame yet/],
        [new VideoFrame(), /^image is empty \(0x0\); the VideoFrame is closed/],
        [new ImageBitmap(), /^image is empty \(0x0\); the ImageBitmap is closed/],
      ];
      for (const [source, pattern] of cases) {
        const run = classifier.scores(source as ImageSource);
        await expect(run).rejects.toThrow(ShapeError);
        await expect(run).rejects.toThrow(pattern);
      }
    } finally {
      vi.unstubAllGlobals();
      classifier.dispose();
    }
  });

  it('classifies odd sizes (641x479, 1x1, 3x1000) into valid distributions', async () => {
    for (const resize of ['stretch', 'center-crop'] as const) {
      const classifier = await ImageClassifier.create(device, { ...loaded, preprocessing: { ...preprocessing, resize, cropFraction: resize === 'stretch' ? 1 : 0.875 } });
      for (const [w, h] of [[641, 479], [1, 1], [3, 1000], [641, 479]]) {
        const scores = await classifier.scores(image(w, h));
        expect(scores).toHaveLength(10);
        const sum = scores.reduce((a, b) => a + b, 0);
        expect(scores.every((s) => Number.isFinite(s) && s >= 0), `${resize} ${w}x${h}`).toBe(true);
        expect(sum).toBeCloseTo(1, 4);
        const top = await classifier.classify(image(w, h), { topK: 3 });
        expect(top).toHaveLength(3);
      }
      classifier.dispose();
    }
  });
});
