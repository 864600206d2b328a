/**
 * The peers under Node (`npm run bench:peers -- --runtime node`), in the same process and on the same Dawn
 * `GPU` object (so the same adapter) as webcnn: Dawn's `GPU` is exposed as `navigator.gpu` (Node 20 has no
 * `navigator`; Node 21+ has one without `gpu`) before the peers load, since ONNX Runtime Web and TF.js's WebGPU
 * backend look for it there (TF.js registers its backend at import time only when it finds it).
 *
 * - `ort-jsep`: `onnxruntime-web/all` (Node's export of the package root, `ort.node`, is a CPU-only build; the
 *   `all` build is the browser's JSEP build plus WebGL/WebNN, which need nothing until used);
 * - `ort-webgpu`: `onnxruntime-web/webgpu` (the native WebGPU EP, Dawn compiled to wasm over `navigator.gpu`);
 * - `tfjs-webgpu`, `tfjs-wasm`: TF.js 4 backends (Node entry points of the same packages as the page).
 *
 * The wasm binaries are read from disk before the cold start (the page fetches them beforehand the same way):
 * from `$WEBCNN_PEER_WASM_DIR` when set (the device kit, `scripts/device/pack.sh`), else from node_modules.
 * An engine that fails to load becomes an error row (`unavailableEngine`) with the reason.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { EngineFactory, EngineId, PeerEngine } from './protocol.ts';
import { errorText } from './protocol.ts';
import type { Ort } from './peer-engines.ts';
import { engineLabels, ortEngine, tfjsEngine, unavailableEngine } from './peer-engines.ts';

/** The wasm files the Node peers read: name in `$WEBCNN_PEER_WASM_DIR` -> module specifier in node_modules. */
export const NODE_PEER_WASM: Readonly<Record<string, string>> = {
  'ort-wasm-simd-threaded.jsep.wasm': 'onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm',
  'ort-wasm-simd-threaded.asyncify.wasm': 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm',
  'tfjs-backend-wasm-simd.wasm': '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm',
  'tfjs-backend-wasm.wasm': '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm',
};

function wasmFile(name: keyof typeof NODE_PEER_WASM & string): string {
  const dir = process.env.WEBCNN_PEER_WASM_DIR;
  if (dir) return join(dir, name);
  return createRequire(import.meta.url).resolve(NODE_PEER_WASM[name]);
}

const PATCHED = Symbol.for('webcnn.writeBufferFromSharedMemory');

/**
 * Dawn's Node binding rejects `queue.writeBuffer` from shared memory (a `SharedArrayBuffer`, or a view of one:
 * "no overload matched for writeBuffer" / "Invalid argument"), which WebGPU allows (`AllowSharedBufferSource`)
 * and browsers take. ONNX Runtime Web's builds are threaded, so their wasm heap is shared memory and every
 * upload (weights, inputs, uniforms) comes from it. This copies such data to a plain buffer first (what a
 * browser does anyway to cross into its GPU process); other data goes through untouched.
 */
export function allowSharedMemoryUploads(): void {
  const Queue = (globalThis as unknown as { GPUQueue?: { prototype: GPUQueue & { [PATCHED]?: boolean } } }).GPUQueue;
  if (!Queue || Queue.prototype[PATCHED]) return;
  const original = Queue.prototype.writeBuffer;
  Queue.prototype.writeBuffer = function (this: GPUQueue, buffer: GPUBuffer, offset: GPUSize64, data: unknown, dataOffset?: GPUSize64, size?: GPUSize64) {
    if (data instanceof SharedArrayBuffer) {
      const start = dataOffset ?? 0;
      const bytes = new Uint8Array(data, start, size ?? data.byteLength - start).slice();
      return original.call(this, buffer, offset, bytes);
    }
    if (ArrayBuffer.isView(data) && data.buffer instanceof SharedArrayBuffer) {
      // Offsets and sizes count elements of a typed array (bytes of a DataView).
      const unit = (data as unknown as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1;
      const start = data.byteOffset + (dataOffset ?? 0) * unit;
      const length = size !== undefined ? size * unit : data.byteLength - (dataOffset ?? 0) * unit;
      return original.call(this, buffer, offset, new Uint8Array(data.buffer, start, length).slice());
    }
    return original.call(this, buffer, offset, data as GPUAllowSharedBufferSource, dataOffset, size);
  } as GPUQueue['writeBuffer'];
  Queue.prototype[PATCHED] = true;
}

/**
 * Makes `gpu` the global `navigator.gpu` (defining `navigator` where Node has none) and lets uploads come from
 * shared memory (`allowSharedMemoryUploads`). Returns a note on what it did, for the log.
 */
export function exposeNavigatorGpu(gpu: GPU): string {
  allowSharedMemoryUploads();
  const g = globalThis as unknown as { navigator?: object };
  if (g.navigator === undefined) {
    Object.defineProperty(globalThis, 'navigator', {
      value: { gpu, userAgent: `Node.js/${process.version.slice(1)}`, language: 'en-US', hardwareConcurrency: 1 },
      configurable: true,
      writable: true,
    });
    return 'navigator defined with gpu = Dawn';
  }
  Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true, writable: true });
  return 'navigator.gpu = Dawn';
}

