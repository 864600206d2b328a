/**
 * Weights against the device's buffer limits, on a real device (Dawn in Node) whose `limits` a proxy makes tiny:
 * each layer's weights are a buffer of their own, so a model whose weights together exceed
 * `maxStorageBufferBindingSize` compiles and runs when every layer's fit; one layer's weights over the limit
 * are a one-line `ResourceLimitError` naming the layer and both sizes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResourceLimitError } from '../src/errors.ts';
import { acquireNodeDevice } from '../src/gpu/node-device.ts';
import { GraphBuilder } from '../src/graph/builder.ts';
import { compileModel } from '../src/index.ts';
import { runGraphReference } from '../src/reference/index.ts';
import { Rng } from '../src/util/random.ts';

let real: GPUDevice;
beforeAll(async () => {
  real = (await acquireNodeDevice()).device;
});
afterAll(() => real?.destroy());

type BufferLimits = Partial<Record<'maxBufferSize' | 'maxStorageBufferBindingSize', number>>;

/** `device` as compileModel sees it, with smaller buffer limits (WebGPU never grants less than its defaults). */
function limited(device: GPUDevice, override: BufferLimits): GPUDevice {
  const limits = new Proxy(device.limits, {
    get: (target, key) => (key in override ? override[key as keyof BufferLimits] : Reflect.get(target, key, target)),
  });
  return new Proxy(device, {
    get(target, key) {
      if (key === 'limits') return limits;
      const v: unknown = Reflect.get(target, key, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

/** Two 3x3 convolutions of `c` channels (weights 36 c^2 bytes each) on a 4x4 map. */
function twoConvs(c: number) {
  const rng = new Rng(7);
  const b = new GraphBuilder();
  const x = b.input('x', [1, c, 4, 4]);
  const y = b.conv2d(x, { outChannels: c, kernel: 3, padding: 1, weight: rng.fill(c * c * 9, -0.2, 0.2), bias: rng.fill(c, -1, 1) }, 'first');
  b.output(b.conv2d(y, { outChannels: c, kernel: 3, padding: 1, weight: rng.fill(c * c * 9, -0.2, 0.2) }, 'second'));
  return b.build();
}

describe('weights and the device limits', () => {
  it('weights over the binding limit in all, each layer under it: compiles and matches the reference', async () => {
    const graph = twoConvs(32); // 36,864 bytes of weights per layer, 73,728 together
    const model = await compileModel(limited(real, { maxStorageBufferBindingSize: 65536 }), graph);
    try {
      expect(model.memory.weightBytes).toBeGreaterThan(65536);
      const x = new Rng(3).fill(32 * 16, -1, 1);
      const [y] = await model.run([x]);
      const [want] = runGraphReference(graph, [x]);
      const scale = Math.max(...want.map(Math.abs));
      for (let i = 0; i < want.length; i++) expect(Math.abs(y[i] - want[i])).toBeLessThanOrEqual(1e-4 * scale + 1e-5);
    } finally {
      model.dispose();
    }
  });

  it("one layer's weights over the limit: a one-line ResourceLimitError naming the layer and the sizes", async () => {
    for (const key of ['maxStorageBufferBindingSize', 'maxBufferSize'] as const) {
      const e = await compileModel(limited(real, { [key]: 32768 }), twoConvs(32)).then(
        () => null,
        (err: Error) => err,
      );
      expect(e).toBeInstanceOf(ResourceLimitError);
      expect(e!.message).not.toContain('\n');
      expect(e!.message).toMatch(
        new RegExp(`^first .*: buffer of \\d+ bytes exceeds the device's ${key} 32768: one layer's weights are bound as one buffer; acquireDevice\\(\\) asks for the adapter's highest limits$`),
      );
    }
  });
});
