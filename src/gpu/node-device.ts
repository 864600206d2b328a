import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { WebGPUUnavailableError } from '../errors.ts';
import type { AcquireDeviceOptions, AcquiredDevice } from './device.ts';
import { acquireDevice } from './device.ts';

/** Chromium's SwiftShader, the software Vulkan driver used on machines without a GPU. */
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/**
 * The `GPU` object of Dawn's Node binding (the `webgpu` package). With no Vulkan driver configured and
 * Chromium's SwiftShader present, it points Vulkan at SwiftShader so that CPU-only machines still run. On Linux
 * with `XDG_RUNTIME_DIR` unset it sets it to the temporary folder: Dawn probes for a Wayland display, and
 * libwayland would print "error: XDG_RUNTIME_DIR is invalid or not set" to stderr (headless machines, CI).
 *
 * `flags` are Dawn's options (`disable-dawn-features=...`); `WEBCNN_DAWN_OPTIONS` adds more, separated by
 * spaces or semicolons (e.g. `backend=vulkan`, `adapter=NVIDIA`, `enable-dawn-features=...`), for machines
 * whose default adapter is not the one wanted. By default Dawn picks the backend and adapter itself (Vulkan
 * on Linux).
 */
export async function nodeGpu(flags: string[] = []): Promise<GPU> {
  if (process.platform === 'linux' && !process.env.XDG_RUNTIME_DIR) process.env.XDG_RUNTIME_DIR = tmpdir();
  if (!process.env.VK_ICD_FILENAMES && !process.env.VK_DRIVER_FILES && process.env.WEBCNN_NO_SWIFTSHADER !== '1' &&
      existsSync(SWIFTSHADER_ICD) && !hasHardwareVulkan()) {
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  }
  const mod = await loadDawn();
  Object.assign(globalThis, mod.globals);
  const options = [...flags, ...dawnOptionsFromEnv()];
  const key = options.join('\n');
  let gpu = instances.get(key);
  if (!gpu) {
    gpu = mod.create(options);
    instances.set(key, gpu);
  }
  return gpu;
}

/** What webcnn uses of the `webgpu` package (typed here so that the published declarations do not import it). */
export interface DawnModule {
  create(options: string[]): GPU;
  readonly globals: object;
}

/**
 * Dawn's Node binding, the `webgpu` package: an optional peer dependency (native binaries that browser users do
 * not need; docs/dependencies.md), so it is imported only here, and its absence is a one-line error saying what to install.
 * `load` is the import itself, replaceable so that tests can make it fail.
 */
export async function loadDawn(load: () => Promise<DawnModule> = () => import('webgpu')): Promise<DawnModule> {
  try {
    return await load();
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    if (/cannot find (package|module) ['"]webgpu['"]/i.test(message)) {
      throw new WebGPUUnavailableError(
        "webcnn/node needs the 'webgpu' package (Dawn's WebGPU for Node), which is not installed: npm install webgpu",
        { cause: e },
      );
    }
    const firstLine = message.split('\n', 1)[0];
    throw new WebGPUUnavailableError(`the 'webgpu' package (Dawn's WebGPU for Node) failed to load: ${firstLine}`, { cause: e });
  }
}

/**
 * One Dawn instance per set of options, for the life of the process. Dawn's Node binding frees its native
 * instance when the object is garbage-collected, even while devices made from it still process events (the
 * process then aborts in InstanceBase::ProcessEvents), so instances are kept; and reused, since each one holds
 * native memory for the life of the process (measured: docs/reliability.md, Device loss and memory).
 */
const instances = new Map<string, GPU>();

/** `WEBCNN_DAWN_OPTIONS`, split on spaces and semicolons. */
export function dawnOptionsFromEnv(value = process.env.WEBCNN_DAWN_OPTIONS): string[] {
  return (value ?? '').split(/[\s;]+/).filter(Boolean);
}

/** A GPU device node (DRM render node or NVIDIA's) means a hardware Vulkan driver may serve; else fall back. */
function hasHardwareVulkan(): boolean {
  if (existsSync('/dev/nvidia0') || existsSync('/dev/nvidiactl')) return true;
  try {
    return readdirSync('/dev/dri').some((f) => f.startsWith('renderD'));
  } catch {
    return false;
  }
}

/** A device from Dawn's Node binding. */
export async function acquireNodeDevice(options: Omit<AcquireDeviceOptions, 'gpu'> & { flags?: string[] } = {}): Promise<AcquiredDevice> {
  return acquireDevice({ ...options, gpu: await nodeGpu(options.flags) });
}
