/**
 * `tsx scripts/device/probe.ts [--json FILE]`: what Dawn (the `webgpu` package) finds on this machine: the
 * adapter's vendor, architecture, device and description, its features (shader-f16, timestamp-query,
 * subgroups, ...) and limits, and whether a device with timestamps can be made on it. Exit status 0 with an
 * adapter, 3 without one (the device kit's `run.sh` then retries with NVIDIA's Vulkan driver named).
 * `WEBCNN_DAWN_OPTIONS` passes Dawn options (`src/gpu/node-device.ts`).
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { nodeGpu } from '../../src/gpu/node-device.ts';
import { describeAdapter } from '../../src/bench/timing.ts';

const { values } = parseArgs({ options: { json: { type: 'string' } } });
const env = ['VK_ICD_FILENAMES', 'VK_DRIVER_FILES', 'WEBCNN_DAWN_OPTIONS'].filter((k) => process.env[k]).map((k) => `${k}=${process.env[k]}`);
console.log(`node ${process.version} ${process.platform}-${process.arch}${env.length ? `; ${env.join(' ')}` : ''}`);
const gpu = await nodeGpu(['disable-dawn-features=timestamp_quantization']);
const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
if (!adapter) {
  console.log('adapter: none (Dawn found no WebGPU adapter)');
  process.exit(3);
}
const d = describeAdapter(adapter, `node ${process.version} (Dawn, webgpu package)`);
const info = adapter.info as GPUAdapterInfo & { backendType?: string; adapterType?: string; subgroupMinSize?: number; subgroupMaxSize?: number };
console.log(`adapter: ${[d.vendor, d.architecture, d.device, d.description].filter(Boolean).join(' / ')}` +
  `${info.backendType ? `; backend ${info.backendType}` : ''}${info.adapterType ? `; ${info.adapterType}` : ''}` +
  `${info.subgroupMinSize ? `; subgroups ${info.subgroupMinSize}-${info.subgroupMaxSize}` : ''}`);
const has = (f: string) => (adapter.features.has(f) ? 'yes' : 'no');
console.log(`features: shader-f16 ${has('shader-f16')}, timestamp-query ${has('timestamp-query')}, subgroups ${has('subgroups')}; all: ${d.features.join(' ')}`);
const l = adapter.limits;
console.log(
  `limits: maxComputeWorkgroupStorageSize ${l.maxComputeWorkgroupStorageSize}, maxComputeInvocationsPerWorkgroup ${l.maxComputeInvocationsPerWorkgroup}, ` +
    `maxComputeWorkgroupSizeX ${l.maxComputeWorkgroupSizeX}, maxStorageBufferBindingSize ${l.maxStorageBufferBindingSize}, maxBufferSize ${l.maxBufferSize}, ` +
    `maxStorageBuffersPerShaderStage ${l.maxStorageBuffersPerShaderStage}, maxComputeWorkgroupsPerDimension ${l.maxComputeWorkgroupsPerDimension}`,
);
let deviceNote = 'device: ok';
try {
  const wanted = (['timestamp-query', 'shader-f16'] as GPUFeatureName[]).filter((f) => adapter.features.has(f));
  const device = await adapter.requestDevice({ requiredFeatures: wanted });
  deviceNote = `device: ok (features ${[...device.features].sort().join(' ')})`;
  device.destroy();
} catch (e) {
  deviceNote = `device: FAILED: ${(e as Error).message}`;
}
console.log(deviceNote);
if (values.json) {
  // GPUAdapterInfo's fields are getters on its prototype: copy them by name.
  const infoFields = Object.fromEntries(
    ['vendor', 'architecture', 'device', 'description', 'subgroupMinSize', 'subgroupMaxSize', 'isFallbackAdapter'].map((k) => [k, (info as unknown as Record<string, unknown>)[k]]),
  );
  writeFileSync(values.json, `${JSON.stringify({ ...d, info: infoFields, deviceCheck: deviceNote, env }, null, 2)}\n`);
}
process.exit(deviceNote.startsWith('device: ok') ? 0 : 4);
