import { WebGPUUnavailableError } from '../errors.ts';

export interface AcquireDeviceOptions {
  /** A `GPU` object; defaults to `navigator.gpu` (in Node, pass the `webgpu` package's, see `node-device.ts`). */
  gpu?: GPU;
  powerPreference?: GPUPowerPreference;
  /**
   * Ask for `timestamp-query` when the adapter has it (`lastGpuTimeMs`, tuning, profiling); default true. False
   * gives a device without it.
   */
  timestamps?: boolean;
  /** Ask for `shader-f16` when the adapter has it (native f16 storage, `compile(..., { precision: 'f16' })`); default true. */
  f16?: boolean;
}

export interface AcquiredDevice {
  readonly device: GPUDevice;
  readonly adapterInfo: GPUAdapterInfo;
  readonly features: ReadonlySet<string>;
}

const HINT =
  'WebGPU needs Chrome/Edge 113+, Firefox 141+ or Safari 26+ over https or localhost; headless Chromium needs ' +
  '--enable-unsafe-webgpu, and Node needs the `webgpu` package with a Vulkan driver (VK_ICD_FILENAMES)';

/**
 * Requests an adapter and a device with the adapter's own buffer limits (the defaults are far below what a
 * ResNet-50 batch needs). Fails with a `WebGPUUnavailableError` that says why and what to try.
 */
export async function acquireDevice(options: AcquireDeviceOptions = {}): Promise<AcquiredDevice> {
  const gpu = options.gpu ?? (typeof navigator !== 'undefined' ? navigator.gpu : undefined);
  if (!gpu) {
    // Node has no navigator.gpu: its devices come from Dawn through webcnn/node, which users must be told about.
    if (isNode()) {
      throw new WebGPUUnavailableError(
        "no WebGPU in this environment (navigator.gpu is missing); in Node, use acquireNodeDevice() from 'webcnn/node' " +
          "(it needs the 'webgpu' package: npm install webgpu)",
      );
    }
    throw new WebGPUUnavailableError(`no WebGPU in this environment (navigator.gpu is missing); ${HINT}`);
  }
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference });
  } catch (e) {
    throw new WebGPUUnavailableError(`requestAdapter failed: ${(e as Error).message}; ${HINT}`);
  }
  if (!adapter) throw new WebGPUUnavailableError(`no WebGPU adapter found (GPU drivers missing or blocklisted?); ${HINT}`);
  const wanted: GPUFeatureName[] = [];
  if (options.timestamps !== false && adapter.features.has('timestamp-query')) wanted.push('timestamp-query');
  if (options.f16 !== false && adapter.features.has('shader-f16')) wanted.push('shader-f16');
  const device = await adapter.requestDevice({
    requiredFeatures: wanted,
    requiredLimits: {
      maxBufferSize: adapter.limits.maxBufferSize,
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxStorageBuffersPerShaderStage: Math.min(adapter.limits.maxStorageBuffersPerShaderStage, 10),
    },
  });
  return { device, adapterInfo: adapter.info, features: new Set(device.features) };
}

/** Node.js (or a runtime that presents itself as Node), where `navigator.gpu` never exists. */
function isNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string';
}

/** A device's adapter info, or undefined on implementations that predate `GPUDevice.adapterInfo`. */
export function deviceAdapterInfo(device: GPUDevice): GPUAdapterInfo | undefined {
  return (device as { adapterInfo?: GPUAdapterInfo }).adapterInfo;
}

/** Software rasterizers exposed as WebGPU adapters: a CPU runs the shaders (kernel defaults differ, lowering.ts). */
export function isSoftwareAdapter(info: Partial<GPUAdapterInfo> | undefined): boolean {
  if (!info) return false;
  if ((info as { isFallbackAdapter?: boolean }).isFallbackAdapter) return true;
  return /swiftshader|llvmpipe|lavapipe|softpipe|microsoft basic render|\bwarp\b/i.test(
    `${info.vendor ?? ''} ${info.architecture ?? ''} ${info.device ?? ''} ${info.description ?? ''}`,
  );
}
