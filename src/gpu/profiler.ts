/**
 * GPU-side timing with `timestamp-query`: one query pair per compute pass (`timestampWrites`), resolved once
 * per batch with `resolveQuerySet`, copied into a MAP_READ buffer and mapped asynchronously. The query set and
 * both buffers are made once; a batch is any number of passes up to `capacity`, read back with one `read`.
 *
 *   const profiler = new GpuProfiler(device, model.dispatchCount);
 *   const encoder = device.createCommandEncoder();
 *   model.encode(encoder, (i) => profiler.timestampWrites(i));
 *   profiler.resolve(encoder, model.dispatchCount);
 *   device.queue.submit([encoder.finish()]);
 *   const { durationsMs } = await profiler.read(model.dispatchCount);
 */

import { DisposedError, UnsupportedFeatureError } from '../errors.ts';

export interface ProfilerReadout {
  /** `end - begin` of each pair, in milliseconds (0 where the GPU reported end before begin). */
  readonly durationsMs: Float64Array;
  /** The raw begin / end timestamps in nanoseconds (as numbers, relative to the first begin of the batch). */
  readonly timestampsNs: Float64Array;
}

export class GpuProfiler {
  private readonly querySet: GPUQuerySet;
  private readonly resolveBuffer: GPUBuffer;
  private readonly readbackBuffer: GPUBuffer;
  private destroyed = false;

  /** Whether `device` was created with `timestamp-query` (request it with `acquireDevice({ timestamps: true })`). */
  static supported(device: GPUDevice): boolean {
    return device.features.has('timestamp-query');
  }

  /** `capacity`: the most passes (query pairs) one batch can time. */
  constructor(
    readonly device: GPUDevice,
    readonly capacity: number,
  ) {
    if (!GpuProfiler.supported(device)) throw new UnsupportedFeatureError('GpuProfiler needs a device created with the timestamp-query feature');
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`GpuProfiler capacity must be a positive integer, got ${capacity}`);
    const count = capacity * 2;
    this.querySet = device.createQuerySet({ label: 'profiler timestamps', type: 'timestamp', count });
    this.resolveBuffer = device.createBuffer({
      label: 'profiler resolve',
      size: count * 8,
      usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
    });
    this.readbackBuffer = device.createBuffer({
      label: 'profiler readback',
      size: count * 8,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
  }

  /** Timestamp writes for pass `index` of the batch: query `2 * index` at its start, `2 * index + 1` at its end. */
  timestampWrites(index: number): GPUComputePassTimestampWrites {
    this.checkIndex(index);
    return { querySet: this.querySet, beginningOfPassWriteIndex: 2 * index, endOfPassWriteIndex: 2 * index + 1 };
  }

  /** Only the start (`which = 'begin'`) or the end of pair `index`, for bracketing work with empty passes. */
  timestampWrite(index: number, which: 'begin' | 'end'): GPUComputePassTimestampWrites {
    this.checkIndex(index);
    return which === 'begin'
      ? { querySet: this.querySet, beginningOfPassWriteIndex: 2 * index }
      : { querySet: this.querySet, endOfPassWriteIndex: 2 * index + 1 };
  }

  /**
   * Records an empty compute pass that writes the start (or end) timestamp of pair `index`: with one before
   * and one after, any work in between (one many-dispatch pass, buffer copies) is timed as a whole.
   */
  mark(encoder: GPUCommandEncoder, index: number, which: 'begin' | 'end'): void {
    encoder.beginComputePass({ label: `profiler ${which} ${index}`, timestampWrites: this.timestampWrite(index, which) }).end();
  }

  /** Records the resolve of the first `pairs` pairs and the copy into the readback buffer; call once per batch. */
  resolve(encoder: GPUCommandEncoder, pairs: number): void {
    this.checkIndex(pairs - 1);
    encoder.resolveQuerySet(this.querySet, 0, pairs * 2, this.resolveBuffer, 0);
    encoder.copyBufferToBuffer(this.resolveBuffer, 0, this.readbackBuffer, 0, pairs * 16);
  }

  /** Maps the readback buffer (after the batch's submit) and returns the first `pairs` durations. */
  async read(pairs: number): Promise<ProfilerReadout> {
    this.checkIndex(pairs - 1);
    await this.readbackBuffer.mapAsync(GPUMapMode.READ, 0, pairs * 16);
    try {
      const raw = new BigUint64Array(this.readbackBuffer.getMappedRange(0, pairs * 16));
      return decodeTimestamps(raw, pairs);
    } finally {
      this.readbackBuffer.unmap();
    }
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.querySet.destroy();
    this.resolveBuffer.destroy();
    this.readbackBuffer.destroy();
  }

  private checkIndex(index: number): void {
    if (this.destroyed) throw new DisposedError('GpuProfiler was destroyed');
    if (!Number.isInteger(index) || index < 0 || index >= this.capacity) {
      throw new RangeError(`GpuProfiler: pair ${index} is outside its capacity of ${this.capacity}`);
    }
  }
}

/** Begin/end pairs (ns, as the GPU wrote them) -> durations in ms and timestamps relative to the first one. */
export function decodeTimestamps(raw: BigUint64Array, pairs: number): ProfilerReadout {
  const durationsMs = new Float64Array(pairs);
  const timestampsNs = new Float64Array(pairs * 2);
  const origin = raw[0];
  for (let i = 0; i < pairs * 2; i++) timestampsNs[i] = Number(raw[i] - origin);
  for (let i = 0; i < pairs; i++) {
    const begin = raw[2 * i];
    const end = raw[2 * i + 1];
    durationsMs[i] = end > begin ? Number(end - begin) / 1e6 : 0;
  }
  return { durationsMs, timestampsNs };
}

/**
 * The smallest nonzero step between distinct timestamps, in ms: the timer's resolution as observed (Chrome
 * quantizes timestamps to 100 µs unless `--enable-webgpu-developer-features` is on). Infinity for none.
 */
export function observedResolutionMs(timestampsNs: ArrayLike<number>): number {
  const sorted = Float64Array.from(timestampsNs).sort();
  let best = Infinity;
  for (let i = 1; i < sorted.length; i++) {
    const d = sorted[i] - sorted[i - 1];
    if (d > 0 && d < best) best = d;
  }
  return best / 1e6;
}
