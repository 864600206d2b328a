import type { KernelProgram } from '../../shaders/common.ts';
import { GpuError } from '../errors.ts';

/**
 * One compute pipeline per kernel key and device, created asynchronously so that compiling a model never
 * blocks the page, and shared by every model on that device.
 */
export class PipelineCache {
  private readonly pipelines = new Map<string, Promise<GPUComputePipeline>>();

  constructor(private readonly device: GPUDevice) {}

  get size(): number {
    return this.pipelines.size;
  }

  get(program: KernelProgram): Promise<GPUComputePipeline> {
    // Program keys already name non-f32 precisions; the precision is added here too so that no two storage
    // formats can ever share a pipeline.
    const key = `${program.key}|${program.precision ?? 'f32'}`;
    let pending = this.pipelines.get(key);
    if (!pending) {
      pending = this.create(program);
      this.pipelines.set(key, pending);
      // A failed compile must not poison the cache for a later retry.
      pending.catch(() => this.pipelines.delete(key));
    }
    return pending;
  }

  private async create(program: KernelProgram): Promise<GPUComputePipeline> {
    const module = this.device.createShaderModule({ label: program.key, code: program.code });
    const descriptor: GPUComputePipelineDescriptor = { label: program.key, layout: 'auto', compute: { module, entryPoint: 'main' } };
    try {
      return await this.device.createComputePipelineAsync(descriptor);
    } catch (e) {
      const info = await module.getCompilationInfo().catch(() => undefined);
      const firstError = info?.messages.find((m) => m.type === 'error');
      const detail = firstError ? `line ${firstError.lineNum}: ${firstError.message}` : (e as Error).message;
      throw new GpuError(`kernel ${program.key} failed to compile: ${detail}`);
    }
  }
}

const caches = new WeakMap<GPUDevice, PipelineCache>();

/** The device's shared cache. */
export function pipelineCacheFor(device: GPUDevice): PipelineCache {
  let cache = caches.get(device);
  if (!cache) {
    cache = new PipelineCache(device);
    caches.set(device, cache);
  }
  return cache;
}
