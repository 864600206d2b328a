import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runGraphReference } from '../../reference/index.ts';
import { hasShared, hasSharedModel, SHARED_CAT, SHARED_LABELS, SHARED_MODEL } from '../../../test/shared.ts';
import { loadTflite } from './index.ts';
import { readBmp24, resizeArea, resizeBilinear, toInputTensor, topK } from '../../../test/helpers/image.ts';

// The model alone may be here (`npm run fetch-model`); the cat test also needs the shared labels and photo.
const shared = hasSharedModel();
if (!shared) console.warn(`skipping the shared TFLite model tests: ${SHARED_MODEL} is missing (set WEBCNN_SHARED or run npm run fetch-model)`);

describe.skipIf(!shared)('TFLite loader on the shared MobileNetV2 (uint8)', () => {
  const bytes = shared ? new Uint8Array(readFileSync(SHARED_MODEL)) : new Uint8Array(0);

  it('loads: one [1, 3, 224, 224] input, 1001 probabilities, labels from the embedded zip', () => {
    const t0 = performance.now();
    const model = loadTflite(bytes);
    const ms = performance.now() - t0;
    const counts: Record<string, number> = {};
    for (const n of model.graph.nodes) counts[n.op] = (counts[n.op] ?? 0) + 1;
    console.log(`load ${ms.toFixed(0)} ms; TFLite ops: ${model.metadata.opCounts}; IR nodes: ${JSON.stringify(counts)}`);
    expect(model.graph.inputs.length).toBe(1);
    expect(model.graph.tensors[model.graph.inputs[0]].shape).toEqual([1, 3, 224, 224]);
    expect(model.graph.tensors[model.graph.outputs[0]].shape).toEqual([1, 1001, 1, 1]);
    expect(model.inputDims).toEqual([[1, 224, 224, 3]]);
    expect(model.outputDims).toEqual([[1, 1001]]);
    expect(counts).toEqual({ conv2d: 53, add: 10, avgPool: 1, softmax: 1 });
    expect(model.metadata.opCounts).toBe('CONV_2D x36, DEPTHWISE_CONV_2D x17, ADD x10, AVERAGE_POOL_2D x1, RESHAPE x1, SOFTMAX x1');
    expect(model.outputsProbabilities).toBe(true);
    expect(model.preprocessing).toMatchObject({ size: [224, 224], resize: 'stretch' });
    expect(model.preprocessing!.mean[0]).toBeCloseTo(128 / 255, 12);
    expect(model.preprocessing!.std[0]).toBeCloseTo(128 / 255, 12);
    expect(model.metadata.minRuntimeVersion).toBe('1.5.0');
    expect(model.metadata.weights).toBe('uint8 per-tensor');
    expect(model.labels).toHaveLength(1001);
    expect(model.labels![286]).toBe('Egyptian cat');
    if (existsSync(SHARED_LABELS)) {
      const fileLabels = readFileSync(SHARED_LABELS, 'utf8').split('\n').filter((l) => l.length > 0);
      expect(model.labels).toEqual(fileLabels);
    }
  });

  it.skipIf(!hasShared())('classifies cat.bmp: class 286 (Egyptian cat) in the top 3 with score >= 0.7', () => {
    const model = loadTflite(bytes);
    const labels = readFileSync(SHARED_LABELS, 'utf8').split('\n');
    const image = readBmp24(new Uint8Array(readFileSync(SHARED_CAT)));
    expect([image.width, image.height]).toEqual([512, 341]);
    for (const [name, resize] of [['area', resizeArea], ['bilinear', resizeBilinear]] as const) {
      const input = toInputTensor(resize(image, 224, 224), model.preprocessing!);
      const t0 = performance.now();
      const [probs] = runGraphReference(model.graph, [input]);
      const ms = performance.now() - t0;
      const top = topK(probs, 5);
      console.log(`${name} resize, CPU reference ${ms.toFixed(0)} ms, top-5: ` +
        top.map((i) => `${i} ${labels[i]} ${probs[i].toFixed(4)}`).join('; '));
      let sum = 0;
      for (const p of probs) sum += p;
      expect(sum).toBeCloseTo(1, 4);
      expect(top.slice(0, 3)).toContain(286);
      expect(probs[286]).toBeGreaterThanOrEqual(0.7);
    }
  });
});
