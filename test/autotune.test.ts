/** The autotuner on a real WebGPU device (Dawn in Node; SwiftShader without a GPU). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnsupportedFeatureError } from '../src/errors.ts';
import { acquireNodeDevice } from '../src/gpu/node-device.ts';
import { optimizeGraph } from '../src/graph/passes/index.ts';
import { runGraphReference } from '../src/reference/index.ts';
import { MemoryTuningCache } from '../src/runtime/tuning-cache.ts';
import { TILE_CANDIDATES } from '../src/runtime/autotune.ts';
import { compileModel } from '../src/runtime/compile.ts';
import { buildCase, compareOutputs } from './gpu-cases.ts';

let device: GPUDevice;
beforeAll(async () => {
  device = (await acquireNodeDevice()).device;
});
afterAll(() => device?.destroy());

describe('autotune', () => {
  const { graph, inputs } = buildCase({ kind: 'mobilenetV2', n: 1, inputSize: 32, widthMultiplier: 0.35, numClasses: 10 });
  const convCount = optimizeGraph(graph).nodes.filter((n) => n.op === 'conv2d').length;

  it('picks a candidate tile for every convolution, reuses the cache, and stays correct', async () => {
    const cache = new MemoryTuningCache();
    const tuned = await compileModel(device, graph, { tune: { cache, repeats: 1, adapterKey: 'test' } });
    const perNode = tuned.kernels.perNode!;
    expect(perNode.size).toBe(convCount);
    const allCandidates = Object.values(TILE_CANDIDATES).flat();
    for (const tile of perNode.values()) expect(allCandidates).toContainEqual(tile);
    // Layers with the same signature share one cache entry.
    expect(cache.size).toBeGreaterThan(0);
    expect(cache.size).toBeLessThanOrEqual(convCount);

    const cmp = compareOutputs(await tuned.run(inputs), runGraphReference(graph, inputs));
    expect(cmp.ok, `max error ${cmp.maxAbsError}`).toBe(true);

    const again = await compileModel(device, graph, { tune: { cache, repeats: 1, adapterKey: 'test' } });
    expect(again.kernels.perNode).toEqual(perNode);
    tuned.dispose();
    again.dispose();

    // The tuning carried through JSON (another process) answers for every layer: nothing is measured again.
    const carried = MemoryTuningCache.fromJSON(JSON.stringify(cache));
    const restored = await compileModel(device, graph, { tune: { cache: carried, repeats: 1, adapterKey: 'test' } });
    expect(restored.kernels.perNode).toEqual(perNode);
    expect(carried.size).toBe(cache.size);
    restored.dispose();
  }, 120_000);

  it("refuses to tune on a device without 'timestamp-query' with UnsupportedFeatureError (it used to tune nothing)", async () => {
    const plain = (await acquireNodeDevice({ timestamps: false })).device;
    try {
      await expect(compileModel(plain, graph, { tune: true })).rejects.toThrow(UnsupportedFeatureError);
      await expect(compileModel(plain, graph, { tune: true })).rejects.toThrow(/tuning needs the WebGPU feature 'timestamp-query'/);
    } finally {
      plain.destroy();
    }
  });
});
