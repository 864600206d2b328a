/**
 * The browser's peers (webcnn itself is `webcnn-engine.ts`):
 *
 * - `ort-jsep`: ONNX Runtime Web's JSEP WebGPU execution provider (`onnxruntime-web`, the default build);
 * - `ort-webgpu`: ONNX Runtime Web's native (C++, Dawn-on-wasm) WebGPU execution provider
 *   (`onnxruntime-web/webgpu`, which from 1.2x is that build);
 *   both on the same ONNX bytes as webcnn, `executionProviders: ['webgpu']`, outputs on the CPU;
 * - `tfjs-webgpu` / `tfjs-wasm`: TensorFlow.js with its WebGPU backend, and its WASM (XNNPACK, CPU) backend as
 *   the CPU reference column, the network built from the folded graph by `tfjs-model.ts`.
 *
 * The wasm binaries are served from node_modules by Vite (`?url`); ONNX Runtime gets its binary as bytes
 * fetched before the cold-start timer starts (downloading code is not the engine's start-up), TF.js's is
 * fetched once beforehand so that it comes from the HTTP cache.
 */
import * as ortJsep from 'onnxruntime-web';
import * as ortWebgpu from 'onnxruntime-web/webgpu';
import jsepWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm?url';
import asyncifyWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths, version_wasm } from '@tensorflow/tfjs-backend-wasm';
import tfWasmUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import tfWasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import tfWasmThreadedUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { acquireDevice } from '../../src/gpu/device.ts';
import type { EngineId, PeerEngine, PeerModel } from './protocol.ts';
import type { TfjsModel } from './tfjs-model.ts';
import { buildTfjsModel } from './tfjs-model.ts';
import { webcnnEngine } from './webcnn-engine.ts';

type Ort = typeof ortJsep;

setWasmPaths({
  'tfjs-backend-wasm.wasm': tfWasmUrl,
  'tfjs-backend-wasm-simd.wasm': tfWasmSimdUrl,
  'tfjs-backend-wasm-threaded-simd.wasm': tfWasmThreadedUrl,
});

export const PEER_VERSIONS: Readonly<Record<string, string>> = {
  'onnxruntime-web': ortJsep.env.versions.web ?? ortJsep.env.versions.common,
  '@tensorflow/tfjs-core': tf.version_core,
  '@tensorflow/tfjs-backend-wasm': version_wasm,
};

const wasmBytes = new Map<string, Promise<ArrayBuffer>>();
function fetchBytes(url: string): Promise<ArrayBuffer> {
  let p = wasmBytes.get(url);
  if (!p) {
    p = fetch(url).then((r) => {
      if (!r.ok) throw new Error(`fetching ${url}: HTTP ${r.status}`);
      return r.arrayBuffer();
    });
    wasmBytes.set(url, p);
  }
  return p;
}

/**
 * Downloads what the engines fetch at start-up (wasm binaries), so that cold starts time the start-up and not
 * the download. Call before any cold start.
 */
export async function preloadEngineAssets(engines: readonly EngineId[]): Promise<void> {
  const urls: string[] = [];
  if (engines.includes('ort-jsep')) urls.push(jsepWasmUrl);
  if (engines.includes('ort-webgpu')) urls.push(asyncifyWasmUrl);
  if (engines.includes('tfjs-wasm')) urls.push(tfWasmSimdUrl, tfWasmUrl);
  await Promise.all(urls.map(fetchBytes));
}

function ortEngine(id: 'ort-jsep' | 'ort-webgpu', ort: Ort, wasmUrl: string, label: string): PeerEngine {
  let session: ortJsep.InferenceSession | null = null;
  let dims: number[] = [];
  return {
    id,
    label,
    webgpu: true,
    async prepare(model: PeerModel) {
      // Single-threaded CPU side (the page is not cross-origin isolated), no proxy worker, the binary as bytes.
      ort.env.wasm.numThreads = 1;
      ort.env.wasm.proxy = false;
      ort.env.wasm.wasmBinary = await fetchBytes(wasmUrl);
      session = await ort.InferenceSession.create(model.onnx, {
        executionProviders: ['webgpu'],
        graphOptimizationLevel: 'all',
      });
      dims = [...model.inputShape];
    },
    async run(input) {
      if (!session) throw new Error(`${id}: run before prepare`);
      const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', input, dims) };
      const results = await session.run(feeds);
      const out = results[session.outputNames[0]];
      const data = ((await out.getData()) as Float32Array).slice();
      for (const name of session.outputNames) results[name].dispose();
      return data;
    },
    async dispose() {
      await session?.release();
      session = null;
    },
    describe: () => ({ version: ort.env.versions.web ?? '', executionProvider: 'webgpu' }),
  };
}

/** TF.js has one global backend: each engine switches to its own before running (outside the timer). */
function tfjsEngine(id: 'tfjs-webgpu' | 'tfjs-wasm', backend: 'webgpu' | 'wasm', label: string): PeerEngine {
  let model: TfjsModel | null = null;
  return {
    id,
    label,
    webgpu: backend === 'webgpu',
    async prepare(m: PeerModel) {
      if (backend === 'wasm') await fetchBytes(tfWasmSimdUrl);
      if (!(await tf.setBackend(backend))) throw new Error(`TF.js backend ${backend} failed to initialize`);
      await tf.ready();
      model = buildTfjsModel(m.folded);
    },
    async activate() {
      if (tf.getBackend() !== backend) await tf.setBackend(backend);
    },
    async run(input) {
      if (!model) throw new Error(`${id}: run before prepare`);
      if (tf.getBackend() !== backend) await tf.setBackend(backend);
      return model.run(input);
    },
    async dispose() {
      model?.dispose();
      model = null;
    },
    describe: () => ({ backend, version: tf.version_core, weightTensors: String(model?.weightTensors ?? '') }),
  };
}

export const ENGINE_LABELS: Readonly<Record<EngineId, string>> = {
  webcnn: 'webcnn',
  'ort-jsep': `ORT Web ${PEER_VERSIONS['onnxruntime-web']} WebGPU (JSEP)`,
  'ort-webgpu': `ORT Web ${PEER_VERSIONS['onnxruntime-web']} WebGPU (native EP)`,
  'tfjs-webgpu': `TF.js ${tf.version_core} WebGPU`,
  'tfjs-wasm': `TF.js ${tf.version_core} WASM (CPU)`,
};

/** Every engine the page has. */
export function createBrowserEngine(id: EngineId): PeerEngine {
  switch (id) {
    case 'webcnn':
      return webcnnEngine(async () => (await acquireDevice({ timestamps: true })).device);
    case 'ort-jsep':
      return ortEngine(id, ortJsep, jsepWasmUrl, ENGINE_LABELS[id]);
    case 'ort-webgpu':
      return ortEngine(id, ortWebgpu, asyncifyWasmUrl, ENGINE_LABELS[id]);
    case 'tfjs-webgpu':
      return tfjsEngine(id, 'webgpu', ENGINE_LABELS[id]);
    case 'tfjs-wasm':
      return tfjsEngine(id, 'wasm', ENGINE_LABELS[id]);
  }
}
