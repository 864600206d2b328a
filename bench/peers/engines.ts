/**
 * The browser's peers (webcnn itself is `webcnn-engine.ts`; the engine code is `peer-engines.ts`, shared with
 * the Node runner `node-engines.ts`):
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
import type { EngineId, PeerEngine } from './protocol.ts';
import { engineLabels, ortEngine, tfjsEngine } from './peer-engines.ts';
import { webcnnEngine } from './webcnn-engine.ts';

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

export const ENGINE_LABELS: Readonly<Record<EngineId, string>> = engineLabels(PEER_VERSIONS['onnxruntime-web']);

/** Every engine the page has. */
export function createBrowserEngine(id: EngineId): PeerEngine {
  switch (id) {
    case 'webcnn':
      return webcnnEngine(async () => (await acquireDevice({ timestamps: true })).device);
    case 'ort-jsep':
      return ortEngine(id, ortJsep, () => fetchBytes(jsepWasmUrl), ENGINE_LABELS[id]);
    case 'ort-webgpu':
      return ortEngine(id, ortWebgpu, () => fetchBytes(asyncifyWasmUrl), ENGINE_LABELS[id]);
    case 'tfjs-webgpu':
      return tfjsEngine(id, 'webgpu', ENGINE_LABELS[id]);
    case 'tfjs-wasm':
      return tfjsEngine(id, 'wasm', ENGINE_LABELS[id], async () => void (await fetchBytes(tfWasmSimdUrl)));
  }
}
