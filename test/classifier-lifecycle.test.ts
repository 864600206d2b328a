/**
 * ImageClassifier lifecycle on a real WebGPU device (Dawn in Node; SwiftShader without a GPU): concurrent calls,
 * cleanup when create fails, output-shape checks, use after dispose and image sizes the GPU cannot take.
 * The classifier is tiny: [1, 3, 2, 2] -> 1x1 identity conv -> global average pool, mean 0 / std 1, so a
 * solid RGBA image scores exactly its colour, [r, g, b] / 255.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DisposedError, GpuError, ModelKindError, ShapeError, UnsupportedFeatureError } from '../src/errors.ts';
import type { LoadedModel, Preprocessing } from '../src/formats/model.ts';
import { acquireNodeDevice } from '../src/gpu/node-device.ts';
import { pipelineCacheFor } from '../src/gpu/pipeline-cache.ts';
import { GraphBuilder } from '../src/graph/builder.ts';
import type { Graph } from '../src/graph/ir.ts';
import { ImageClassifier, type RgbaImage } from '../src/runtime/classifier.ts';
import { CompiledModel } from '../src/runtime/compiled-model.ts';

const preprocessing: Preprocessing = { size: [2, 2], resize: 'stretch', cropFraction: 1, mean: [0, 0, 0], std: [1, 1, 1] };
const IDENTITY = new Float32Array([1, 0, 0, 0, 1, 0, 0, 0, 1]);

function identityGraph(pool = true): Graph {
  const b = new GraphBuilder();
  const x = b.input('image', [1, 3, 2, 2]);
  const y = b.conv2d(x, { outChannels: 3, kernel: 1, weight: IDENTITY });
  b.output(pool ? b.globalAvgPool(y) : y);
  return b.build();
}

function twoInputGraph(): Graph {
  const b = new GraphBuilder();
  const x = b.input('a', [1, 3, 2, 2]);
  const y = b.input('b', [1, 3, 2, 2]);
  b.output(b.globalAvgPool(b.add(x, y)));
  return b.build();
}

function loaded(graph: Graph = identityGraph()): LoadedModel {
  return {
    format: 'onnx',
    graph,
    inputDims: graph.inputs.map((id) => graph.tensors[id].shape),
    outputDims: graph.outputs.map((id) => graph.tensors[id].shape),
    preprocessing,
    outputsProbabilities: true,
    metadata: {},
  };
}

function solid(width: number, height: number, rgb: readonly [number, number, number]): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < data.length; i += 4) data.set([...rgb, 255], i);
  return { data, width, height };
}

function expectColour(scores: Float32Array, rgb: readonly [number, number, number]): void {
  expect(scores.length).toBe(3);
  rgb.forEach((v, i) => expect(scores[i]).toBeCloseTo(v / 255, 5));
}

const RED = [255, 0, 0] as const;
const GREEN = [0, 255, 0] as const;
const BLUE = [0, 0, 255] as const;

let device: GPUDevice;
beforeAll(async () => {
  device = (await acquireNodeDevice()).device;
});
afterAll(() => device?.destroy());
afterEach(() => {
  vi.restoreAllMocks();
});

describe('ImageClassifier lifecycle', () => {
  it('gives concurrent calls each their own image, also across sizes, and a failed call does not break the rest', async () => {
    const classifier = await ImageClassifier.create(device, loaded());
    const [red, blue] = await Promise.all([classifier.scores(solid(2, 2, RED)), classifier.scores(solid(2, 2, BLUE))]);
    expectColour(red, RED);
    expectColour(blue, BLUE);

    // Different sizes: each call makes a new texture, which must not replace one a queued call still reads.
    const settled = await Promise.allSettled([
      classifier.scores(solid(3, 5, RED)),
      classifier.scores(solid(2.5, 2, GREEN)),
      classifier.scores(solid(4, 1, GREEN)),
      classifier.classify(solid(2, 2, BLUE), { topK: 1 }),
    ]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    const [s0, s1, s2, s3] = settled;
    if (s0.status === 'fulfilled') expectColour(s0.value, RED);
    if (s1.status === 'rejected') expect(s1.reason).toBeInstanceOf(ShapeError);
    if (s2.status === 'fulfilled') expectColour(s2.value, GREEN);
    if (s3.status === 'fulfilled') expect(s3.value.map((c) => c.label)).toEqual(['class 2']);
    classifier.dispose();
  });

  it('disposes the compiled model when the preprocessing pipeline fails to compile', async () => {
    // The compiled model is seen through its dispose (compileModel is a module function, not spied on).
    const dispose = vi.spyOn(CompiledModel.prototype, 'dispose');
    const cache = pipelineCacheFor(device);
    const get = cache.get.bind(cache);
    vi.spyOn(cache, 'get').mockImplementation((program) =>
      program.key.startsWith('preprocess/') ? Promise.reject(new GpuError(`kernel ${program.key} failed to compile: test`)) : get(program));
    await expect(ImageClassifier.create(device, loaded())).rejects.toThrow(GpuError);
    expect(dispose).toHaveBeenCalledTimes(1);
    const model = dispose.mock.contexts[0] as CompiledModel;
    expect(model.usable).toBe(false);
    expect(model.memory.buffers).toBe(0);
  });

  it('rejects a model whose first output is not [1, C, 1, 1] with a ModelKindError (a ShapeError) before compiling', async () => {
    const dispose = vi.spyOn(CompiledModel.prototype, 'dispose');
    const error = await ImageClassifier.create(device, loaded(identityGraph(false))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelKindError);
    expect(error).toBeInstanceOf(ShapeError);
    expect((error as Error).message).toContain('[1, 3, 2, 2]');
    expect((error as Error).message).toContain('[1, C, 1, 1]');
    expect((error as Error).message).toContain('image segmenter');
    expect((error as Error).message).not.toContain('\n');
    // The output shape is known from the graph: nothing was compiled.
    expect(dispose).not.toHaveBeenCalled();
  });

  it('rejects a model with more than one input with a ShapeError', async () => {
    await expect(ImageClassifier.create(device, loaded(twoInputGraph()))).rejects.toThrow(ShapeError);
  });

  it('rejects calls after dispose with DisposedError before touching the GPU, and dispose is idempotent', async () => {
    const classifier = await ImageClassifier.create(device, loaded());
    expectColour(await classifier.scores(solid(2, 2, GREEN)), GREEN);
    const queued = classifier.scores(solid(2, 2, RED));
    classifier.dispose();
    await expect(queued).rejects.toThrow(DisposedError);
    classifier.dispose();

    const createTexture = vi.spyOn(device, 'createTexture');
    const writeBuffer = vi.spyOn(device.queue, 'writeBuffer');
    const writeTexture = vi.spyOn(device.queue, 'writeTexture');
    await expect(classifier.scores(solid(2, 2, RED))).rejects.toThrow(DisposedError);
    await expect(classifier.classify(solid(3, 3, RED))).rejects.toThrow(DisposedError);
    expect(createTexture).not.toHaveBeenCalled();
    expect(writeBuffer).not.toHaveBeenCalled();
    expect(writeTexture).not.toHaveBeenCalled();
  });

  it('rejects image sizes that are not positive whole numbers or exceed the texture limit with a ShapeError', async () => {
    const classifier = await ImageClassifier.create(device, loaded());
    expectColour(await classifier.scores(solid(2, 2, BLUE)), BLUE);
    const max = device.limits.maxTextureDimension2D;
    const createTexture = vi.spyOn(device, 'createTexture');
    for (const [w, h] of [[2.5, 2], [2, Infinity], [NaN, 2], [0, 2], [-1, 2]]) {
      // 64 bytes covers every finite size here, so only the size itself can be wrong.
      const error = await classifier.scores({ data: new Uint8Array(64), width: w, height: h }).then(() => null, (e: unknown) => e);
      expect(error, `${w}x${h}`).toBeInstanceOf(ShapeError);
    }
    for (const [w, h] of [[max + 1, 1], [1, max + 1]]) {
      const error = await classifier.scores(solid(w, h, RED)).then(() => null, (e: unknown) => e);
      expect(error, `${w}x${h}`).toBeInstanceOf(ShapeError);
      expect((error as Error).message).toBe(
        `image is ${w}x${h}, larger than this device's maximum texture size ${max}; scale it down first`);
    }
    expect(createTexture).not.toHaveBeenCalled();
    // The classifier still works afterwards.
    expectColour(await classifier.scores(solid(2, 2, GREEN)), GREEN);
    classifier.dispose();
  });

  it('takes a preprocessing override merged over the model\'s, and refuses bad or missing fields', async () => {
    const classifier = await ImageClassifier.create(device, loaded(), { preprocessing: { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] } });
    expect(classifier.preprocessing).toEqual({ ...preprocessing, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] });
    // (p - 0.5) / 0.5 per channel: red is [1, -1, -1].
    const scores = await classifier.scores(solid(2, 2, RED));
    [1, -1, -1].forEach((v, i) => expect(scores[i]).toBeCloseTo(v, 5));
    classifier.dispose();

    const { preprocessing: _, ...bare } = loaded();
    await expect(ImageClassifier.create(device, bare, { preprocessing: { mean: [0, 0, 0] } })).rejects.toThrow(UnsupportedFeatureError);
    const full = await ImageClassifier.create(device, bare, { preprocessing });
    expectColour(await full.scores(solid(2, 2, GREEN)), GREEN);
    full.dispose();
    await expect(ImageClassifier.create(device, loaded(), { preprocessing: { std: [1, 0, 1] } })).rejects.toThrow(
      new RangeError('preprocessing.std must be three finite non-zero numbers, got [1,0,1]'));
    await expect(ImageClassifier.create(device, loaded(), { preprocessing: { size: [4, 4] } })).rejects.toThrow(ShapeError);
    for (const size of [32, [2], [2, 0], [2, 1.5], [2, '2'], null]) {
      await expect(ImageClassifier.create(device, loaded(), { preprocessing: { size: size as never } })).rejects.toThrow(
        new RangeError(`preprocessing.size must be two positive integers [height, width], got ${JSON.stringify(size)}`));
    }
    // An explicitly undefined field keeps the model's value.
    const kept = await ImageClassifier.create(device, loaded(), { preprocessing: { mean: undefined, size: undefined } });
    expect(kept.preprocessing).toEqual(preprocessing);
    kept.dispose();
  });

  it('refuses a topK that is not a positive whole number with a RangeError naming it', async () => {
    const classifier = await ImageClassifier.create(device, loaded());
    for (const k of [0, -1, 1.5, NaN]) {
      await expect(classifier.classify(solid(2, 2, RED), { topK: k })).rejects.toThrow(
        new RangeError(`topK must be a positive whole number, got ${k}`));
    }
    expect((await classifier.classify(solid(2, 2, RED), { topK: 1 })).map((c) => c.index)).toEqual([0]);
    expect(await classifier.classify(solid(2, 2, RED))).toHaveLength(3);
    classifier.dispose();
  });

  it('says which kinds of image it takes when given something else', async () => {
    const classifier = await ImageClassifier.create(device, loaded());
    const bad = [['cat.bmp', 'the string "cat.bmp"'], [null, 'null'], [{ data: new Float32Array(16), width: 2, height: 2 }, 'an object whose data is a Float32Array'], [new Map(), 'a Map']] as const;
    for (const [source, got] of bad) {
      const error = await classifier.classify(source as unknown as RgbaImage).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ShapeError);
      expect((error as Error).message).toMatch(/^classify takes decoded RGBA pixels \(\{ data: Uint8Array, width, height \}.*ImageBitmap.*VideoFrame; got /);
      expect((error as Error).message.endsWith(`got ${got}`)).toBe(true);
    }
    classifier.dispose();
  });
});
