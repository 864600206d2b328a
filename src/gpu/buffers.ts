import { ResourceLimitError } from '../errors.ts';

/**
 * Creates and tracks every GPU buffer a compiled model owns, so that the engine can report its footprint
 * (count and bytes) and free all of it on dispose.
 */
export class BufferTracker {
  private readonly live = new Set<GPUBuffer>();
  private liveBytes = 0;
  private readonly others: { destroy(): void }[] = [];

  constructor(private readonly device: GPUDevice) {}

  get count(): number {
    return this.live.size;
  }

  get bytes(): number {
    return this.liveBytes;
  }

  create(label: string, size: number, usage: GPUBufferUsageFlags, mappedAtCreation = false): GPUBuffer {
    const limits = this.device.limits;
    const padded = Math.max(16, Math.ceil(size / 16) * 16);
    if (padded > limits.maxBufferSize) {
      throw new ResourceLimitError(`${label}: buffer of ${padded} bytes exceeds the device's maxBufferSize ${limits.maxBufferSize}`);
    }
    if ((usage & GPUBufferUsage.STORAGE) !== 0 && padded > limits.maxStorageBufferBindingSize) {
      throw new ResourceLimitError(
        `${label}: buffer of ${padded} bytes exceeds the device's maxStorageBufferBindingSize ${limits.maxStorageBufferBindingSize}`,
      );
    }
    const buffer = this.device.createBuffer({ label, size: padded, usage, mappedAtCreation });
    this.live.add(buffer);
    this.liveBytes += padded;
    return buffer;
  }

  /** A buffer filled with `data` at creation (uniforms). */
  createWithData(label: string, data: Float32Array | Uint16Array | Uint8Array, usage: GPUBufferUsageFlags): GPUBuffer {
    return this.createFilled(label, data.byteLength, usage, (mapped) => {
      new Uint8Array(mapped).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    });
  }

  /**
   * A buffer of `byteLength` bytes that `write` fills through its mapped range at creation (zero-filled, as
   * WebGPU maps new buffers), so the data needs no staging copy of its own (weights are packed right there).
   */
  createFilled(label: string, byteLength: number, usage: GPUBufferUsageFlags, write: (mapped: ArrayBuffer) => void): GPUBuffer {
    const buffer = this.create(label, byteLength, usage, true);
    try {
      write(buffer.getMappedRange());
    } finally {
      buffer.unmap();
    }
    return buffer;
  }

  /** Takes ownership of another destroyable GPU object (a query set) so `destroyAll` frees it too. */
  adopt(object: { destroy(): void }): void {
    this.others.push(object);
  }

  destroyAll(): void {
    for (const b of this.live) b.destroy();
    for (const o of this.others) o.destroy();
    this.live.clear();
    this.others.length = 0;
    this.liveBytes = 0;
  }
}