/**
 * A CommonJS module (TF.js's Node entry points) from `import()`: Node gives its exports as named exports too,
 * a bundle (esbuild, the device kit) as `default` only.
 */
function commonJs<T extends object>(m: T): T {
  const d = (m as { default?: unknown }).default;
  return d && typeof d === 'object' ? (d as T) : m;
}

export interface NodePeers {
  /** Makes a peer engine (not webcnn: the caller has its own). */
  readonly create: (id: Exclude<EngineId, 'webcnn'>) => PeerEngine;
  readonly labels: Readonly<Record<EngineId, string>>;
  readonly versions: Readonly<Record<string, string>>;
  /** Why an engine could not be loaded, by engine. */
  readonly loadErrors: Readonly<Partial<Record<EngineId, string>>>;
}

/**
 * Loads the requested peers' modules after exposing `gpu` as `navigator.gpu`. Each failure is kept per engine
 * (its row then reports it) instead of failing the run.
 */
export async function loadNodePeers(gpu: GPU, engines: readonly EngineId[]): Promise<NodePeers> {
  exposeNavigatorGpu(gpu);
  const loadErrors: Partial<Record<EngineId, string>> = {};
  const versions: Record<string, string> = {};
  const tryLoad = async <T>(ids: EngineId[], load: () => Promise<T>): Promise<T | null> => {
    if (!ids.some((id) => engines.includes(id))) return null;
    try {
      return await load();
    } catch (e) {
      for (const id of ids) loadErrors[id] = `could not load under Node: ${errorText(e)}`;
      return null;
    }
  };
  const ortJsep = await tryLoad(['ort-jsep'], async () => (await import('onnxruntime-web/all')) as unknown as Ort);
  const ortWebgpu = await tryLoad(['ort-webgpu'], async () => (await import('onnxruntime-web/webgpu')) as unknown as Ort);
  const ortVersion = ortJsep?.env.versions.web ?? ortWebgpu?.env.versions.web;
  if (ortVersion) versions['onnxruntime-web'] = ortVersion;
  versions['@tensorflow/tfjs-core'] = tf.version_core;
  await tryLoad(['tfjs-webgpu'], async () => {
    await import('@tensorflow/tfjs-backend-webgpu');
    if (!tf.findBackendFactory('webgpu')) throw new Error('the TF.js WebGPU backend did not register (no navigator.gpu when it loaded?)');
  });
  await tryLoad(['tfjs-wasm'], async () => {
    const wasm = commonJs(await import('@tensorflow/tfjs-backend-wasm'));
    // A directory prefix: under Node the backend reads `prefix + file name` from disk.
    wasm.setWasmPaths(`${dirname(wasmFile('tfjs-backend-wasm-simd.wasm'))}/`);
    versions['@tensorflow/tfjs-backend-wasm'] = wasm.version_wasm;
  });
  const labels = engineLabels(ortVersion ?? '?');
  const bytes = new Map<string, Promise<Uint8Array>>();
  const read = (name: keyof typeof NODE_PEER_WASM & string) => {
    let p = bytes.get(name);
    if (!p) {
      p = readFile(wasmFile(name));
      bytes.set(name, p);
    }
    return p;
  };
  const create = (id: Exclude<EngineId, 'webcnn'>): PeerEngine => {
    const why = loadErrors[id];
    if (why) return unavailableEngine(id, labels[id], id !== 'tfjs-wasm', why);
    switch (id) {
      case 'ort-jsep':
        return ortEngine(id, ortJsep!, () => read('ort-wasm-simd-threaded.jsep.wasm'), labels[id]);
      case 'ort-webgpu':
        return ortEngine(id, ortWebgpu!, () => read('ort-wasm-simd-threaded.asyncify.wasm'), labels[id]);
      case 'tfjs-webgpu':
        return tfjsEngine(id, 'webgpu', labels[id]);
      case 'tfjs-wasm':
        return tfjsEngine(id, 'wasm', labels[id]);
    }
  };
  // Read the binaries now, so that no cold start includes reading them.
  if (engines.includes('ort-jsep') && !loadErrors['ort-jsep']) await read('ort-wasm-simd-threaded.jsep.wasm').catch(() => undefined);
  if (engines.includes('ort-webgpu') && !loadErrors['ort-webgpu']) await read('ort-wasm-simd-threaded.asyncify.wasm').catch(() => undefined);
  return { create, labels, versions, loadErrors };
}

/** webcnn from `webcnn` plus the peers. */
export function nodeEngineFactory(webcnn: () => PeerEngine, peers: NodePeers): EngineFactory {
  return (id) => (id === 'webcnn' ? webcnn() : peers.create(id));
}
