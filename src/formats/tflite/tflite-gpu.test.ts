/**
 * The shared TFLite MobileNetV2 compiled and run on WebGPU under Node (Dawn; SwiftShader on machines without a
 * GPU), checked against the CPU reference of the same graph. Skips when the shared folder or WebGPU is missing.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { WebGPUUnavailableError } from '../../errors.ts';
import { acquireNodeDevice } from '../../gpu/node-device.ts';
import type { Graph } from '../../graph/ir.ts';
import { runGraphReference } from '../../reference/index.ts';
import { compileModel } from '../../runtime/compile.ts';
import { hasShared, SHARED_CAT, SHARED_LABELS, SHARED_MODEL } from '../../../test/shared.ts';
import { loadTflite } from './index.ts';
import { readBmp24, resizeArea, toInputTensor, topK } from '../../../test/helpers/image.ts';

const shared = hasShared();
if (!shared) console.warn(`skipping the TFLite GPU test: ${SHARED_MODEL} is missing (set WEBCNN_SHARED)`);

function compare(gpu: Float32Array, ref: Float32Array): { maxDiff: number; maxRef: number } {
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < ref.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(gpu[i] - ref[i]));
    maxRef = Math.max(maxRef, Math.abs(ref[i]));
  }
  return { maxDiff, maxRef };
}

describe.skipIf(!shared)('TFLite MobileNetV2 on WebGPU (Node, Dawn)', () => {
  let device: GPUDevice | null = null;
  afterAll(() => device?.destroy());

  it('matches the CPU reference on cat.bmp (logits and probabilities), same top-1', async (ctx) => {
    try {
      ({ device } = await acquireNodeDevice());
    } catch (e) {
      if (e instanceof WebGPUUnavailableError) {
        console.warn(`skipping the TFLite GPU test: ${e.message}`);
        ctx.skip();
      }
      throw e;
    }
    const model = loadTflite(new Uint8Array(readFileSync(SHARED_MODEL)));
    const softmax = model.graph.nodes.find((n) => n.op === 'softmax' && n.output === model.graph.outputs[0])!;
    // Also read back the logits (the softmax's input) for a sharper comparison than the probabilities.
    const graph: Graph = { ...model.graph, outputs: [model.graph.outputs[0], softmax.inputs[0]] };
    const labels = readFileSync(SHARED_LABELS, 'utf8').split('\n');
    const input = toInputTensor(resizeArea(readBmp24(new Uint8Array(readFileSync(SHARED_CAT))), 224, 224), model.preprocessing!);

    const t0 = performance.now();
    const compiled = await compileModel(device!, graph);
    const compileMs = performance.now() - t0;
    try {
      const t1 = performance.now();
      const [probs, logits] = await compiled.run([input]);
      const runMs = performance.now() - t1;
      const [refProbs, refLogits] = runGraphReference(graph, [input]);

      const p = compare(probs, refProbs);
      const l = compare(logits, refLogits);
      const top = topK(probs, 5);
      console.log(
        `GPU compile ${compileMs.toFixed(0)} ms, first run ${runMs.toFixed(0)} ms, ${compiled.dispatchCount} dispatches; ` +
          `logits max|diff| ${l.maxDiff.toExponential(2)} (max|ref| ${l.maxRef.toFixed(3)}), ` +
          `probs max|diff| ${p.maxDiff.toExponential(2)} (max|ref| ${p.maxRef.toFixed(4)}); GPU top-5: ` +
          top.map((i) => `${i} ${labels[i]} ${probs[i].toFixed(4)}`).join('; '),
      );
      expect(l.maxDiff).toBeLessThanOrEqual(1e-3 * l.maxRef);
      expect(p.maxDiff).toBeLessThanOrEqual(1e-3 * p.maxRef);
      expect(top[0]).toBe(topK(refProbs, 1)[0]);
      expect(top.slice(0, 3)).toContain(286);
    } finally {
      compiled.dispose();
    }
  });
});
