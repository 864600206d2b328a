/**
 * The Node peers' adaptation layer (`bench/peers/node-engines.ts`) and `WEBCNN_DAWN_OPTIONS`, without a GPU:
 * uploads from shared memory reach `writeBuffer` as plain copies of the right bytes, everything else as it
 * was; `navigator.gpu` is defined where Node has no `navigator`. And the protocol's `primeGpu`, on Dawn (SwiftShader
 * here, as every GPU test of this suite).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { allowSharedMemoryUploads, exposeNavigatorGpu } from '../bench/peers/node-engines.ts';
import { primeGpu } from '../bench/peers/protocol.ts';
import { dawnOptionsFromEnv, nodeGpu } from '../src/gpu/node-device.ts';

type Call = [unknown, number, unknown, number?, number?];

class FakeQueue {
  calls: Call[] = [];
  writeBuffer(buffer: unknown, offset: number, data: unknown, dataOffset?: number, size?: number): undefined {
    this.calls.push(dataOffset === undefined ? [buffer, offset, data] : [buffer, offset, data, dataOffset, size]);
    return undefined;
  }
}

const g = globalThis as unknown as { GPUQueue?: unknown; navigator?: unknown };
const savedQueue = g.GPUQueue;
const savedNavigator = Object.getOwnPropertyDescriptor(globalThis, 'navigator');

afterEach(() => {
  g.GPUQueue = savedQueue;
  if (savedNavigator) Object.defineProperty(globalThis, 'navigator', savedNavigator);
  else delete g.navigator;
});

function patchedQueue(): FakeQueue & GPUQueue {
  class Queue extends FakeQueue {}
  g.GPUQueue = Queue;
  allowSharedMemoryUploads();
  allowSharedMemoryUploads(); // idempotent
  return new Queue() as unknown as FakeQueue & GPUQueue;
}

const bytesOf = (d: unknown) => Array.from(d as Uint8Array);

describe('allowSharedMemoryUploads', () => {
  it('copies a SharedArrayBuffer range to a plain Uint8Array', () => {
    const q = patchedQueue();
    const sab = new SharedArrayBuffer(16);
    new Uint8Array(sab).set([...Array(16).keys()]);
    const buffer = {} as GPUBuffer;
    q.writeBuffer(buffer, 8, sab, 4, 6);
    q.writeBuffer(buffer, 0, sab, 12);
    expect(q.calls).toHaveLength(2);
    const [[b, offset, data, ...rest], [, , tail]] = q.calls;
    expect(b).toBe(buffer);
    expect(offset).toBe(8);
    expect(rest).toEqual([]);
    expect(data).toBeInstanceOf(Uint8Array);
    expect((data as Uint8Array).buffer).toBeInstanceOf(ArrayBuffer);
    expect(bytesOf(data)).toEqual([4, 5, 6, 7, 8, 9]);
    expect(bytesOf(tail)).toEqual([12, 13, 14, 15]);
  });

  it('counts the offset and size of a typed-array view of shared memory in elements', () => {
    const q = patchedQueue();
    const sab = new SharedArrayBuffer(64);
    const all = new Float32Array(sab);
    all.set([...Array(16).keys()].map((i) => i + 0.5));
    const view = new Float32Array(sab, 8, 10); // elements 2..11
    q.writeBuffer({} as GPUBuffer, 0, view, 3, 4); // elements 5..8
    q.writeBuffer({} as GPUBuffer, 0, view, 7); // elements 9..11
    q.writeBuffer({} as GPUBuffer, 0, new DataView(sab, 4, 8)); // bytes 4..11
    const floats = (d: unknown) => Array.from(new Float32Array((d as Uint8Array).slice().buffer));
    expect(floats(q.calls[0][2])).toEqual([5.5, 6.5, 7.5, 8.5]);
    expect(floats(q.calls[1][2])).toEqual([9.5, 10.5, 11.5]);
    expect(floats(q.calls[2][2])).toEqual([1.5, 2.5]);
  });

  it('passes other data through untouched', () => {
    const q = patchedQueue();
    const plain = new Float32Array(8);
    const ab = new ArrayBuffer(12);
    q.writeBuffer({} as GPUBuffer, 4, plain, 2, 3);
    q.writeBuffer({} as GPUBuffer, 0, ab);
    expect(q.calls[0][2]).toBe(plain);
    expect(q.calls[0].slice(3)).toEqual([2, 3]);
    expect(q.calls[1][2]).toBe(ab);
  });
});

describe('exposeNavigatorGpu', () => {
  it('makes the GPU object navigator.gpu, defining navigator where there is none', () => {
    delete g.navigator;
    const gpu = { fake: true } as unknown as GPU;
    expect(exposeNavigatorGpu(gpu)).toContain('navigator defined');
    expect((globalThis as unknown as { navigator: { gpu: GPU } }).navigator.gpu).toBe(gpu);
    const other = { other: true } as unknown as GPU;
    expect(exposeNavigatorGpu(other)).toBe('navigator.gpu = Dawn');
    expect((globalThis as unknown as { navigator: { gpu: GPU } }).navigator.gpu).toBe(other);
  });
});

describe('dawnOptionsFromEnv', () => {
  it('splits on spaces and semicolons, keeping commas inside an option', () => {
    expect(dawnOptionsFromEnv(undefined)).toEqual([]);
    expect(dawnOptionsFromEnv('  ')).toEqual([]);
    expect(dawnOptionsFromEnv('backend=vulkan adapter=NVIDIA;enable-dawn-features=a,b')).toEqual([
      'backend=vulkan',
      'adapter=NVIDIA',
      'enable-dawn-features=a,b',
    ]);
  });
});

describe('primeGpu', () => {
  it('compiles and runs its kernel on a device of its own, then destroys that device', async () => {
    const gpu = await nodeGpu();
    const devices: GPUDevice[] = [];
    // The GPU object as the protocol sees it, recording the devices it hands out.
    const recording = {
      async requestAdapter(options?: GPURequestAdapterOptions) {
        const adapter = await gpu.requestAdapter(options);
        if (!adapter) return null;
        return {
          features: adapter.features,
          limits: adapter.limits,
          info: adapter.info,
          async requestDevice(descriptor?: GPUDeviceDescriptor) {
            const device = await adapter.requestDevice(descriptor);
            devices.push(device);
            return device;
          },
        };
      },
    } as unknown as GPU;
    const ms = await primeGpu(recording);
    expect(ms).toBeGreaterThan(0);
    expect(devices).toHaveLength(1);
    expect((await devices[0].lost).reason).toBe('destroyed');
  });

  it('says so when there is no adapter', async () => {
    await expect(primeGpu({ requestAdapter: async () => null } as unknown as GPU)).rejects.toThrow('primeGpu: no WebGPU adapter');
  });
});
