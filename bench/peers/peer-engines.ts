/**
 * The peers' engine code, shared by the browser page (`engines.ts`, wasm binaries served by Vite) and
 * `npm run bench:peers -- --runtime node` (`node-engines.ts`, wasm binaries read from node_modules or the
 * device kit, `navigator.gpu` being Dawn's): each runtime hands in the ONNX Runtime module it loaded and how to
 * get the wasm bytes.
 *
 * - `ort-jsep` / `ort-webgpu`: ONNX Runtime Web (JSEP or native WebGPU execution provider) on the same ONNX
 *   bytes as webcnn, `executionProviders: ['webgpu']`, outputs on the CPU, single-threaded CPU side, no proxy;
 * - `tfjs-webgpu` / `tfjs-wasm`: TensorFlow.js with one of its backends, the network built from the folded
 *   graph by `tfjs-model.ts`.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as OrtModule from 'onnxruntime-web';
import type { EngineId, PeerEngine, PeerModel } from './protocol.ts';
import type { TfjsModel } from './tfjs-model.ts';
import { buildTfjsModel } from './tfjs-model.ts';

export type Ort = typeof OrtModule;

/**
 * An ONNX Runtime Web engine. `wasmBinary` gives the runtime's wasm bytes (fetched or read before the cold
 * start timer where the caller preloads them).
 */
export function ortEngine(
  id: 'ort-jsep' | 'ort-webgpu',
  ort: Ort,
  wasmBinary: () => Promise<ArrayBuffer | Uint8Array>,
  label: string,
): PeerEngine {
  let session: OrtModule.InferenceSession | null = null;
  let dims: number[] = [];
  return {
    id,
    label,
    webgpu: true,
    async prepare(model: PeerModel) {
      ort.env.wasm.numThreads = 1;
      ort.env.wasm.proxy = false;
      ort.env.wasm.wasmBinary = await wasmBinary();
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

/**
 * A TF.js engine. TF.js has one global backend: each engine switches to its own before running (outside the
 * timer). `beforePrepare` runs first (e.g. fetching the wasm binary into the HTTP cache).
 */
export function tfjsEngine(
  id: 'tfjs-webgpu' | 'tfjs-wasm',
  backend: 'webgpu' | 'wasm',
  label: string,
  beforePrepare?: () => Promise<void>,
): PeerEngine {
  let model: TfjsModel | null = null;
  return {
    id,
    label,
    webgpu: backend === 'webgpu',
    async prepare(m: PeerModel) {
      await beforePrepare?.();
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

/** The report's engine names. */
export function engineLabels(ortVersion: string): Readonly<Record<EngineId, string>> {
  return {
    webcnn: 'webcnn',
    'ort-jsep': `ORT Web ${ortVersion} WebGPU (JSEP)`,
    'ort-webgpu': `ORT Web ${ortVersion} WebGPU (native EP)`,
    'tfjs-webgpu': `TF.js ${tf.version_core} WebGPU`,
    'tfjs-wasm': `TF.js ${tf.version_core} WASM (CPU)`,
  };
}

/** An engine that could not be loaded in this runtime: its set-up fails with `why` (an error row in the report). */
export function unavailableEngine(id: EngineId, label: string, webgpu: boolean, why: string): PeerEngine {
  return {
    id,
    label,
    webgpu,
    async prepare() {
      throw new Error(why);
    },
    async run() {
      throw new Error(why);
    },
    async dispose() {},
  };
}
