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

  /** A storage buffer filled with `data` at creation (weights, biases). */
  createWithData(label: string, data: Float32Array | Uint16Array | Uint8Array, usage: GPUBufferUsageFlags): GPUBuffer {
    const buffer = this.create(label, data.byteLength, usage, true);
    const dst = new Uint8Array(buffer.getMappedRange());
    dst.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    buffer.unmap();
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
